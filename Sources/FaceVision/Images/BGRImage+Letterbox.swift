extension BGRImage {
    /// Scales the image (bilinear, aspect ratio kept) into a `width` x `height` canvas, top-left aligned and padded
    /// with black, the way ``CenterFaceDetector`` feeds its network.
    /// - Returns: the canvas and the factor `k` (canvas pixel = image pixel * k).
    public func letterboxed(width targetWidth: Int, height targetHeight: Int) -> (image: BGRImage, scale: Float) {
        precondition(targetWidth > 0 && targetHeight > 0, "letterbox size must be positive")
        let k = min(Float(targetWidth) / Float(width), Float(targetHeight) / Float(height))
        let scaledWidth = max(1, min(targetWidth, Int((Float(width) * k).rounded())))
        let scaledHeight = max(1, min(targetHeight, Int((Float(height) * k).rounded())))
        var out = BGRImage(width: targetWidth, height: targetHeight)
        let sx = Float(width) / Float(scaledWidth)
        let sy = Float(height) / Float(scaledHeight)
        let outStride = out.stride
        out.pixels.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<scaledHeight {
                    let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
                    let y0 = min(Int(fy), height - 1)
                    let y1 = min(y0 + 1, height - 1)
                    let wy = fy - Float(y0)
                    for x in 0..<scaledWidth {
                        let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
                        let x0 = min(Int(fx), width - 1)
                        let x1 = min(x0 + 1, width - 1)
                        let wx = fx - Float(x0)
                        for c in 0..<3 {
                            let p00 = Float(src[y0 * stride + 3 * x0 + c])
                            let p01 = Float(src[y0 * stride + 3 * x1 + c])
                            let p10 = Float(src[y1 * stride + 3 * x0 + c])
                            let p11 = Float(src[y1 * stride + 3 * x1 + c])
                            let top = p00 + (p01 - p00) * wx
                            let bottom = p10 + (p11 - p10) * wx
                            dst[y * outStride + 3 * x + c] = UInt8(min(255, max(0, top + (bottom - top) * wy + 0.5)))
                        }
                    }
                }
            }
        }
        return (out, k)
    }
}
