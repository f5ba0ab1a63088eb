public import FaceVision
import Foundation
import GateConfiguration
public import GateCore

/// The presentation-attack evaluation set built from real photos (`optgate face liveness-score`, `scripts/bench`).
///
/// Attacks: each photo printed flat and moved in front of the camera over a walk-up of `frames` frames
/// (plane homographies of a print turned by up to ±35° about both axes at 6–12 eye distances, rolled,
/// rescaled, moved across the frame), half of them shown on a screen
/// (gamma, moiré, noise), each with the infrared frame such a presentation gives (a screen: dark; a dye print:
/// washed out). Bona fide: walk-ups made of two *different* photos of the same person whose head poses differ
/// (the head turned during the walk-up), each placed by a similarity (the person moving), with infrared frames
/// derived from the real grey image; walk-ups of two photos with the same pose (a head held still) are
/// reported apart.
/// Synthetic attacks bound, but do not prove, real-world performance (docs/face.md#liveness).
public struct LivenessEvaluation {
    public struct Presentation {
        public var attack: Bool
        public var kind: String
        public var colour: [BGRImage]
        public var infrared: [BGRImage]
    }

    /// What the cues concluded about one presentation, fed frame by frame as the recogniser feeds the door's
    /// `LivenessTracker` (the geometry cue's window of its last `maximumFrames` frames): a policy accepts the
    /// presentation when it holds at any frame, since the door opens at the first frame it holds.
    public struct Outcome: Sendable {
        public var attack: Bool
        public var kind: String
        /// A usable face was found in at least two colour frames (else the presentation is a failure to acquire).
        public var acquired: Bool
        /// The first frame (1-based, of the frames with a usable face) at which each policy held; absent: never.
        public var liveAt: [LivenessPolicy: Int]
        /// The largest departure of the nose from the plane that the geometry cue compared (any window).
        public var largestResidual: Double

        public var infrared: LivenessVerdict { liveAt[.ir] != nil ? .live : .attack }
        public var geometry: LivenessVerdict { liveAt[.geometry] != nil ? .live : .attack }

        public func accepted(under policy: LivenessPolicy) -> Bool {
            policy == .none || liveAt[policy] != nil
        }
    }

    public var width = 480
    public var height = 360
    public var frames = 5
    public var attacksPerPhoto = 8
    public var bonaFidePerPerson = 30
    /// Walk-ups per person made of two photos with (nearly) the same pose: a head held still. Reported apart.
    public var stillPerPerson = 10
    /// Two photos show different head poses when the nose residual between them is at least this (≈ 10° turn).
    public var posesApart = 0.1
    public static let stillKind = "one pose (head held still)"
    /// The head turns after 1 to this many frames of a bona fide walk-up (default: anywhere before the last).
    public var turnWithin: Int?
    public var seed: UInt64 = 12
    /// How far a print or screen is turned about each axis during an attack walk-up (radians, default 35°).
    public var maximumTurn = 35 * Double.pi / 180

    public init() {}

    /// A photo's usable face, and the person it shows (file name up to the first digit or `_`).
    public struct Photo {
        public var person: String
        public var image: BGRImage
        public var face: FaceObservation
        public init(person: String, image: BGRImage, face: FaceObservation) {
            self.person = person
            self.image = image
            self.face = face
        }
    }

    public static func person(ofFile name: String) -> String {
        let base = (name as NSString).deletingPathExtension
        return String(base.prefix { !$0.isNumber && $0 != "_" })
    }

    struct Random {
        var state: UInt64
        mutating func unit() -> Double {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Double(state % 1_000_000) / 1_000_000
        }
        mutating func between(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
    }

    /// Pose of a picture in the frame: where the eye midpoint goes, eye distance in pixels, roll, and the print's
    /// turn about its vertical and horizontal axes (radians) at `distance` eye distances from the camera.
    struct Placement {
        var x: Double, y: Double, iod: Double, roll: Double, yaw: Double, pitch: Double
        var distance = 8.0

        func mixed(with other: Placement, _ t: Double) -> Placement {
            func m(_ a: Double, _ b: Double) -> Double { a + (b - a) * t }
            return Placement(x: m(x, other.x), y: m(y, other.y), iod: m(iod, other.iod), roll: m(roll, other.roll),
                             yaw: m(yaw, other.yaw), pitch: m(pitch, other.pitch), distance: m(distance, other.distance))
        }

        /// photo → frame: the photo's points in eye distances about the eye midpoint, rolled, on a plane turned by
        /// yaw and pitch `distance` eye distances in front of a pinhole camera, projected and moved into place.
        func matrix(for face: FaceObservation) -> [Double] {
            let l = face.landmarks
            let cx = Double(l.leftEye.x + l.rightEye.x) / 2, cy = Double(l.leftEye.y + l.rightEye.y) / 2
            let unit = 1 / Double(max(face.interOcularDistance, 1))
            let c = cos(roll) * unit, n = sin(roll) * unit
            let similarity: [Double] = [c, -n, -(c * cx - n * cy), n, c, -(n * cx + c * cy), 0, 0, 1]
            // R = Rx(pitch) · Ry(yaw); a plane point (x, y, 0) goes to (r11 x + r12 y, r21 x + r22 y, r31 x + r32 y + D).
            let r11 = cos(yaw), r12 = 0.0
            let r21 = sin(pitch) * sin(yaw), r22 = cos(pitch)
            let r31 = -cos(pitch) * sin(yaw), r32 = sin(pitch)
            let projection: [Double] = [iod * r11, iod * r12, 0, iod * r21, iod * r22, 0, r31 / distance, r32 / distance, 1]
            let place: [Double] = [1, 0, x, 0, 1, y, 0, 0, 1]
            return Homography.multiply(place, Homography.multiply(projection, similarity))
        }
    }

    func placement(_ random: inout Random, turn: Double, iod: ClosedRange<Double>) -> Placement {
        Placement(x: Double(width) * random.between(0.35, 0.65), y: Double(height) * random.between(0.35, 0.55),
                  iod: random.between(iod.lowerBound, iod.upperBound), roll: random.between(-0.15, 0.15),
                  yaw: random.between(-turn, turn), pitch: random.between(-turn, turn), distance: random.between(6, 12))
    }

    /// Builds the set. Deterministic for a given `seed`.
    public func presentations(from photos: [Photo]) -> [Presentation] {
        var random = Random(state: seed &* 2 &+ 1)  // odd, and distinct for every seed
        var result: [Presentation] = []
        for photo in photos {
            for n in 0..<attacksPerPhoto {
                let screen = n % 2 == 1
                let rescale = n % 4 >= 2
                let start = placement(&random, turn: maximumTurn, iod: rescale ? 40...50 : 50...70)
                let end = placement(&random, turn: maximumTurn, iod: rescale ? 80...95 : 50...70)
                var colour: [BGRImage] = [], infrared: [BGRImage] = []
                for k in 0..<frames {
                    let t = frames > 1 ? Double(k) / Double(frames - 1) : 0
                    let matrix = start.mixed(with: end, t).matrix(for: photo.face)
                    guard var frame = photo.image.warped(by: matrix, width: width, height: height) else { continue }
                    if screen {
                        frame = frame.screenLike(gamma: random.between(1.5, 2.2), moire: random.between(0.06, 0.14),
                                                 period: random.between(3, 7), angle: random.between(0, .pi), seed: random.state)
                    }
                    colour.append(frame)
                    infrared.append(frame.infrared(screen ? .screen : .washedOutPrint, seed: random.state))
                }
                result.append(Presentation(attack: true, kind: "\(screen ? "screen" : "print")\(rescale ? " rescaled" : " moved")",
                                           colour: colour, infrared: infrared))
            }
        }
        let people = Dictionary(grouping: photos, by: \.person).filter { $0.value.count >= 2 }
        for (_, own) in people.sorted(by: { $0.key < $1.key }) {
            // Pairs of photos by how far apart the head poses are (the nose residual between the two photos'
            // landmarks): apart, a head that turned during the walk-up; close, a head held still.
            var apart: [(Int, Int)] = [], close: [(Int, Int)] = []
            for i in own.indices {
                for j in own.indices where j != i {
                    let r = PlanarGeometryCue.residual(from: FivePoints(own[i].face), to: FivePoints(own[j].face)) ?? 0
                    if r >= posesApart { apart.append((i, j)) } else { close.append((i, j)) }
                }
            }
            for n in 0..<(bonaFidePerPerson + stillPerPerson) {
                let still = n >= bonaFidePerPerson
                let pairs = still ? close : apart
                guard !pairs.isEmpty else { continue }
                let (first, second) = pairs[Int(random.unit() * Double(pairs.count)) % pairs.count]
                // The turn happens somewhere in the walk-up: 1 to frames-1 frames before it.
                let span = max(1, min(turnWithin ?? (frames - 1), frames - 1))
                let turnAt = 1 + Int(random.unit() * Double(span)) % span
                let base = placement(&random, turn: 0, iod: 50...75)
                var colour: [BGRImage] = [], infrared: [BGRImage] = []
                for k in 0..<frames {
                    let photo = own[k < turnAt ? first : second]
                    var place = base
                    place.x += random.between(-12, 12)
                    place.y += random.between(-8, 8)
                    place.iod *= random.between(0.93, 1.08)
                    place.roll += random.between(-0.05, 0.05)
                    guard let frame = photo.image.warped(by: place.matrix(for: photo.face), width: width, height: height) else { continue }
                    colour.append(frame)
                    infrared.append(frame.infrared(.live, seed: random.state))
                }
                result.append(Presentation(attack: false, kind: still ? LivenessEvaluation.stillKind : "two poses",
                                           colour: colour, infrared: infrared))
            }
        }
        return result
    }

    /// Runs the cues on one presentation, as the recogniser would (largest usable face per frame, one tracker per
    /// policy, frame by frame).
    public func evaluate(_ presentation: Presentation, engine: FaceEngine, geometry: PlanarGeometryCue = PlanarGeometryCue(),
                         rules: InfraredRules = InfraredRules()) throws -> Outcome {
        let policies: [LivenessPolicy] = [.ir, .geometry, .irAndGeometry]
        var trackers = policies.map { LivenessTracker(policy: $0, geometry: geometry, infrared: rules) }
        var acquired = 0, liveAt: [LivenessPolicy: Int] = [:], largest = 0.0
        for (colour, infrared) in zip(presentation.colour, presentation.infrared) {
            guard let face = try engine.usableFaces(in: colour).faces.first else { continue }
            acquired += 1
            let evidence = try InfraredCheck().evidence(for: face, in: infrared, detector: engine.detector)
            for index in trackers.indices {
                trackers[index].observe(FivePoints(face), infrared: evidence)
                if trackers[index].verdict == .live, liveAt[policies[index]] == nil { liveAt[policies[index]] = acquired }
            }
            largest = max(largest, trackers.map(\.geometryDeparture).max() ?? 0)
        }
        return Outcome(attack: presentation.attack, kind: presentation.kind, acquired: acquired >= 2, liveAt: liveAt,
                       largestResidual: largest)
    }

    /// The APCER/BPCER table (ISO/IEC 30107-3 terms) over the presentations whose face was acquired.
    public static func table(_ outcomes: [Outcome]) -> [String] {
        let acquired = outcomes.filter(\.acquired)
        let attacks = acquired.filter(\.attack), bona = acquired.filter { !$0.attack && $0.kind != stillKind }
        let still = acquired.filter { !$0.attack && $0.kind == stillKind }
        func percent(_ n: Int, _ of: Int) -> String { of == 0 ? "n/a" : String(format: "%d/%d = %.1f %%", n, of, 100 * Double(n) / Double(of)) }
        var lines = ["attack presentations: \(attacks.count), bona fide presentations: \(bona.count) "
                     + "(not acquired, no usable face in 2 frames: \(outcomes.count - acquired.count))",
                     "| policy | APCER (attacks accepted) | BPCER (bona fide refused) |", "|---|---|---|"]
        for policy in [LivenessPolicy.ir, .geometry, .irAndGeometry, .none] {
            let apcer = attacks.filter { $0.accepted(under: policy) }.count
            let bpcer = bona.filter { !$0.accepted(under: policy) }.count
            lines.append("| \(policy.rawValue) | \(percent(apcer, attacks.count)) | \(percent(bpcer, bona.count)) |")
        }
        let decided = [LivenessPolicy.ir, .geometry, .irAndGeometry].map { policy -> String in
            let frames = bona.compactMap { $0.liveAt[policy] }.sorted()
            guard !frames.isEmpty else { return "\(policy.rawValue) n/a" }
            return "\(policy.rawValue) \(frames[frames.count / 2]) / \(frames[min(frames.count - 1, frames.count * 95 / 100)])"
        }
        lines.append("frame of the walk-up at which bona fide presentations were accepted, p50 / p95: " + decided.joined(separator: ", "))
        if !still.isEmpty {
            lines.append("bona fide walk-ups whose head did not turn (two photos of one pose; not in BPCER above): refused by "
                         + "geometry \(percent(still.filter { !$0.accepted(under: .geometry) }.count, still.count)), "
                         + "by ir \(percent(still.filter { !$0.accepted(under: .ir) }.count, still.count))")
        }
        lines.append("per attack type (APCER under ir / geometry):")
        for kind in Set(attacks.map(\.kind)).sorted() {
            let these = attacks.filter { $0.kind == kind }
            lines.append("  \(kind): ir \(percent(these.filter { $0.accepted(under: .ir) }.count, these.count)), "
                         + "geometry \(percent(these.filter { $0.accepted(under: .geometry) }.count, these.count))")
        }
        func spread(_ values: [Double]) -> String {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return "n/a" }
            return String(format: "min %.3f, median %.3f, max %.3f", sorted[0], sorted[sorted.count / 2], sorted[sorted.count - 1])
        }
        lines.append("largest departure of the nose from the plane (eye distances): attacks \(spread(attacks.map(\.largestResidual))); "
                     + "bona fide \(spread(bona.map(\.largestResidual))); held still \(spread(still.map(\.largestResidual)))")
        return lines
    }
}

extension LivenessEvaluation.Random: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
}
