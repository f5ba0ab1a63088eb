internal import CFaceVision

extension BGRImage {
    /// Variance of the Laplacian of the grey pixels inside `box` (clipped to the image): a cheap focus measure,
    /// larger = sharper. Comparable only between crops of similar size and camera. The corresponding C function is
    /// `cface_sharpness`.
    /// - Throws: ``FaceVisionError/invalidArgument(message:)`` when the box overlaps the image by less than 3x3.
    public func sharpness(in box: FaceBox) throws(FaceVisionError) -> Double {
        var value: Double = 0
        let cBox: [Float] = [box.x, box.y, box.width, box.height]
        _ = try withUnsafeBytes { pixels throws(FaceVisionError) in
            try CFace.call { error, size in
                cface_sharpness(pixels, Int32(width), Int32(height), Int32(stride), cBox, &value, error, size)
            }
        }
        return value
    }
}
