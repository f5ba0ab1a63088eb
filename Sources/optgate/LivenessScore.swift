import ArgumentParser
import FaceVision
import Foundation
import GateCore
import GateConfiguration
import GateFace

extension FaceCommand {
    /// `optgate face liveness-score`: the presentation-attack evaluation (docs/face.md#liveness).
    struct LivenessScore: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "liveness-score",
            abstract: "Build presentation attacks and bona fide walk-ups from photos and print APCER/BPCER per cue and policy. Nothing is stored.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var face: FaceOptions
        @Option(help: "Directory of JPEG photos; the person is the file name up to the first digit or _ (default: $OPTGATE_TESTDATA_DIR).")
        var photos: String?
        @Option(help: "Attack walk-ups per photo.") var attacks = 8
        @Option(help: "Bona fide walk-ups per person with two or more photos (two head poses).") var bonaFide = 30
        @Option(help: "Walk-ups per person of two photos with one pose (a head held still), reported apart.") var still = 10
        @Option(help: "Frames per walk-up (default: the door's face.livenessFrames, 12: how long the daemon lets a walk-up match before livenessFailed).")
        var frames: Int?
        @Option(help: "Seed of the random placements (another seed gives another set from the same photos).") var seed: UInt64 = 12
        @Flag(help: "Print one line per presentation too.") var verbose = false

        func run() throws {
            guard let directory = photos ?? ProcessInfo.processInfo.environment["OPTGATE_TESTDATA_DIR"] else {
                throw CLIError("give --photos DIR (or set OPTGATE_TESTDATA_DIR; scripts/fetch-test-photos fetches a set)")
            }
            let engine = try face.engine(stateDirectory: global.stateDirectory)
            let decoder = try JPEGDecoder()
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory))?
                .filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted() ?? []
            var usable: [LivenessEvaluation.Photo] = []
            for name in names {
                guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
                      let image = try? decoder.decode(Array(data)),
                      let face = try? engine.usableFaces(in: image).faces.first
                else {
                    print(Output.safe("\(name): no usable face, not used"))
                    continue
                }
                usable.append(LivenessEvaluation.Photo(person: LivenessEvaluation.person(ofFile: name), image: image, face: face))
            }
            guard !usable.isEmpty else { throw CLIError("\(directory): no photo with a usable face") }
            var evaluation = LivenessEvaluation()
            evaluation.attacksPerPhoto = attacks
            evaluation.bonaFidePerPerson = bonaFide
            evaluation.stillPerPerson = still
            let liveness = engine.configuration.liveness
            evaluation.frames = frames ?? liveness.livenessFrames
            evaluation.seed = seed
            let people = Dictionary(grouping: usable, by: \.person)
            print(Output.safe("photos: \(usable.count) usable of \(names.count); people with several photos (bona fide poses): "
                              + people.filter { $0.value.count >= 2 }.map { "\($0.key) (\($0.value.count))" }.sorted().joined(separator: ", ")))
            // How far apart the poses are: the nose residual between each two photos of one person.
            for (person, own) in people.sorted(by: { $0.key < $1.key }) where own.count >= 2 {
                var pairs: [String] = []
                for i in own.indices {
                    for j in own.indices where j > i {
                        let r = PlanarGeometryCue.residual(from: FivePoints(own[i].face), to: FivePoints(own[j].face)) ?? 0
                        pairs.append(String(format: "%.3f", r))
                    }
                }
                let yaws = own.map { String(format: "%.0f°", $0.face.yawDegrees) }.joined(separator: ", ")
                print(Output.safe("poses of \(person): yaw \(yaws); nose residual between each two photos: \(pairs.joined(separator: ", "))"))
            }
            let geometry = liveness.geometryCue
            var outcomes: [LivenessEvaluation.Outcome] = []
            for presentation in evaluation.presentations(from: usable) {
                let outcome = try evaluation.evaluate(presentation, engine: engine, geometry: geometry)
                outcomes.append(outcome)
                if verbose {
                    print("\(outcome.attack ? "attack" : "bona fide") \(outcome.kind): acquired \(outcome.acquired), ir \(outcome.infrared.rawValue), "
                          + "geometry \(outcome.geometry.rawValue) (residual \(String(format: "%.3f", outcome.largestResidual)))")
                }
            }
            print("frames per walk-up: \(evaluation.frames); geometry residual threshold \(liveness.geometryResidual) eye distances")
            for line in LivenessEvaluation.table(outcomes) { print(line) }
            print("Synthetic attacks built from a few photos bound, but do not prove, real-world performance.")
        }
    }
}
