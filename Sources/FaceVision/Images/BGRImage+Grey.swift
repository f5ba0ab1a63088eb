extension BGRImage {
    /// Converts an 8-bit greyscale frame (V4L2 `V4L2_PIX_FMT_GREY`, what near-infrared cameras commonly deliver)
    /// to BGR with the grey value in all three channels.
    /// - Parameters:
    ///   - grey: `height` rows of `stride` bytes.
    ///   - stride: bytes per row; `nil` means `width`.
    /// - Throws: ``ImageError`` when the dimensions are not positive or the buffer is too short.
    public init(grey: some Collection<UInt8>, width: Int, height: Int, stride: Int? = nil) throws(ImageError) {
        let sourceStride = stride ?? width
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        guard sourceStride >= width else { throw .strideTooSmall(stride: sourceStride, width: width) }
        let (needed, overflow) = height.multipliedReportingOverflow(by: sourceStride)
        guard !overflow, grey.count >= needed else {
            throw .bufferTooSmall(expected: overflow ? .max : needed, actual: grey.count)
        }
        let source = Array(grey)
        var out = [UInt8](repeating: 0, count: width * 3 * height)
        out.withUnsafeMutableBufferPointer { dst in
            source.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    let s = y * sourceStride
                    let d = y * width * 3
                    for x in 0..<width {
                        let v = src[s + x]
                        dst[d + 3 * x] = v
                        dst[d + 3 * x + 1] = v
                        dst[d + 3 * x + 2] = v
                    }
                }
            }
        }
        try self.init(width: width, height: height, pixels: out)
    }
}
