import FaceVision
import Foundation
import GateCore
import GateConfiguration
import GateFace
import GateServices

/// `optgate-bench walkup PHOTOS_DIR [--walkups N] [--fps F]`: walk-up → relay latency (first frame with the face
/// → decision, which energises the relay) at a fixed replay rate, for the old fixed 3-of-5 rule and the adaptive
/// rule under each liveness policy, in the same run on the same walk-ups.
///
/// The walk-ups are the bona fide presentations of the liveness evaluation (two photos with different head poses
/// of one person, the turn within the first 6 frames, placed at 640×480, with infrared frames derived from the
/// grey image), JPEG-encoded like camera frames. Time is the replay's: frame k is due at k / fps; the pipeline takes the newest due frame, and each
/// frame's real processing time (decode, detect, quality, embed, match, the infrared check) moves the clock on.
/// The camera frame that decided is printed too (p50 of its index + 1): what the rule needs whatever the machine's
/// speed; at 15 fps, frame n is shown (n − 1) × 67 ms after the first, so ≤ 300 ms needs a decision by frame 5.
func walkUp(_ arguments: [String]) throws {
    guard let photos = arguments.first else { throw Failure("usage: optgate-bench walkup PHOTOS_DIR [--walkups N] [--fps F]") }
    var walkups = 30, fps = 15.0
    var rest = Array(arguments.dropFirst())
    while rest.count >= 2 {
        let flag = rest.removeFirst(), value = rest.removeFirst()
        switch flag {
        case "--walkups": walkups = Int(value) ?? walkups
        case "--fps": fps = Double(value) ?? fps
        default: throw Failure("unknown option \(flag)")
        }
    }
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("optgate-bench-walkup-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let engine = try FaceEngine(configuration: faceConfiguration(), stateDirectory: state)
    let decoder = try JPEGDecoder(), encoder = try JPEGEncoder()

    // The resident is enrolled from obama.jpg and obama2.jpg; the walk-ups use every photo of the person.
    var usable: [LivenessEvaluation.Photo] = []
    var index = engine.newIndex()
    for name in try FileManager.default.contentsOfDirectory(atPath: photos).filter({ $0.hasSuffix(".jpg") }).sorted() {
        guard let data = FileManager.default.contents(atPath: "\(photos)/\(name)"), let image = try? decoder.decode(Array(data)),
              let face = try engine.usableFaces(in: image).faces.first else { continue }
        let person = LivenessEvaluation.person(ofFile: name)
        usable.append(LivenessEvaluation.Photo(person: person, image: image, face: face))
        if ["obama.jpg", "obama2.jpg"].contains(name) { index.add(try engine.embed(face, in: image), residentID: person) }
    }
    var evaluation = LivenessEvaluation()
    (evaluation.width, evaluation.height, evaluation.frames) = (640, 480, 30)
    evaluation.attacksPerPhoto = 0
    evaluation.bonaFidePerPerson = walkups
    evaluation.stillPerPerson = 0
    evaluation.turnWithin = 6  // the head turns within the first 0.4 s at 15 fps
    let presentations = evaluation.presentations(from: usable).filter { !$0.attack }
    guard !presentations.isEmpty else { throw Failure("no person with two or more usable photos in \(photos)") }
    let encoded = try presentations.map { p in
        (try p.colour.map { try encoder.encode($0, quality: 90) }, try p.infrared.map { try encoder.encode($0, quality: 90) })
    }

    let base = engine.matchRules
    var fixed = base
    fixed.strongDistance = nil
    let variants: [(String, MatchRules, LivenessPolicy)] = [
        ("fixed 3-of-5, no liveness (before)", fixed, .none),
        ("adaptive, no liveness", base, .none),
        ("adaptive + ir", base, .ir),
        ("adaptive + geometry", base, .geometry),
        ("adaptive + ir+geometry", base, .irAndGeometry),
    ]
    let interval = 1.0 / fps
    print("| walk-up → relay at \(Int(fps)) fps replay (\(presentations.count) walk-ups) | p50 ms | p95 ms | deciding frame p50 / p95 | decided | target |")
    print("|---|---|---|---|---|---|")
    for (name, rules, policy) in variants {
        var latencies: [Double] = [], deciding: [Double] = [], undecided = 0
        for (colour, infrared) in encoded {
            var aggregator = MatchAggregator<ContinuousClock.Instant>(rules: rules)
            var tracker = LivenessTracker(policy: policy)
            let origin = clock.now
            var now = 0.0, last = -1, decidedAt: Double?
            while decidedAt == nil {
                // The newest frame due now; wait for the next when the pipeline is ahead of the camera.
                var k = Int((now / interval).rounded(.down))
                if k <= last { k = last + 1; now = Double(k) * interval }
                guard k < colour.count else { break }
                last = k
                let start = clock.now
                let image = try decoder.decode(colour[k])
                var verdict = MatchVerdict.pending
                if let face = try engine.usableFaces(in: image).faces.first {
                    let match = index.nearest(to: try engine.embed(face, in: image))
                    let candidate = aggregator.candidate(for: match)
                    var evidence: InfraredEvidence?
                    if candidate != nil && policy.needsInfrared {
                        evidence = try InfraredCheck().evidence(for: face, in: try decoder.decode(infrared[k]), detector: engine.detector)
                    }
                    var live = LivenessVerdict.live
                    if policy != .none {
                        if candidate != nil { tracker.observe(FivePoints(face), infrared: evidence) }
                        live = tracker.verdict
                    }
                    verdict = aggregator.observe(candidate, distance: match?.distance ?? .infinity, liveness: live,
                                                 at: origin.advanced(by: .milliseconds(Int64(now * 1000))))
                }
                now += start.duration(to: clock.now) / .seconds(1)
                if case .matched = verdict {
                    decidedAt = now
                    deciding.append(Double(k + 1))
                }
                if verdict == .noMatch || verdict == .livenessFailed { break }
            }
            if let decidedAt { latencies.append(decidedAt * 1000) } else { undecided += 1 }
        }
        latencies.sort()
        deciding.sort()
        let p50 = latencies.isEmpty ? Double.nan : percentile(latencies, 0.5), p95 = latencies.isEmpty ? Double.nan : percentile(latencies, 0.95)
        let f50 = deciding.isEmpty ? Double.nan : percentile(deciding, 0.5), f95 = deciding.isEmpty ? Double.nan : percentile(deciding, 0.95)
        print(String(format: "| %@ | %.0f | %.0f | %.0f / %.0f | %d/%d granted | ≤ 300 p50 |", name, p50, p95, f50, f95, latencies.count,
                     latencies.count + undecided))
    }
}
