/// Why a model could not be loaded or run.
public enum FaceVisionError: Error, Equatable, CustomStringConvertible {
    /// No file at `path`.
    case modelMissing(path: String)
    /// The file exists but cannot be read (`errno` text in `reason`).
    case modelUnreadable(path: String, reason: String)
    /// OpenCV or dlib could not parse the file (wrong or corrupt model).
    case modelInvalid(path: String, message: String)
    /// A parameter was out of range; `message` says which.
    case invalidArgument(message: String)
    /// OpenCV or dlib failed while running; `message` is their text.
    case inferenceFailed(message: String)

    public var description: String {
        switch self {
        case .modelMissing(let path): "the model file \(path) is missing"
        case .modelUnreadable(let path, let reason): "the model file \(path) cannot be read: \(reason)"
        case .modelInvalid(let path, let message): "the model file \(path) is not a usable model: \(message)"
        case .invalidArgument(let message): "invalid argument: \(message)"
        case .inferenceFailed(let message): "face inference failed: \(message)"
        }
    }
}
