import Foundation

/// Why a reader cannot read, as a sentence.
public enum ReaderError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(String, errno: Int32)
    case cannotGrab(String, errno: Int32)
    case readFailed(String, errno: Int32)
    case ended(String)
    /// A PC/SC call failed; `code` is the `SCARD_*` result.
    case pcsc(String, code: Int, text: String)
    /// GET DATA UID (`FF CA 00 00 00`) did not return a usable UID.
    case badUIDResponse(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code):
            "cannot open \(path): \(String(cString: strerror(code)))"
        case .cannotGrab(let path, let code):
            code == EBUSY
                ? "cannot grab \(path) exclusively (EVIOCGRAB): another program holds it"
                : "cannot grab \(path) exclusively (EVIOCGRAB): \(String(cString: strerror(code)))"
        case .readFailed(let path, let code):
            "reading \(path) failed: \(String(cString: strerror(code)))"
        case .ended(let path):
            "\(path) ended (the device or the writer went away)"
        case .pcsc(let call, let code, let text):
            "\(call) failed: \(text) (0x\(String(UInt32(truncatingIfNeeded: code), radix: 16, uppercase: true)))"
        case .badUIDResponse(let problem):
            "GET DATA UID (FF CA 00 00 00) failed: \(problem)"
        }
    }
}
