import FaceVision
import Testing

@Suite("BGR images")
struct ImageTests {
    @Test func yuyvGreyAndColourConvert() throws {
        // Two pixels: Y=16 (black) and Y=235 (white), neutral chroma; then a saturated red pair.
        let yuyv: [UInt8] = [16, 128, 235, 128, 81, 90, 81, 240]
        let image = try BGRImage(yuyv: yuyv, width: 4, height: 1)
        #expect(image[0, 0] == (0, 0, 0))
        #expect(image[1, 0] == (255, 255, 255))
        let red = image[2, 0]
        #expect(red.red > 240 && red.green < 15 && red.blue < 15)
    }

    @Test func yuyvRejectsBadInput() {
        #expect(throws: ImageError.oddYUYVWidth(3)) {
            try BGRImage(yuyv: [UInt8](repeating: 0, count: 6), width: 3, height: 1)
        }
        #expect(throws: ImageError.bufferTooSmall(expected: 16, actual: 8)) {
            try BGRImage(yuyv: [UInt8](repeating: 0, count: 8), width: 4, height: 2)
        }
    }

    @Test func letterboxKeepsAspectRatio() {
        let (boxed, k) = BGRImage(width: 1280, height: 886, red: 255).letterboxed(width: 640, height: 480)
        #expect(boxed.width == 640 && boxed.height == 480)
        #expect(k == 0.5)
        #expect(boxed[639, 442].red == 255)
        #expect(boxed[639, 443].red == 0)  // padding below 886 * 0.5 = 443 rows
    }

    @Test func landmarkGeometry() {
        let level = FaceObservation(
            box: FaceBox(x: 0, y: 0, width: 100, height: 100),
            landmarks: FaceLandmarks(
                rightEye: SIMD2(30, 40),
                leftEye: SIMD2(70, 40),
                nose: SIMD2(50, 60),
                rightMouthCorner: SIMD2(35, 80),
                leftMouthCorner: SIMD2(65, 80)
            ),
            score: 0.9
        )
        #expect(level.interOcularDistance == 40)
        #expect(abs(level.rollDegrees) < 0.01)
        #expect(abs(level.yawDegrees) < 0.01)
        var turned = level
        turned.landmarks.nose = SIMD2(60, 60)
        #expect(turned.yawDegrees > 20)
        var tilted = level
        tilted.landmarks.leftEye = SIMD2(70, 80)
        #expect(abs(tilted.rollDegrees - 45) < 0.01)
    }
}
