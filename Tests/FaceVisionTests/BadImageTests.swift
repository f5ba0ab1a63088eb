import FaceVision
import Foundation
import Testing

/// Images from issue 16: a corrupt MJPEG frame must not poison the decoder for the clean frames after it, and
/// a CMYK JPEG is refused for its colour space, not as "corrupt".
@Suite struct BadImageTests {
    /// `Tests/Fixtures/bad-input` (a copy of the bad-input campaign's files), or `$OPTGATE_BAD_INPUT_DIR`.
    static let badInputDirectory = ProcessInfo.processInfo.environment["OPTGATE_BAD_INPUT_DIR"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bad-input").path

    /// The clip's frames, read from a copy in a temporary directory (the fixture is never opened for writing).
    static func poisonClipFrames() throws -> [[UInt8]] {
        let source = "\(badInputDirectory)/poison-frame-then-10-clean.mjpeg"
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("poison-\(UUID().uuidString.prefix(8)).mjpeg")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: source), to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        return splitMJPEG(Array(try Data(contentsOf: copy)))
    }

    /// Concatenated JPEGs, split at each start-of-image marker that follows an end-of-image marker.
    static func splitMJPEG(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var start: Int?
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0xFF && bytes[index + 1] == 0xD8 && start == nil {
                start = index
            } else if bytes[index] == 0xFF && bytes[index + 1] == 0xD9, let first = start {
                frames.append(Array(bytes[first...(index + 1)]))
                start = nil
            }
            index += 1
        }
        return frames
    }

    @Test func aCorruptFrameDoesNotPoisonTheDecoderForTheCleanOnesAfterIt() throws {
        let frames = try Self.poisonClipFrames()
        try #require(frames.count == 11)
        let decoder = try JPEGDecoder(maximumPixels: 4096 * 4096)
        #expect(throws: JPEGError.self) { try decoder.decode(frames[0]) }
        for frame in frames.dropFirst() {
            let image = try decoder.decode(frame)
            #expect(image.width == 640 && image.height == 480)
        }
        // And again, interleaved: corrupt, clean, corrupt, clean.
        for _ in 0..<3 {
            #expect(throws: JPEGError.self) { try decoder.decode(frames[0]) }
            #expect(try decoder.decode(frames[1]).width == 640)
        }
    }

    @Test func aDecoderThatAcceptsDamageRecoversToo() throws {
        let frames = try Self.poisonClipFrames()
        let decoder = try JPEGDecoder(maximumPixels: 4096 * 4096, acceptsRecoverableDamage: true)
        _ = try? decoder.decode(frames[0])
        for frame in frames.dropFirst() { #expect(try decoder.decode(frame).height == 480) }
    }

    /// Every clean frame after each of 200 mutated frames still decodes with the same decoder.
    @Test func cleanFramesDecodeAfterAnyDamagedOne() throws {
        let clean = try JPEGEncoder().encode(Fixtures.gradient(width: 96, height: 64), quality: 85)
        let decoder = try JPEGDecoder(maximumPixels: 1 << 20)
        var state: UInt64 = 0x0123_4567_89AB_CDEF
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var failures = 0
        for _ in 0..<200 {
            var damaged = clean
            for _ in 0..<(1 + next() % 4) { damaged[2 + next() % (damaged.count - 2)] = UInt8(truncatingIfNeeded: next()) }
            _ = try? decoder.decode(damaged)
            do { _ = try decoder.decode(clean) } catch { failures += 1 }
        }
        #expect(failures == 0)
    }

    @Test func aCMYKJPEGIsRefusedForItsColourSpace() throws {
        let (width, height) = (64, 48)
        var cmyk = [UInt8](repeating: 0, count: width * height * 4)
        for index in stride(from: 0, to: cmyk.count, by: 4) { cmyk[index] = 200; cmyk[index + 3] = 30 }
        let jpeg = try JPEGEncoder().encodeCMYK(width: width, height: height, pixels: cmyk)
        let decoder = try JPEGDecoder()
        let error = #expect(throws: JPEGError.self) { try decoder.decode(jpeg) }
        #expect(error == .unsupportedColourSpace("YCCK (CMYK)") || error == .unsupportedColourSpace("CMYK"))
        #expect(error?.description.contains("colour space, which is not supported") == true, "\(String(describing: error))")
        // The 16 MP cap still applies, and the decoder is fine afterwards.
        #expect(decoder.maximumPixels == 4096 * 4096)
        #expect(try decoder.decode(try JPEGEncoder().encode(Fixtures.gradient(), quality: 90)).width > 0)
    }
}
