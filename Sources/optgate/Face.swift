import ArgumentParser
import FaceVision
import Foundation
import GateControl
import GateCore
import GateConfiguration
import GateFace
import GateStore

/// Where the `face` settings come from for CLI commands: the daemon's configuration file.
struct FaceOptions: ParsableArguments {
    @Option(help: "Daemon configuration to take the face settings from (default: /etc/optgate/optgated.json when it exists).")
    var config: String?

    @Option(help: "Models directory (default: face.modelsDirectory, $OPTGATE_MODELS_DIR, <state dir>/models, /usr/share/optgate/models).")
    var models: String?

    func engine(stateDirectory: String) throws -> FaceEngine {
        let path = config ?? (FileManager.default.fileExists(atPath: "/etc/optgate/optgated.json") ? "/etc/optgate/optgated.json" : nil)
        var face = try path.map { try DaemonConfiguration(contentsOf: $0) }?.face ?? DaemonConfiguration.defaults.face
        if let models { face.modelsDirectory = models }
        do {
            return try FaceEngine(configuration: face, stateDirectory: stateDirectory)
        } catch {
            throw CLIError("face recognition is not available: \(error) (install the models with scripts/fetch-models)")
        }
    }
}

/// Reads a photo into memory (never copied anywhere) and finds exactly one usable face in it.
struct PhotoReader {
    let engine: FaceEngine
    let decoder: JPEGDecoder

    init(engine: FaceEngine) throws {
        self.engine = engine
        decoder = try JPEGDecoder()
    }

    /// - Throws: a sentence naming the photo: unreadable, not a JPEG, no face, several faces, poor quality.
    func embedding(of path: String, requireSingleFace: Bool) throws -> [Float] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot be read") }
        let image: BGRImage
        do {
            image = try decoder.decode(Array(data))
        } catch {
            throw CLIError("\(path): \(error)")
        }
        let faces = try engine.detector.detect(in: image)
        guard !faces.isEmpty else { throw CLIError("\(path): no face was found") }
        if requireSingleFace && faces.count > 1 {
            throw CLIError("\(path): \(faces.count) faces were found; use a photo of the resident alone")
        }
        let face = faces.max { $0.box.area < $1.box.area }!
        if let problem = engine.qualityProblem(face, in: image) { throw CLIError("\(path): \(problem)") }
        return try engine.embed(face, in: image)
    }
}

struct FaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "face",
        abstract: "Enrol and delete face templates (with consent only); compare photos for diagnostics.",
        subcommands: [Enroll.self, Delete.self, Compare.self, Score.self, LivenessScore.self]
    )

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol a resident's face from photos, or from the gate's camera after the resident's own card or PIN. Refused without active consent; nothing but the templates is kept.",
            discussion: """
                --image is an operator action, recorded with the operator. --camera arms the running daemon: the
                resident then presents their own card or PIN at the camera's door within face.enrolmentWindowSeconds
                (default 60 s), and only then are frames captured. Every frame must show that one person alone;
                the first frame with two faces or another person ends the session and nothing is stored.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var face: FaceOptions
        @Argument(help: "Resident id.") var id: String
        @Option(name: .customLong("image"), help: "A JPEG photo of the resident alone (repeat for up to 5).")
        var images: [String] = []
        @Flag(help: "Capture from the gate's camera through the running daemon, after the resident's own card or PIN there.")
        var camera = false
        @Option(help: "With --camera: the door where the resident authenticates (default: the camera's door; no other is accepted).")
        var door: String?
        @Option(help: "Frames to capture with --camera (1–5, one template each).") var frames = 3

        func validate() throws {
            if images.isEmpty == !camera { throw ValidationError("Please give either --image FILE (repeatable) or --camera.") }
            if door != nil && !camera { throw ValidationError("Please give --door only with --camera.") }
            if images.count > GateDatabase.maximumTemplatesPerResident {
                throw ValidationError("Please give at most \(GateDatabase.maximumTemplatesPerResident) images.")
            }
        }

        func run() throws {
            let database = try global.database()
            // Consent first: no photo is even opened without it.
            guard try database.resident(id).faceConsent else { throw GateStoreError.noActiveConsent(residentID: id) }
            if camera {
                try enrolFromCamera()
                return
            }
            let engine = try face.engine(stateDirectory: global.stateDirectory)
            let reader = try PhotoReader(engine: engine)
            let embeddings = try images.map { try reader.embedding(of: $0, requireSingleFace: true) }
            // Other residents only, so that a refusal can name the resident matched.
            var others = engine.newIndex()
            for template in try database.activeFaceTemplates() where template.embedder == engine.descriptor.id && template.residentID != id {
                others.add(template.embedding, residentID: template.residentID)
            }
            for (position, (path, embedding)) in zip(images, embeddings).enumerated() {
                switch engine.enrolmentRefusal(of: embedding, after: Array(embeddings[..<position]), residentID: id, among: others) {
                case .differentPerson(let earlier)?:
                    throw CLIError("\(images[earlier]) and \(path) do not show the same person; enrolment refused")
                case .matchesAnotherResident(let other, let distance)?:
                    throw CLIError("\(path): this face already matches resident \(other ?? "another resident") (distance \(String(format: "%.3f", distance))); enrolment refused")
                case nil:
                    break
                }
            }
            for embedding in embeddings {
                try database.storeFaceTemplate(residentID: id, embedder: engine.descriptor.id, embedding: embedding, operator: currentOperator,
                                               source: "photos")
            }
            print("enrolled \(embeddings.count) face template(s) for \(id) with \(engine.descriptor.id); the photos were read in memory and not kept")
        }

        /// Arms the daemon's camera enrolment, then follows it until it ends: the resident's own card or PIN at
        /// the door first, then capture. Progress lines go to standard error, the outcome to standard output.
        func enrolFromCamera() throws {
            var response = try global.send(ControlRequest(command: .faceEnroll, door: door, resident: id, frames: frames))
            var shown: EnrolmentProgress.State?
            while true {
                guard let progress = response.enrolment else { throw CLIError("optgated did not report the enrolment") }
                if progress.state != shown {
                    shown = progress.state
                    switch progress.state {
                    case .enrolled:
                        print(Output.safe(progress.message))
                        return
                    case .refused:
                        throw CLIError(progress.message)
                    case .awaitingCredential, .capturing:
                        FileHandle.standardError.write(Data("\(progress.message)\n".utf8))
                    }
                }
                usleep(250_000)
                response = try global.send(ControlRequest(command: .faceEnrolment, resident: id))
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a resident's face templates (consent records stay).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident id.") var id: String

        func run() throws {
            let deleted = try global.database().deleteFaceTemplates(residentID: id, operator: currentOperator)
            print("deleted \(deleted) face template(s) of \(id)")
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Distance between the largest faces of two photos, and the verdict at the configured threshold. Nothing is stored.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var face: FaceOptions
        @Argument(help: "First JPEG.") var first: String
        @Argument(help: "Second JPEG.") var second: String

        func run() throws {
            let engine = try face.engine(stateDirectory: global.stateDirectory)
            let reader = try PhotoReader(engine: engine)
            let distance = engine.distance(try reader.embedding(of: first, requireSingleFace: false),
                                           try reader.embedding(of: second, requireSingleFace: false))
            let same = distance < engine.threshold
            print("distance \(String(format: "%.3f", distance)) (\(engine.descriptor.id), threshold \(String(format: "%.2f", engine.threshold))): \(same ? "same person" : "different people")")
        }
    }

    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score photo pairs from a CSV (pathA,pathB per line); prints pathA,pathB,distance,match. Nothing is stored.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var face: FaceOptions
        @Option(help: "CSV file of pairs.") var pairs: String

        func run() throws {
            guard let text = try? String(contentsOfFile: pairs, encoding: .utf8) else { throw CLIError("\(pairs): cannot be read") }
            let engine = try face.engine(stateDirectory: global.stateDirectory)
            let reader = try PhotoReader(engine: engine)
            var cache: [String: Result<[Float], any Error>] = [:]
            func embedding(_ path: String) -> Result<[Float], any Error> {
                if let known = cache[path] { return known }
                let result = Result { try reader.embedding(of: path, requireSingleFace: false) }
                cache[path] = result
                return result
            }
            print("pathA,pathB,distance,match")
            var failures = 0
            for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count == 2 else {
                    FileHandle.standardError.write(Data("skipped (expected pathA,pathB): \(line)\n".utf8))
                    failures += 1
                    continue
                }
                if fields == ["pathA", "pathB"] { continue }
                switch (embedding(fields[0]), embedding(fields[1])) {
                case (.success(let a), .success(let b)):
                    let distance = engine.distance(a, b)
                    print(Output.csv([fields[0], fields[1], String(format: "%.4f", distance), distance < engine.threshold ? "yes" : "no"]))
                case (.failure(let error), _), (_, .failure(let error)):
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    print(Output.csv([fields[0], fields[1], nil, "error"]))
                    failures += 1
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
