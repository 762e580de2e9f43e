import Logging
import StreamRecCore

/// A setting's value as a config file or the environment spells it.
public enum ConfigValue: Sendable, Equatable {
    case scalar(String)
    case list([String])
}

/// One setting, named alike everywhere: `data-dir` in the config file,
/// `STREAMREC_DATA_DIR` in the environment, `--data-dir` on the command line.
public struct ConfigKey: Sendable {
    public let name: String
    let set: @Sendable (inout DaemonConfig, ConfigValue) throws -> Void
    let get: @Sendable (DaemonConfig) -> String

    public var environmentName: String { "STREAMREC_" + name.uppercased().replacingOccurrences(of: "-", with: "_") }

    /// A single value parsed by its type's `init?(String)`.
    static func scalar<T: LosslessStringConvertible & Sendable>(
        _ name: String, _ path: WritableKeyPath<DaemonConfig, T> & Sendable
    ) -> ConfigKey {
        ConfigKey(name: name, set: { config, value in
            let text = try value.scalar(name)
            guard let parsed = T(text) else { throw DaemonError("config key '\(name)': cannot read '\(text)' as \(T.self)") }
            config[keyPath: path] = parsed
        }, get: { "\($0[keyPath: path])" })
    }

    /// One of a fixed set of names.
    static func choice<T: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ path: WritableKeyPath<DaemonConfig, T> & Sendable
    ) -> ConfigKey where T.RawValue == String {
        ConfigKey(name: name, set: { config, value in
            let text = try value.scalar(name)
            guard let parsed = T(rawValue: text) else {
                throw DaemonError("config key '\(name)': '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config[keyPath: path] = parsed
        }, get: { $0[keyPath: path].rawValue })
    }

    /// A list of CURVE public keys, each given as a key or a key file.
    static func keyList(_ name: String, _ path: WritableKeyPath<DaemonConfig, [String]> & Sendable) -> ConfigKey {
        ConfigKey(name: name, set: { config, value in
            let items: [String] = switch value {
            case .list(let items): items
            case .scalar(let text): text.split(separator: ",").map(String.init)
            }
            config[keyPath: path] = try items.flatMap { try CurveKeyText.keys($0) }
        }, get: { "[" + $0[keyPath: path].joined(separator: ", ") + "]" })
    }
}

extension ConfigValue {
    func scalar(_ key: String) throws -> String {
        guard case .scalar(let text) = self else { throw DaemonError("config key '\(key)' takes one value, not a list") }
        return text
    }
}
