// make-replay: builds an MJPEG replay clip from still photos, each letterboxed to the camera's frame
// size and re-encoded (so no EXIF thumbnail can confuse the stream splitter), repeated N times.
//
// usage: make-replay OUT.mjpeg [--size 640x480] [--repeat N] [--infrared live|screen|print] [--grey] PHOTO.jpg...
// --infrared writes the near-infrared frames such a scene gives instead (a live face, a phone screen, a dye print;
// BGRImage.infrared), frame for frame, for a `face.infrared.replay` beside the colour clip.
// --grey writes raw 8-bit grey frames (WIDTH*HEIGHT bytes each, V4L2 `GREY`) instead of JPEGs: what an infrared
// camera streams, fed to a v4l2loopback node by TestSupport/fakes/paired_feeder in the device-test VM.
// Used by scripts/demo and the tests; the clip lives under .build or the demo's state directory and
// is never committed.
import FaceVision
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("make-replay: \(message)\n".utf8))
    exit(1)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard !arguments.isEmpty else { fail("usage: make-replay OUT.mjpeg [--size 640x480] [--repeat N] [--infrared live|screen|print] [--grey] PHOTO.jpg...") }
let output = arguments.removeFirst()
var width = 640, height = 480, repeats = 1
var photos: [String] = []
var infrared: BGRImage.InfraredScene?
var grey = false
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--size":
        let parts = (arguments.isEmpty ? "" : arguments.removeFirst()).split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { fail("--size takes WIDTHxHEIGHT") }
        (width, height) = (parts[0], parts[1])
    case "--repeat":
        guard let count = arguments.isEmpty ? nil : Int(arguments.removeFirst()), count > 0 else { fail("--repeat takes a positive number") }
        repeats = count
    case "--infrared":
        switch arguments.isEmpty ? "" : arguments.removeFirst() {
        case "live": infrared = .live
        case "screen": infrared = .screen
        case "print": infrared = .washedOutPrint
        default: fail("--infrared takes live, screen or print")
        }
    case "--grey":
        grey = true
    default:
        photos.append(argument)
    }
}
guard !photos.isEmpty else { fail("no photos given") }

/// Rows of 8-bit luma (BT.601 weights), no padding.
func greyBytes(_ image: BGRImage) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: image.width * image.height)
    for y in 0..<image.height {
        for x in 0..<image.width {
            let o = y * image.stride + 3 * x
            let luma = 29 * Int(image.pixels[o]) + 150 * Int(image.pixels[o + 1]) + 77 * Int(image.pixels[o + 2])
            out[y * image.width + x] = UInt8(min(255, (luma + 128) >> 8))
        }
    }
    return out
}

do {
    let decoder = try JPEGDecoder()
    let encoder = try JPEGEncoder()
    var clip = Data()
    for photo in photos {
        guard let bytes = FileManager.default.contents(atPath: photo) else { fail("\(photo) cannot be read") }
        var image = try decoder.decode(Array(bytes)).letterboxed(width: width, height: height).image
        if let infrared { image = image.infrared(infrared, seed: 7) }
        let frame = grey ? greyBytes(image) : try encoder.encode(image, quality: 90)
        for _ in 0..<repeats { clip.append(contentsOf: frame) }
    }
    try clip.write(to: URL(fileURLWithPath: output), options: .atomic)
    print("\(output): \(photos.count * repeats) frames of \(width)x\(height)")
} catch {
    fail("\(error)")
}
