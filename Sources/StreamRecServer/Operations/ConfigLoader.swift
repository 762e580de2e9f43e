import Foundation
import Yams

/// Builds a `DaemonConfig` from its layers. Precedence, lowest first:
/// built-in defaults, the config file, `STREAMREC_*` environment variables,
/// then command-line flags (applied by the caller on the result).
/// A key no layer knows is an error naming it, so a typo never passes silently.
public enum ConfigLoader {
    /// Names the config file when `--config` is not given.
    public static let fileVariable = "STREAMREC_CONFIG"

    /// Defaults, then `file` (if any), then `environment`.
    public static func load(file: String?, environment: [String: String]) throws -> DaemonConfig {
        var config = DaemonConfig()
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                let reason = access(file, R_OK) == 0 ? "not UTF-8 text" : String(cString: strerror(errno))
                throw DaemonError("cannot read config file \(file): \(reason)")
            }
            try apply(try parse(yaml: text, source: file), to: &config, source: file)
        }
        let prefix = "STREAMREC_"
        let byVariable = Dictionary(uniqueKeysWithValues: DaemonConfig.keys.map { ($0.environmentName, $0.name) })
        var fromEnvironment: [(String, ConfigValue)] = []
        for (variable, value) in environment.sorted(by: { $0.key < $1.key })
        where variable.hasPrefix(prefix) && variable != fileVariable {
            guard let name = byVariable[variable] else {
                // Compared without the shared prefix, which would make any two names look alike.
                let meant = nearest(to: String(variable.dropFirst(prefix.count)), among: byVariable.keys.map { String($0.dropFirst(prefix.count)) })
                throw DaemonError("unknown environment variable \(variable)\(meant.map { " (did you mean \(prefix)\($0)?)" } ?? "")")
            }
            fromEnvironment.append((name, .scalar(value)))
        }
        try apply(fromEnvironment, to: &config, source: "the environment")
        return config
    }

    /// The top-level keys of a YAML mapping, values as scalars or lists of scalars.
    static func parse(yaml text: String, source: String) throws -> [(String, ConfigValue)] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw DaemonError("\(source): not valid YAML: \(error)") }
        guard let root else { return [] }  // an empty file
        guard case .mapping(let mapping) = root else { throw DaemonError("\(source): expected a mapping of keys to values") }
        return try mapping.map { key, value in
            guard let name = key.string else { throw DaemonError("\(source): a key is not text") }
            switch value {
            case .scalar(let scalar): return (name, .scalar(scalar.string))
            case .sequence(let items):
                return (name, .list(try items.map {
                    guard let item = $0.string else { throw DaemonError("\(source): key '\(name)' lists something that is not text") }
                    return item
                }))
            case .mapping: throw DaemonError("\(source): key '\(name)' holds a mapping; settings are flat")
            }
        }
    }

    /// Applies `values` from `source` (named in errors) over `config`.
    public static func apply(_ values: [(String, ConfigValue)], to config: inout DaemonConfig, source: String) throws {
        let known = Dictionary(uniqueKeysWithValues: DaemonConfig.keys.map { ($0.name, $0) })
        for (name, value) in values {
            guard let key = known[name] else {
                let names = DaemonConfig.keys.map(\.name)
                let meant = nearest(to: name, among: names).map { " (did you mean \($0)?)" } ?? ""
                throw DaemonError("\(source): unknown key '\(name)'\(meant); known keys: \(names.joined(separator: ", "))")
            }
            do { try key.set(&config, value) } catch { throw DaemonError("\(source): \(error)") }
        }
    }

    /// The known name nearest to a mistyped one, when it is a typo away
    /// (edit distance at most a third of its length, and at least 1
    /// allowed); nil otherwise.
    static func nearest(to name: String, among known: [String]) -> String? {
        let typed = Array(name.utf8)
        let scored = known.map { ($0, editDistance(typed, Array($0.utf8))) }
        guard let (best, distance) = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }),
              distance <= max(1, best.utf8.count / 3) else { return nil }
        return best
    }

    /// Levenshtein distance: insertions, deletions and substitutions of bytes.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
