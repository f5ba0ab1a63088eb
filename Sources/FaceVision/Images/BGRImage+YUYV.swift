extension BGRImage {
    /// Converts a YUYV 4:2:2 frame (V4L2 `V4L2_PIX_FMT_YUYV`: Y0 U Y1 V per two pixels) to BGR with the
    /// BT.601 limited-range matrix most USB cameras use.
    /// - Parameters:
    ///   - yuyv: `height` rows of `stride` bytes.
    ///   - stride: bytes per row; `nil` means `2 * width`.
    /// - Throws: ``ImageError`` when the width is odd or the buffer is too short.
    public init(yuyv: some Collection<UInt8>, width: Int, height: Int, stride: Int? = nil) throws(ImageError) {
        let sourceStride = stride ?? width * 2
        guard width > 0, height > 0 else { throw .invalidDimensions(width: width, height: height) }
        guard width % 2 == 0 else { throw .oddYUYVWidth(width) }
        guard sourceStride >= width * 2 else { throw .strideTooSmall(stride: sourceStride, width: width) }
        let (needed, overflow) = height.multipliedReportingOverflow(by: sourceStride)
        guard !overflow, yuyv.count >= needed else {
            throw .bufferTooSmall(expected: overflow ? .max : needed, actual: yuyv.count)
        }
        let source = Array(yuyv)
        var out = [UInt8](repeating: 0, count: width * 3 * height)
        @inline(__always) func clamp(_ v: Int32) -> UInt8 { UInt8(truncatingIfNeeded: max(0, min(255, v))) }
        out.withUnsafeMutableBufferPointer { dst in
            source.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    let s = y * sourceStride
                    let d = y * width * 3
                    for pair in 0..<(width / 2) {
                        let i = s + pair * 4
                        let u = Int32(src[i + 1]) - 128
                        let v = Int32(src[i + 3]) - 128
                        // BT.601 in fixed point (<< 8): R = 1.164(Y-16) + 1.596V,
                        // G = 1.164(Y-16) - 0.392U - 0.813V, B = 1.164(Y-16) + 2.017U
                        let rd = 409 * v + 128
                        let gd = -100 * u - 208 * v + 128
                        let bd = 516 * u + 128
                        for k in 0..<2 {
                            let c = 298 * (Int32(src[i + 2 * k]) - 16)
                            let o = d + (pair * 2 + k) * 3
                            dst[o] = clamp((c + bd) >> 8)
                            dst[o + 1] = clamp((c + gd) >> 8)
                            dst[o + 2] = clamp((c + rd) >> 8)
                        }
                    }
                }
            }
        }
        try self.init(width: width, height: height, pixels: out)
    }
}
