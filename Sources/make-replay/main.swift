// make-replay: builds an MJPEG replay clip from still photos, each letterboxed to the camera's frame
// size and re-encoded (so no EXIF thumbnail can confuse the stream splitter), repeated N times.
//
// usage: make-replay OUT.mjpeg [--size 640x480] [--repeat N] [--infrared live|screen|print] PHOTO.jpg...
// --infrared writes the near-infrared frames such a scene gives instead (a live face, a phone screen, a dye print;
// BGRImage.infrared), frame for frame, for a `face.infrared.replay` beside the colour clip.
// Used by scripts/demo and the tests; the clip lives under .build or the demo's state directory and
// is never committed.
import FaceVision
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("make-replay: \(message)\n".utf8))
    exit(1)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard !arguments.isEmpty else { fail("usage: make-replay OUT.mjpeg [--size 640x480] [--repeat N] [--infrared live|screen|print] PHOTO.jpg...") }
let output = arguments.removeFirst()
var width = 640, height = 480, repeats = 1
var photos: [String] = []
var infrared: BGRImage.InfraredScene?
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
    default:
        photos.append(argument)
    }
}
guard !photos.isEmpty else { fail("no photos given") }

do {
    let decoder = try JPEGDecoder()
    let encoder = try JPEGEncoder()
    var clip = Data()
    for photo in photos {
        guard let bytes = FileManager.default.contents(atPath: photo) else { fail("\(photo) cannot be read") }
        var image = try decoder.decode(Array(bytes)).letterboxed(width: width, height: height).image
        if let infrared { image = image.infrared(infrared, seed: 7) }
        let frame = try encoder.encode(image, quality: 90)
        for _ in 0..<repeats { clip.append(contentsOf: frame) }
    }
    try clip.write(to: URL(fileURLWithPath: output), options: .atomic)
    print("\(output): \(photos.count * repeats) frames of \(width)x\(height)")
} catch {
    fail("\(error)")
}
