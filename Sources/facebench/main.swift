// facebench: micro benchmark of the FaceVision pipeline on the test photos letterboxed to 640x480.
//
// usage: swift run -c release facebench [--models DIR] [--photos DIR] [--runs N] [--facenet-zoom Z]
//   defaults: $OPTGATE_MODELS_DIR or .build/models, $OPTGATE_TESTDATA_DIR or .build/testdata, 50 runs per stage.
// Prints p50/p95 in ms per stage, then the pairwise distances of the largest face in each photo.
import FaceVision
import Foundation

struct Options {
    var models = ProcessInfo.processInfo.environment["OPTGATE_MODELS_DIR"] ?? ".build/models"
    var photos = ProcessInfo.processInfo.environment["OPTGATE_TESTDATA_DIR"] ?? ".build/testdata"
    var runs = 50
    /// FaceNet alignment template zoom (see `DNNEmbedder.Configuration.arcFaceTemplate(size:zoom:)`).
    var faceNetZoom: Float?

    init(arguments: [String]) throws {
        var i = 1
        while i < arguments.count {
            let flag = arguments[i]
            guard i + 1 < arguments.count else { throw Failure("\(flag) needs a value") }
            let value = arguments[i + 1]
            switch flag {
            case "--models": models = value
            case "--photos": photos = value
            case "--runs":
                guard let n = Int(value), n > 0 else { throw Failure("--runs needs a positive integer") }
                runs = n
            case "--facenet-zoom":
                guard let z = Float(value), z > 0 else { throw Failure("--facenet-zoom needs a positive number") }
                faceNetZoom = z
            default:
                throw Failure(
                    "unknown option \(flag); usage: "
                        + "facebench [--models DIR] [--photos DIR] [--runs N] [--facenet-zoom Z]"
                )
            }
            i += 2
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

/// Runs `body` `runs` times, cycling over `inputs`, and returns the sorted timings in ms.
func measure<T>(_ inputs: [T], runs: Int, _ body: (T) throws -> Void) rethrows -> [Double] {
    let clock = ContinuousClock()
    try body(inputs[0])  // warm-up: first forward() allocates
    var times: [Double] = []
    for i in 0..<runs {
        let input = inputs[i % inputs.count]
        let start = clock.now
        try body(input)
        times.append(milliseconds(clock.now - start))
    }
    return times.sorted()
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func fmt(_ v: Double) -> String { String(format: "%7.2f", v) }
func fmt3(_ v: Float) -> String { String(format: "%6.3f", v) }

func run() throws {
    let options = try Options(arguments: CommandLine.arguments)
    let names = [
        "obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg", "obama_partial_face2.jpg",
        "biden.jpg", "t1.jpg",
    ]
    let decoder = try JPEGDecoder()
    let encoder = try JPEGEncoder()
    var frames: [BGRImage] = []
    var jpegs: [[UInt8]] = []
    for name in names {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: options.photos + "/" + name)))
        let frame = try decoder.decode(bytes).letterboxed(width: 640, height: 480).image
        frames.append(frame)
        jpegs.append(try encoder.encode(frame, quality: 90))
    }

    let clock = ContinuousClock()
    var start = clock.now
    let detector = try CenterFaceDetector(modelsDirectory: options.models)
    let detectorLoad = milliseconds(clock.now - start)
    start = clock.now
    let dlib = try DlibEmbedder(modelsDirectory: options.models)
    let dlibLoad = milliseconds(clock.now - start)
    start = clock.now
    var faceNetConfiguration = DNNEmbedder.Configuration.faceNet(modelsDirectory: options.models)
    if let zoom = options.faceNetZoom {
        faceNetConfiguration.alignmentTemplate = DNNEmbedder.Configuration.arcFaceTemplate(size: 160, zoom: zoom)
    }
    let faceNet = try DNNEmbedder(configuration: faceNetConfiguration)
    let faceNetLoad = milliseconds(clock.now - start)

    var faces: [(BGRImage, FaceObservation)] = []
    for frame in frames {
        if let face = try detector.detect(in: frame).max(by: { $0.box.area < $1.box.area }) {
            faces.append((frame, face))
        }
    }
    guard !faces.isEmpty else { throw Failure("no face found in any photo") }

    let rows: [(String, [Double])] = [
        ("JPEG decode 640x480", try measure(jpegs, runs: options.runs) { _ = try decoder.decode($0) }),
        ("detect (CenterFace)", try measure(frames, runs: options.runs) { _ = try detector.detect(in: $0) }),
        ("embed (dlib ResNet)", try measure(faces, runs: options.runs) { _ = try dlib.embed($0.1, in: $0.0) }),
        ("embed (FaceNet dnn)", try measure(faces, runs: options.runs) { _ = try faceNet.embed($0.1, in: $0.0) }),
        ("sharpness (face box)", try measure(faces, runs: options.runs) { _ = try $0.0.sharpness(in: $0.1.box) }),
    ]
    print("facebench: \(frames.count) photos letterboxed to 640x480, \(options.runs) runs per stage")
    print("model load ms: CenterFace \(fmt(detectorLoad)), dlib \(fmt(dlibLoad)), FaceNet \(fmt(faceNetLoad))")
    print("")
    print("| stage                | p50 ms  | p95 ms  |")
    print("|----------------------|---------|---------|")
    for (name, times) in rows {
        print("| \(pad(name, 20)) | \(fmt(percentile(times, 0.5))) | \(fmt(percentile(times, 0.95))) |")
    }

    // Pairwise distances of the largest face per portrait (not t1.jpg), both embedders.
    print("")
    print("| pair                                         | dlib L2 | FaceNet cos dist |")
    print("|----------------------------------------------|---------|------------------|")
    let portraits = zip(names, frames).filter { $0.0 != "t1.jpg" }
    var embedded: [(String, [Float], [Float])] = []
    for (name, frame) in portraits {
        guard let face = try detector.detect(in: frame).max(by: { $0.box.area < $1.box.area }) else { continue }
        embedded.append((name, try dlib.embed(face, in: frame), try faceNet.embed(face, in: frame)))
    }
    for i in embedded.indices {
        for j in embedded.indices where j > i {
            let pair = "\(embedded[i].0) - \(embedded[j].0)"
            let l2 = dlib.descriptor.distance(embedded[i].1, embedded[j].1)
            let cos = faceNet.descriptor.distance(embedded[i].2, embedded[j].2)
            print("| \(pad(pair, 44)) | \(fmt3(l2))  | \(fmt3(cos))           |")
        }
    }
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("facebench: \(error)\n".utf8))
    exit(1)
}
