/// Why a JPEG could not be decoded or encoded.
public enum JPEGError: Error, Equatable, CustomStringConvertible {
    /// Zero bytes were given.
    case empty
    /// The data does not start with the JPEG start-of-image marker (FF D8).
    case notJPEG
    /// The data ends before the image does (libjpeg: "Premature end of JPEG file").
    case truncated
    /// The header declares more pixels than the decoder accepts; nothing was allocated.
    case tooLarge(width: Int, height: Int, maximumPixels: Int)
    /// The image is stored in a colour space the decoder does not convert (CMYK or YCCK, as print workflows write).
    case unsupportedColourSpace(String)
    /// libjpeg-turbo rejected the data; `message` is its own text.
    case corrupt(message: String)
    /// libjpeg-turbo could not start (`tjInitDecompress` / `tjInitCompress` returned NULL).
    case libraryUnavailable(message: String)
    /// Encoding failed; `message` is libjpeg-turbo's text.
    case encodingFailed(message: String)

    public var description: String {
        switch self {
        case .empty: "the JPEG data is empty"
        case .notJPEG: "the data is not a JPEG (no FF D8 start-of-image marker)"
        case .truncated: "the JPEG is truncated"
        case .tooLarge(let width, let height, let maximumPixels):
            "the JPEG is \(width)x\(height), more than the \(maximumPixels) pixels allowed"
        case .unsupportedColourSpace(let space):
            "the JPEG uses the \(space) colour space, which is not supported; save it as an RGB (sRGB) JPEG"
        case .corrupt(let message): "the JPEG is corrupt: \(message)"
        case .libraryUnavailable(let message): "libjpeg-turbo could not be initialised: \(message)"
        case .encodingFailed(let message): "the image could not be encoded as JPEG: \(message)"
        }
    }
}
