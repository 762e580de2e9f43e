import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import ZeroMQ

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a CURVE key pair for the daemon or for a client.",
        discussion: """
        Without --out, prints both keys as YAML (`public-key:` and `secret-key:`). With --out NAME, \
        writes NAME.pub (the public key) and NAME.key (the secret key, mode 0600). Give the daemon its \
        secret (curve-secret-key) and each client the daemon's public key (--server-key); put a \
        client's public key on the daemon's producer-keys or client-keys list and give the client its \
        secret (--client-secret). Every option that takes a key also takes such a file.
        """
    )

    @Option(help: ArgumentHelp("Write NAME.pub and NAME.key instead of printing.", valueName: "name"))
    var out: String?

    func run() throws {
        let pair = try CurveKeyPair.generate()
        guard let out else {
            print("public-key: \(pair.publicKey)\nsecret-key: \(pair.secretKey)")
            return
        }
        try write(pair.secretKey, to: out + ".key", mode: 0o600)
        try write(pair.publicKey, to: out + ".pub", mode: 0o644)
        print("wrote \(out).key (secret, keep it private) and \(out).pub (public): \(pair.publicKey)")
    }

    /// Creates `path` with `mode` from the start (O_EXCL: never over an existing key, never briefly readable).
    private func write(_ key: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw ValidationError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let line = Array((key + "\n").utf8)
        guard Glibc.write(fd, line, line.count) == line.count else { throw ValidationError("cannot write \(path)") }
    }
}
