// optgate-bench: speed and memory of the face pipeline, printed as a table (scripts/bench runs it).
//
//   optgate-bench frames OUT_DIR PHOTO...        letterbox photos to 640x480 JPEG frames (shared with the peer)
//   optgate-bench seed STATE_DIR COUNT           residents with consent and random dlib templates, one transaction
//   optgate-bench run FRAMES_DIR [--runs N] [--peer NAME=FPS] [--daemon-rss KB:TEMPLATES]
//   optgate-bench rules [--runs N] [--pin-runs N]   card/PIN → relay latency with and without access rules
//   optgate-bench walkup PHOTOS_DIR [--walkups N] [--fps F]   walk-up → relay, fixed 3-of-5 vs adaptive + liveness (WalkUp.swift)
//   optgate-bench parallax [--walkups N] [--jitter S] [--fps F]   can geometry decide from a natural walk-up (Parallax.swift)
//   optgate-bench fleet --hub URL [--cluster-dir DIR] [--clients 200] …   many gates against one PostgreSQL hub (FleetBench.swift,
//                                                                      scripts/bench-fleet)
//
// Models come from $OPTGATE_MODELS_DIR. Numbers are milliseconds, p50/p95 over N runs after one warm-up.
@_spi(Benchmark) import GateStore
import FaceVision
import Foundation
import GateConfiguration
import GateCore
import GateFace
import GateServices

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let clock = ContinuousClock()

func milliseconds(_ duration: Duration) -> Double { duration / .milliseconds(1) }

/// Times `body` over `runs` calls cycling through `inputs`. - Returns: sorted milliseconds.
func measure<T>(_ inputs: [T], runs: Int, _ body: (T) throws -> Void) rethrows -> [Double] {
    try body(inputs[0])
    var times: [Double] = []
    for run in 0..<runs {
        let input = inputs[run % inputs.count]
        let start = clock.now
        try body(input)
        times.append(milliseconds(start.duration(to: clock.now)))
    }
    return times.sorted()
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func row(_ name: String, _ times: [Double], target: String = "") -> String {
    let cells = [name.padding(toLength: 40, withPad: " ", startingAt: 0), String(format: "%8.2f", percentile(times, 0.5)),
                 String(format: "%8.2f", percentile(times, 0.95)), target]
    return "| " + cells.joined(separator: " | ") + " |"
}

func faceConfiguration() -> FaceConfiguration { DaemonConfiguration.defaults.face }

func jpegFiles(in directory: String) throws -> [[UInt8]] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".jpg") }.sorted()
    guard !names.isEmpty else { throw Failure("no .jpg frames in \(directory)") }
    return names.compactMap { FileManager.default.contents(atPath: "\(directory)/\($0)").map(Array.init) }
}

func makeFrames(_ arguments: [String]) throws {
    guard arguments.count >= 2 else { throw Failure("usage: optgate-bench frames OUT_DIR PHOTO...") }
    let out = arguments[0]
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let decoder = try JPEGDecoder(), encoder = try JPEGEncoder()
    for (index, photo) in arguments.dropFirst().enumerated() {
        guard let bytes = FileManager.default.contents(atPath: photo) else { throw Failure("\(photo) cannot be read") }
        let frame = try encoder.encode(try decoder.decode(Array(bytes)).letterboxed(width: 640, height: 480).image, quality: 90)
        try Data(frame).write(to: URL(fileURLWithPath: String(format: "%@/frame%02d.jpg", out, index)))
    }
}

func seed(_ arguments: [String]) throws {
    guard arguments.count == 2, let count = Int(arguments[1]) else { throw Failure("usage: optgate-bench seed STATE_DIR COUNT") }
    let database = try GateDatabase(stateDirectory: arguments[0])
    try database.seedForBenchmark(count: count, embedder: DlibEmbedder.standardDescriptor.id, dimension: 128)
    print("seeded \(count) residents with consent and one template each")
}

func run(_ arguments: [String]) throws {
    guard let framesDirectory = arguments.first else { throw Failure("usage: optgate-bench run FRAMES_DIR [options]") }
    var runs = 50
    var peers: [(String, Double)] = []
    var daemonRSS: (kilobytes: Int, templates: Int)?
    var rest = Array(arguments.dropFirst())
    while !rest.isEmpty {
        let flag = rest.removeFirst()
        guard !rest.isEmpty else { throw Failure("\(flag) needs a value") }
        let value = rest.removeFirst()
        switch flag {
        case "--runs": runs = Int(value) ?? runs
        case "--peer":
            let parts = value.split(separator: "=")
            if parts.count == 2, let fps = Double(parts[1]) { peers.append((String(parts[0]), fps)) }
        case "--daemon-rss":
            let parts = value.split(separator: ":").compactMap { Int($0) }
            if parts.count == 2 { daemonRSS = (parts[0], parts[1]) }
        default: throw Failure("unknown option \(flag)")
        }
    }

    let frames = try jpegFiles(in: framesDirectory)
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("optgate-bench-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let engine = try FaceEngine(configuration: faceConfiguration(), stateDirectory: state)
    let decoder = try JPEGDecoder()
    let images = try frames.map { try decoder.decode($0) }
    let faces = try images.map { image -> (BGRImage, FaceObservation)? in
        try engine.usableFaces(in: image).faces.first.map { (image, $0) }
    }.compactMap { $0 }
    guard !faces.isEmpty else { throw Failure("no usable face in the frames") }

    // A store with one enrolled resident (the first usable face) for the decision stages.
    let database = try GateDatabase(stateDirectory: state)
    let resident = try database.addResident(name: "Bench", unit: "1", validUntil: nil, operator: "bench")
    _ = try database.grantConsent(residentID: resident, notice: Notice(version: "bench", language: "en", text: "bench"),
                                  method: .console, operator: "bench")
    let enrolled = try engine.embed(faces[0].1, in: faces[0].0)
    try database.storeFaceTemplate(residentID: resident, embedder: engine.descriptor.id, embedding: enrolled, operator: "bench")
    var index = engine.newIndex()
    for template in try database.activeFaceTemplates() { index.add(template.embedding, residentID: template.residentID) }
    var generator = SystemRandomNumberGenerator()
    func randomEmbedding(_ dimension: Int) -> [Float] { (0..<dimension).map { _ in Float.random(in: -0.2...0.2, using: &generator) } }
    for _ in 0..<999 { index.add(randomEmbedding(128), residentID: "random") }

    func decide(_ residentID: String?) throws {
        let holder = try residentID.flatMap { try database.faceHolder(residentID: $0, door: "main").holder }
        let decision = AccessPolicy.decide(method: .face, holder: holder, door: DoorPolicy(name: "main", methods: [.face, .card]),
                                           now: .current())
        try database.record(AuditRecord(time: .current(), category: .access, action: .door(.access, .method(.face)), door: "main", method: .face,
                                        result: decision.result, reason: decision.reason, residentID: decision.residentID))
    }

    var lines: [String] = []
    lines.append("| stage (640×480 frames, \(runs) runs)           |  p50 ms  |  p95 ms  | target |")
    lines.append("|------------------------------------------|----------|----------|--------|")
    lines.append(row("decode (TurboJPEG)", try measure(frames, runs: runs) { _ = try decoder.decode($0) }))
    lines.append(row("detect (CenterFace, OpenCV dnn)", try measure(images, runs: runs) { _ = try engine.detector.detect(in: $0) }))
    lines.append(row("quality gates (incl. sharpness)", measure(faces, runs: runs) { _ = engine.qualityProblem($0.1, in: $0.0) }))
    lines.append(row("align + embed (dlib ResNet)", try measure(faces, runs: runs) { _ = try engine.embed($0.1, in: $0.0) }))
    let probes = try faces.map { try engine.embed($0.1, in: $0.0) }
    lines.append(row("match (1:N, 1,000 templates)", measure(probes, runs: runs) { _ = index.nearest(to: $0) }))
    lines.append(row("decision (consent check + audit write)", try measure([resident], runs: runs) { try decide($0) }))
    var aggregator = MatchAggregator<ContinuousClock.Instant>(rules: MatchRules(threshold: engine.threshold, requiredAgreeing: 1,
                                                                                windowFrames: 1, cooldown: .zero))
    let endToEnd = try measure(frames, runs: runs) { frame in
        let image = try decoder.decode(frame)
        guard let face = try engine.usableFaces(in: image).faces.first else { return }
        let verdict = aggregator.observe(aggregator.candidate(for: index.nearest(to: try engine.embed(face, in: image))), at: clock.now)
        if case .matched(let id) = verdict { try decide(id) } else if case .noMatch = verdict { try decide(nil) }
    }
    lines.append(row("frame → decision (replayed frames)", endToEnd, target: "≤ 80"))
    for size in [1_000, 10_000, 100_000] {
        var large = engine.newIndex()
        for _ in 0..<size { large.add(randomEmbedding(128), residentID: "r") }
        let queries = (0..<8).map { _ in randomEmbedding(128) }
        lines.append(row("1:N match, \(size.formatted()) templates", measure(queries, runs: runs) { _ = large.nearest(to: $0) },
                         target: size == 100_000 ? "≤ 5" : ""))
    }
    print(lines.joined(separator: "\n"))

    // Throughput of the same work the peer does: decode + detect + embed the largest face, one thread.
    let pipeline = try measure(frames, runs: runs) { frame in
        let image = try decoder.decode(frame)
        if let face = try engine.detector.detect(in: image).max(by: { $0.box.area < $1.box.area }) { _ = try engine.embed(face, in: image) }
    }
    let mean = pipeline.reduce(0, +) / Double(pipeline.count)
    let fps = 1000 / mean
    print("")
    print("| throughput (decode+detect+embed)     | frames/s | ratio (optgate / peer) | target |")
    print("|--------------------------------------|----------|------------------------|--------|")
    print("| optgate (Swift, CenterFace + dlib)   | \(String(format: "%8.1f", fps)) |                        |        |")
    for (name, peerFPS) in peers {
        print("| \(name.padding(toLength: 36, withPad: " ", startingAt: 0)) | \(String(format: "%8.1f", peerFPS)) | \(String(format: "%22.2f", fps / peerFPS)) | ≥ 1.5  |")
    }
    if let daemonRSS {
        print("")
        print("daemon RSS with models loaded and \(daemonRSS.templates.formatted()) templates: \(daemonRSS.kilobytes / 1024) MiB (target ≤ 250 MB)")
    }
}

do {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let mode = arguments.isEmpty ? "" : arguments.removeFirst()
    switch mode {
    case "frames": try makeFrames(arguments)
    case "seed": try seed(arguments)
    case "run": try run(arguments)
    case "rules": try rulesBench(arguments)
    case "walkup": try walkUp(arguments)
    case "parallax": try parallaxStudy(arguments)
    case "fleet": try fleetBench(arguments)
    default: throw Failure("usage: optgate-bench frames|seed|run|rules|walkup|parallax|fleet … (see the header of Sources/optgate-bench/main.swift)")
    }
} catch {
    FileHandle.standardError.write(Data("optgate-bench: \(error)\n".utf8))
    exit(1)
}
