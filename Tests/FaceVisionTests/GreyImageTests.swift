import FaceVision
import Testing

/// 8-bit grey frames (V4L2 `GREY`), what near-infrared cameras stream, become BGR images for the detector.
@Suite("Grey frames")
struct GreyImageTests {
    @Test func greyFramesBecomeBGRWithTheValueInEveryChannelAndRowPaddingIsSkipped() throws {
        // 3×2 pixels in rows of 4 bytes (one byte of padding per row, as a driver's bytesperline may add).
        let grey: [UInt8] = [0, 128, 255, 99, 10, 20, 30, 99]
        let image = try BGRImage(grey: grey, width: 3, height: 2, stride: 4)
        #expect(image.width == 3 && image.height == 2)
        #expect(image[0, 0] == (0, 0, 0))
        #expect(image[1, 0] == (128, 128, 128))
        #expect(image[2, 0] == (255, 255, 255))
        #expect(image[0, 1] == (10, 10, 10) && image[2, 1] == (30, 30, 30))
    }

    @Test func greyFramesThatAreTooShortOrBadlyShapedAreRefused() {
        #expect(throws: ImageError.bufferTooSmall(expected: 8, actual: 6)) {
            try BGRImage(grey: [UInt8](repeating: 0, count: 6), width: 4, height: 2)
        }
        #expect(throws: ImageError.strideTooSmall(stride: 2, width: 4)) {
            try BGRImage(grey: [UInt8](repeating: 0, count: 8), width: 4, height: 2, stride: 2)
        }
        #expect(throws: ImageError.invalidDimensions(width: 0, height: 2)) {
            try BGRImage(grey: [UInt8](), width: 0, height: 2)
        }
    }
}
