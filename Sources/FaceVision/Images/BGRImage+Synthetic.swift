#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#endif

/// Image transforms that build the presentation-attack evaluation set (`optgate face liveness-score`) from
/// real photos: a flat print or screen moved in front of the camera, and the near-infrared frames a screen,
/// a print or a live face give. Evaluation only; the recogniser never alters frames.
extension BGRImage {
    /// The image seen through a plane homography: `matrix` (3×3, row-major) maps a point of this image to
    /// the output; the output (`width` × `height`) is sampled back bilinearly, outside filled with `fill`.
    /// - Returns: `nil` when the matrix cannot be inverted.
    public func warped(by matrix: [Double], width outWidth: Int, height outHeight: Int, fill: UInt8 = 90) -> BGRImage? {
        guard matrix.count == 9, let inv = Self.invert(matrix) else { return nil }
        var out = [UInt8](repeating: fill, count: outWidth * outHeight * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let fx = Double(x), fy = Double(y)
                        let w = inv[6] * fx + inv[7] * fy + inv[8]
                        guard abs(w) > 1e-12 else { continue }
                        let sx = (inv[0] * fx + inv[1] * fy + inv[2]) / w, sy = (inv[3] * fx + inv[4] * fy + inv[5]) / w
                        guard sx >= 0, sy >= 0, sx < Double(width - 1), sy < Double(height - 1) else { continue }
                        let ix = Int(sx), iy = Int(sy)
                        let ax = sx - Double(ix), ay = sy - Double(iy)
                        let p = iy * stride + 3 * ix, q = p + stride
                        let o = (y * outWidth + x) * 3
                        for c in 0..<3 {
                            let top = Double(src[p + c]) * (1 - ax) + Double(src[p + 3 + c]) * ax
                            let bottom = Double(src[q + c]) * (1 - ax) + Double(src[q + 3 + c]) * ax
                            dst[o + c] = UInt8(max(0, min(255, (top * (1 - ay) + bottom * ay).rounded())))
                        }
                    }
                }
            }
        }
        return try? BGRImage(width: outWidth, height: outHeight, pixels: out)
    }

    /// A screen or a glossy print as the camera sees it: gamma, a moiré of the camera's sampling against the
    /// display's pixel grid (a sinusoidal beat of `moire` amplitude, 0–1, and `period` pixels), and noise.
    public func screenLike(gamma: Double, moire: Double, period: Double, angle: Double, seed: UInt64) -> BGRImage {
        var out = self
        var state = seed | 1
        let c = cos(angle), s = sin(angle)
        var lut = [Double](repeating: 0, count: 256)
        for v in 0..<256 { lut[v] = 255 * pow(Double(v) / 255, gamma) }
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for y in 0..<height {
                for x in 0..<width {
                    let beat = 1 + moire * sin(2 * .pi * (Double(x) * c + Double(y) * s) / period)
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    let noise = Double(state % 9) - 4
                    let i = y * stride + 3 * x
                    for k in 0..<3 { dst[i + k] = UInt8(max(0, min(255, (lut[Int(dst[i + k])] * beat + noise).rounded()))) }
                }
            }
        }
        return out
    }

    /// What a near-infrared camera beside the colour camera shows of this scene.
    public enum InfraredScene: Sendable {
        /// A live face under 850 nm light: the grey image, skin brighter and flatter in colour than in visible
        /// light (red weighted up), a gamma lift and sensor noise.
        case live
        /// A phone or tablet screen: it emits no near-infrared image; only a faint reflection of the illuminator.
        case screen
        /// A dye print: under IR the inks fade, leaving a bright, almost uniform sheet.
        case washedOutPrint
    }

    /// The near-infrared frame of this colour frame's scene (grey, replicated to three channels).
    public func infrared(_ scene: InfraredScene, seed: UInt64) -> BGRImage {
        var out = self
        var state = seed | 1
        var mean = 0.0
        if scene == .washedOutPrint {
            var sum = 0
            for y in 0..<height { for x in 0..<width { let i = y * stride + 3 * x; sum += (Int(pixels[i]) + Int(pixels[i + 1]) + 2 * Int(pixels[i + 2])) / 4 } }
            mean = Double(sum) / Double(width * height)
        }
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * stride + 3 * x
                    let grey = (Double(dst[i]) + Double(dst[i + 1]) + 2 * Double(dst[i + 2])) / 4
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    let noise = Double(state % 7) - 3
                    let value: Double = switch scene {
                    case .live: 255 * pow(grey / 255, 0.8) + noise
                    case .screen: 6 + grey * 0.04 + noise
                    case .washedOutPrint: 215 + (grey - mean) * 0.08 + noise
                    }
                    let v = UInt8(max(0, min(255, value.rounded())))
                    dst[i] = v; dst[i + 1] = v; dst[i + 2] = v
                }
            }
        }
        return out
    }

    static func invert(_ m: [Double]) -> [Double]? {
        func minor(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Double { m[a] * m[b] - m[c] * m[d] }
        var adj = [Double](repeating: 0, count: 9)
        adj[0] = minor(4, 8, 5, 7); adj[1] = minor(2, 7, 1, 8); adj[2] = minor(1, 5, 2, 4)
        adj[3] = minor(5, 6, 3, 8); adj[4] = minor(0, 8, 2, 6); adj[5] = minor(2, 3, 0, 5)
        adj[6] = minor(3, 7, 4, 6); adj[7] = minor(1, 6, 0, 7); adj[8] = minor(0, 4, 1, 3)
        let det: Double = m[0] * adj[0] + m[1] * adj[3] + m[2] * adj[6]
        guard abs(det) > 1e-12 else { return nil }
        return adj.map { $0 / det }
    }
}
