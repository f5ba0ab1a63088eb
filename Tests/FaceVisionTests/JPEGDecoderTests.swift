import FaceVision
import Testing

@Suite("JPEG decoding")
struct JPEGDecoderTests {
    @Test func roundTripKeepsSizeAndColour() throws {
        let image = BGRImage(width: 64, height: 48, blue: 200, green: 100, red: 50)
        let jpeg = try JPEGEncoder().encode(image, quality: 95)
        let decoded = try JPEGDecoder().decode(jpeg)
        #expect(decoded.width == 64 && decoded.height == 48 && decoded.stride == 192)
        let pixel = decoded[10, 10]
        #expect(abs(Int(pixel.blue) - 200) < 6 && abs(Int(pixel.green) - 100) < 6 && abs(Int(pixel.red) - 50) < 6)
    }

    @Test func zeroBytesThrowEmpty() throws {
        #expect(throws: JPEGError.empty) { try JPEGDecoder().decode([UInt8]()) }
    }

    @Test func nonJPEGThrows() throws {
        #expect(throws: JPEGError.notJPEG) { try JPEGDecoder().decode(Array("hello".utf8)) }
    }

    @Test func truncatedJPEGThrowsTruncated() throws {
        let jpeg = try JPEGEncoder().encode(Fixtures.gradient(), quality: 90)
        for fraction in [0.3, 0.6, 0.9] {
            let cut = Array(jpeg.prefix(Int(Double(jpeg.count) * fraction)))
            #expect(throws: JPEGError.truncated) { try JPEGDecoder().decode(cut) }
        }
        // Only the SOI marker and part of a header.
        let headerOnly = Array(jpeg.prefix(20))
        #expect(throws: JPEGError.self) { try JPEGDecoder().decode(headerOnly) }
    }

    @Test func hugeDimensionsAreRefusedBeforeAllocating() throws {
        // A real 16x16 JPEG whose SOF0 frame header is patched to claim 10000x10000: 1.1 KB of data.
        var jpeg = try JPEGEncoder().encode(BGRImage(width: 16, height: 16, green: 255), quality: 80)
        let sof = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 5] = 0x27
        jpeg[sof + 6] = 0x10  // height 10000
        jpeg[sof + 7] = 0x27
        jpeg[sof + 8] = 0x10  // width 10000
        let decoder = try JPEGDecoder()
        let declared = try decoder.dimensions(of: jpeg)
        #expect(declared.width == 10000 && declared.height == 10000)
        let error = #expect(throws: JPEGError.self) { try decoder.decode(jpeg) }
        #expect(error == .tooLarge(width: 10000, height: 10000, maximumPixels: 4096 * 4096))
        #expect(error?.description == "the JPEG is 10000x10000, more than the 16777216 pixels allowed")
    }

    /// Damaged camera data must decode or throw, never crash: 300 deterministic byte mutations of a real JPEG.
    @Test func mutatedJPEGsNeverCrash() throws {
        let jpeg = try JPEGEncoder().encode(Fixtures.gradient(width: 96, height: 64), quality: 85)
        let decoder = try JPEGDecoder(maximumPixels: 1 << 20)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var thrown = 0
        for _ in 0..<300 {
            var damaged = jpeg
            for _ in 0..<(1 + next() % 4) {
                damaged[2 + next() % (damaged.count - 2)] = UInt8(truncatingIfNeeded: next())
            }
            do { _ = try decoder.decode(damaged) } catch { thrown += 1 }
        }
        #expect(thrown > 0)
    }

    @Test func errorsReadAsSentences() {
        #expect(JPEGError.truncated.description == "the JPEG is truncated")
        #expect(FaceVisionError.modelMissing(path: "/x/y").description == "the model file /x/y is missing")
    }
}
