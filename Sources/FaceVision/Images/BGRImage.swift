/// An 8-bit BGR image in one contiguous buffer: `height` rows of `stride` bytes, each row starting with
/// `width` pixels of 3 bytes (blue, green, red). The layout OpenCV calls `CV_8UC3`.
public struct BGRImage: Sendable, Equatable {
    /// Width in pixels (> 0).
    public let width: Int
    /// Height in pixels (> 0).
    public let height: Int
    /// Bytes from the start of one row to the next (>= 3 * width).
    public let stride: Int
    /// `height * stride` bytes.
    public internal(set) var pixels: [UInt8]

    /// Wraps an existing buffer.
    /// - Throws: ``ImageError`` when the dimensions are not positive, the stride is below `3 * width`, or
    ///   `pixels` is shorter than `height * stride`.
    public init(width: Int, height: Int, stride: Int? = nil, pixels: [UInt8]) throws(ImageError) {
        let stride = stride ?? width * 3
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        guard stride >= width * 3 else { throw .strideTooSmall(stride: stride, width: width) }
        let (needed, overflow) = height.multipliedReportingOverflow(by: stride)
        guard !overflow, pixels.count >= needed else {
            throw .bufferTooSmall(expected: overflow ? .max : needed, actual: pixels.count)
        }
        self.width = width
        self.height = height
        self.stride = stride
        self.pixels = pixels
    }

    /// An image filled with one colour, rows packed (`stride == 3 * width`).
    /// - Precondition: `width > 0` and `height > 0`.
    public init(width: Int, height: Int, blue: UInt8 = 0, green: UInt8 = 0, red: UInt8 = 0) {
        precondition(width > 0 && height > 0, "BGRImage needs positive dimensions")
        self.width = width
        self.height = height
        self.stride = width * 3
        var row = [UInt8](repeating: 0, count: width * 3)
        for x in 0..<width {
            row[3 * x] = blue
            row[3 * x + 1] = green
            row[3 * x + 2] = red
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * 3 * height)
        for _ in 0..<height { pixels.append(contentsOf: row) }
        self.pixels = pixels
    }

    /// Reads the pixel at (x, y) as (blue, green, red).
    public subscript(x: Int, y: Int) -> (blue: UInt8, green: UInt8, red: UInt8) {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel outside the image")
            let i = y * stride + 3 * x
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel outside the image")
            let i = y * stride + 3 * x
            pixels[i] = newValue.blue
            pixels[i + 1] = newValue.green
            pixels[i + 2] = newValue.red
        }
    }

    /// Calls `body` with a pointer to the first byte, for the C functions that read the image in place.
    func withUnsafeBytes<R, E: Error>(_ body: (UnsafePointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = pixels.withUnsafeBufferPointer { buffer in
            do throws(E) { return .success(try body(buffer.baseAddress!)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Why a ``BGRImage`` could not be made.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    case invalidDimensions(width: Int, height: Int)
    case strideTooSmall(stride: Int, width: Int)
    case bufferTooSmall(expected: Int, actual: Int)
    /// YUYV packs two pixels in four bytes, so the width must be even.
    case oddYUYVWidth(Int)

    public var description: String {
        switch self {
        case .invalidDimensions(let width, let height):
            "the image size \(width)x\(height) is not positive"
        case .strideTooSmall(let stride, let width):
            "the row stride \(stride) is smaller than the \(width) pixels of a row need"
        case .bufferTooSmall(let expected, let actual):
            "the pixel buffer has \(actual) bytes, the image needs \(expected)"
        case .oddYUYVWidth(let width):
            "a YUYV image needs an even width, not \(width)"
        }
    }
}
