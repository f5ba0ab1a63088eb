extension BGRImage {
    /// Grey-level statistics inside a box (clipped to the image), for the infrared liveness cue: the mean
    /// (0–255), the standard deviation (contrast) and the fraction of pixels at 250 or more. Grey is the
    /// channel mean, so a near-infrared frame delivered as BGR with equal channels reads as itself.
    /// - Returns: `nil` when the box does not overlap the image.
    public func greyStatistics(in box: FaceBox) -> (mean: Double, deviation: Double, saturated: Double)? {
        let x0 = max(0, Int(box.x.rounded(.down))), y0 = max(0, Int(box.y.rounded(.down)))
        let x1 = min(width, Int((box.x + box.width).rounded(.up))), y1 = min(height, Int((box.y + box.height).rounded(.up)))
        guard x1 > x0, y1 > y0 else { return nil }
        var sum = 0.0, squares = 0.0, saturated = 0
        pixels.withUnsafeBufferPointer { buffer in
            for y in y0..<y1 {
                var i = y * stride + 3 * x0
                for _ in x0..<x1 {
                    let grey = (Int(buffer[i]) + Int(buffer[i + 1]) + Int(buffer[i + 2])) / 3
                    sum += Double(grey)
                    squares += Double(grey * grey)
                    if grey >= 250 { saturated += 1 }
                    i += 3
                }
            }
        }
        let count = Double((x1 - x0) * (y1 - y0))
        let mean = sum / count
        return (mean, max(0, squares / count - mean * mean).squareRoot(), Double(saturated) / count)
    }
}
