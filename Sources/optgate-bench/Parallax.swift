import Foundation
import GateConfiguration
import GateCore

/// `optgate-bench parallax [--walkups N] [--jitter S] [--fps F]`: can the geometry cue decide from the natural motion of
/// a walk-up (approach, the camera's viewing angle changing, a small head wobble) within the first frames?
///
/// No photo set has walk-ups of real heads, so this simulates one: the five landmarks of an average head (eye centres
/// 63 mm apart, nose tip 32 mm in front of their plane, mouth corners 6 mm) walking at 1 m/s from 1.4 m towards a
/// pinhole camera (640×480, about 60° wide) mounted below and beside the face, the head facing the door and wobbling
/// by a random walk of 4°/s; a flat photo of the same face carried along the same path is the attack. Each landmark
/// gets Gaussian jitter of `--jitter` eye distances per frame (0.015 reproduces the detector's jitter: the attack
/// set's old 3-pair residual median, 0.042, docs/face.md). The frames go through the door's real `LivenessTracker`
/// (`geometry`, its 12-frame window and its rule), frame by frame as the recogniser feeds it.
func parallaxStudy(_ arguments: [String]) throws {
    var walkups = 400, jitter = 0.015, fps = 15.0
    var rest = arguments
    while rest.count >= 2 {
        let flag = rest.removeFirst(), value = rest.removeFirst()
        switch flag {
        case "--walkups": walkups = Int(value) ?? walkups
        case "--jitter": jitter = Double(value) ?? jitter
        case "--fps": fps = Double(value) ?? fps
        default: throw Failure("unknown option \(flag)")
        }
    }
    let early = Int((0.3 * fps).rounded(.down)) + 1  // frames shown within 300 ms: 5 at 15 fps
    // The daemon's patience: a walk-up that matched for face.livenessFrames (12) frames without liveness is refused.
    let late = LivenessConfiguration.defaultLivenessFrames
    print("| geometry cue, natural walk-up (simulated, jitter σ \(jitter) eye distances, \(walkups) walk-ups each) "
          + "| residual, no jitter, \(early) frames | live by frame \(early) (≤ 300 ms) | photo by frame \(early) "
          + "| live by frame \(late) (livenessFrames) | photo by frame \(late) |")
    print("|---|---|---|---|---|---|")
    var random = SeededGaussian(seed: 12)
    let cameras: [(String, Double, Double)] = [("level with the face", 0, 0), ("25 cm below, 10 cm aside", 0.25, 0.10),
                                               ("40 cm below, 20 cm aside", 0.40, 0.20)]
    for (place, below, aside) in cameras {
        for turn in [0.0, 12.0] {
            let path = WalkUpPath(fps: fps, below: below, aside: aside, turnDegrees: turn, turnFrames: early)
            let quiet = path.frames(SimulatedHead.live, count: early, jitter: 0, wobble: 0, random: &random)
            let residual = PlanarGeometryCue.departure(quiet)
            var live = (early: 0, late: 0), photo = (early: 0, late: 0)
            for _ in 0..<walkups {
                let l = firstLiveFrame(path.frames(SimulatedHead.live, count: late, jitter: jitter, wobble: 4, random: &random))
                let p = firstLiveFrame(path.frames(SimulatedHead.flat, count: late, jitter: jitter, wobble: 4, random: &random))
                if let l { live.early += l <= early ? 1 : 0; live.late += 1 }
                if let p { photo.early += p <= early ? 1 : 0; photo.late += 1 }
            }
            func pct(_ n: Int) -> String { String(format: "%.1f %%", 100 * Double(n) / Double(walkups)) }
            let motion = turn == 0 ? "approach only" : String(format: "approach + a %.0f° turn within %d frames", turn, early)
            print(String(format: "| camera %@, %@ | %.3f | %@ | %@ | %@ | %@ |", place, motion, residual, pct(live.early),
                         pct(photo.early), pct(live.late), pct(photo.late)))
        }
    }
}

/// The frame (1-based) at which the door's geometry tracker first says `live`, feeding it frame by frame.
private func firstLiveFrame(_ frames: [FivePoints]) -> Int? {
    var tracker = LivenessTracker(policy: .geometry)
    for (index, points) in frames.enumerated() {
        tracker.observe(points, infrared: nil)
        if tracker.verdict == .live { return index + 1 }
    }
    return nil
}

/// Five landmarks in metres in the head's frame (x right, y down, z towards the camera): eye centres, nose tip, mouth corners.
private enum SimulatedHead {
    static let live: [SIMD3<Double>] = [SIMD3(-0.0315, 0, 0), SIMD3(0.0315, 0, 0), SIMD3(0, 0.04, 0.032),
                                        SIMD3(-0.025, 0.075, 0.006), SIMD3(0.025, 0.075, 0.006)]
    static let flat: [SIMD3<Double>] = live.map { SIMD3($0.x, $0.y, 0) }
}

private struct WalkUpPath {
    var fps: Double
    var below: Double
    var aside: Double
    var turnDegrees: Double
    var turnFrames: Int
    let focal = 554.0, centre = SIMD2<Double>(320, 240), speed = 1.0, start = 1.4

    func frames(_ model: [SIMD3<Double>], count: Int, jitter: Double, wobble: Double, random: inout SeededGaussian) -> [FivePoints] {
        let radian = Double.pi / 180
        var yaw = random.next() * 3 * radian, pitch = random.next() * 3 * radian, roll = random.next() * 3 * radian
        var out: [FivePoints] = []
        for k in 0..<count {
            let distance = max(0.35, start - speed * Double(k) / fps)
            let turned = yaw + turnDegrees * radian * min(1, Double(k) / Double(max(1, turnFrames - 1)))
            let r = rotation(yaw: turned, pitch: pitch, roll: roll)
            var p = model.map { point -> SIMD2<Double> in
                let q = r(SIMD3(point.x, point.y, -point.z)) + SIMD3(aside, -below, distance)
                return SIMD2(q.x, q.y) / q.z * focal + centre
            }
            let d = p[1] - p[0]
            let eyes = (d * d).sum().squareRoot()
            p = p.map { $0 + SIMD2(random.next(), random.next()) * jitter * eyes }
            out.append(FivePoints(rightEye: p[0], leftEye: p[1], nose: p[2], rightMouth: p[3], leftMouth: p[4]))
            let step = wobble * radian / fps
            yaw += random.next() * step
            pitch += random.next() * step
            roll += random.next() * step / 2
        }
        return out
    }

    func rotation(yaw: Double, pitch: Double, roll: Double) -> (SIMD3<Double>) -> SIMD3<Double> {
        let (cy, sy, cp, sp, cr, sr) = (cos(yaw), sin(yaw), cos(pitch), sin(pitch), cos(roll), sin(roll))
        return { v in
            let z1 = SIMD3(cr * v.x - sr * v.y, sr * v.x + cr * v.y, v.z)  // roll about z
            let x1 = SIMD3(z1.x, cp * z1.y - sp * z1.z, sp * z1.y + cp * z1.z)  // pitch about x
            return SIMD3(cy * x1.x + sy * x1.z, x1.y, -sy * x1.x + cy * x1.z)  // yaw about y
        }
    }
}
