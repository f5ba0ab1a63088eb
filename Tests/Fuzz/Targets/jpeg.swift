// Fuzz target: camera and replay frames through the TurboJPEG shim. The input is split into frames as
// an MJPEG replay is (ReplayFrameSource.splitMJPEG; a plain JPEG is one frame) and every frame is decoded
// by the SAME long-lived decoders the recogniser keeps; after each frame a clean reference JPEG must
// still decode to the same pixels, so a decode error that poisons the handle is a finding.
import FaceVision
@testable import GateServices

/// 320x240: large enough for every seed, small enough to keep executions fast (the daemon allows 16 MP).
let maximumPixels = 320 * 240
// libFuzzer calls the target on one thread only.
nonisolated(unsafe) let strict = try! JPEGDecoder(maximumPixels: maximumPixels)
nonisolated(unsafe) let lenient = try! JPEGDecoder(maximumPixels: maximumPixels, acceptsRecoverableDamage: true)
let reference: (jpeg: [UInt8], image: BGRImage) = {
    var pixels = [UInt8](repeating: 0, count: 48 * 32 * 3)
    for index in pixels.indices { pixels[index] = UInt8(truncatingIfNeeded: index * 7 + index / 144) }
    let image = try! BGRImage(width: 48, height: 32, pixels: pixels)
    let jpeg = try! JPEGEncoder().encode(image, quality: 85)
    return (jpeg, try! JPEGDecoder().decode(jpeg))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var frames = ReplayFrameSource.splitMJPEG(bytes)
    if frames.isEmpty { frames = [bytes] }
    for frame in frames.prefix(8) {
        for decoder in [strict, lenient] {
            do {
                let image = try decoder.decode(frame)
                require(image.width * image.height <= maximumPixels, "a frame above the pixel limit was decoded")
                require(image.pixels.count == image.stride * image.height)
            } catch {
                require(!error.description.isEmpty)
            }
            let dimensions = try? decoder.dimensions(of: frame)
            if let dimensions { require(dimensions.width > 0 && dimensions.height > 0) }
            // The handle must still work: a clean frame decodes to the same pixels as in a new decoder.
            do {
                let image = try decoder.decode(reference.jpeg)
                require(image == reference.image, "a clean frame decodes differently after this input")
            } catch {
                fatalError("a clean frame no longer decodes after this input: \(error)")
            }
        }
    }
    return 0
}
