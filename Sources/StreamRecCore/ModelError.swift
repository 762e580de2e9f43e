/// Why a model or snapshot could not be built.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case duplicateID(String)
    case invalidSettings(String)

    public var description: String {
        switch self {
        case .duplicateID(let id): return "the ID \"\(id)\" appears twice"
        case .invalidSettings(let why): return "invalid model settings: \(why)"
        }
    }
}
