public import FaceVision
import Foundation
public import GateConfiguration
public import GateCore

/// The face pipeline's models and rules, built from the `face` configuration: detector, embedder,
/// quality gates, matching rules. Shared by the daemon's recogniser and the CLI's enrolment, so a
/// face is judged the same way in both.
///
/// Not for concurrent use from several threads at once beyond what the model classes allow (each
/// serialises its own calls): the recogniser owns one engine on its thread, the CLI another.
public final class FaceEngine: Sendable {
    public let configuration: FaceConfiguration
    public let detector: any FaceDetector
    public let embedder: any FaceEmbedder
    public let modelsDirectory: String

    /// Loads the models. - Throws: `FaceVisionError` naming the missing or damaged file.
    public init(configuration: FaceConfiguration, stateDirectory: String) throws {
        self.configuration = configuration
        let models = Self.modelsDirectory(configuration: configuration, stateDirectory: stateDirectory)
        modelsDirectory = models
        detector = try CenterFaceDetector(modelPath: "\(models)/centerface.onnx", inputWidth: configuration.detectionWidth,
                                          inputHeight: configuration.detectionHeight)
        switch configuration.embedder {
        case .dlib:
            embedder = try DlibEmbedder(modelsDirectory: models)
        case .network(let network):
            embedder = try DNNEmbedder(configuration: Self.dnnConfiguration(network, modelsDirectory: models))
        }
    }

    /// `face.modelsDirectory`, else `<state dir>/models` when it exists, else `/usr/share/optgate/models`.
    public static func modelsDirectory(configuration: FaceConfiguration, stateDirectory: String) -> String {
        if let configured = configuration.modelsDirectory { return configured }
        if let environment = ProcessInfo.processInfo.environment["OPTGATE_MODELS_DIR"] { return environment }
        let local = "\(stateDirectory)/models"
        return FileManager.default.fileExists(atPath: local) ? local : "/usr/share/optgate/models"
    }

    public var descriptor: EmbedderDescriptor { embedder.descriptor }
    public var metric: EmbeddingMetric { descriptor.metric == .cosine ? .cosine : .euclidean }
    /// The configured threshold, else the embedder's. For dlib the gate default is 0.5, stricter than
    /// dlib's 0.6 "same person" rule: a gate must refuse strangers first (docs/face.md has the numbers).
    public var matchRules: MatchRules {
        let fallback: Float = if case .dlib = configuration.embedder { 0.5 } else { descriptor.defaultThreshold }
        return configuration.matchRules(defaultThreshold: fallback)
    }
    public var threshold: Float { matchRules.threshold }

    public func newIndex() -> FaceIndex { FaceIndex(dimension: descriptor.dimension, metric: metric) }

    /// Distance between two embeddings under this embedder's metric.
    public func distance(_ a: [Float], _ b: [Float]) -> Float { descriptor.distance(a, b) }

    /// Faces in the frame that pass every quality gate, largest first, with the reasons others failed.
    public func usableFaces(in image: BGRImage) throws -> (faces: [FaceObservation], rejected: [String]) {
        var usable: [FaceObservation] = []
        var rejected: [String] = []
        for face in try detector.detect(in: image) {
            if let problem = qualityProblem(face, in: image) { rejected.append(problem) } else { usable.append(face) }
        }
        return (usable.sorted { $0.box.area > $1.box.area }, rejected)
    }

    /// Why a face is not good enough to embed, or `nil` when it is.
    public func qualityProblem(_ face: FaceObservation, in image: BGRImage) -> String? {
        let settings = configuration
        if Double(face.score) < settings.minScore {
            return "detection score \(String(format: "%.2f", face.score)) is below \(settings.minScore)"
        }
        if Double(face.interOcularDistance) < settings.minInterOcularPixels {
            return "the face is too small (\(Int(face.interOcularDistance)) px between the eyes, at least \(Int(settings.minInterOcularPixels)) needed)"
        }
        if abs(Double(face.yawDegrees)) > settings.maxYawDegrees {
            return "the head is turned too far (\(Int(face.yawDegrees))°, at most \(Int(settings.maxYawDegrees))°)"
        }
        if let zone = settings.captureZone {
            let center = face.box.center
            let x = Double(center.x) / Double(image.width), y = Double(center.y) / Double(image.height)
            if x < zone[0] || y < zone[1] || x > zone[0] + zone[2] || y > zone[1] + zone[3] { return "the face is outside the capture zone" }
        }
        if let sharpness = try? image.sharpness(in: face.box), sharpness < settings.minSharpness {
            return "the image is too blurred (sharpness \(Int(sharpness)), at least \(Int(settings.minSharpness)))"
        }
        return nil
    }

    public func embed(_ face: FaceObservation, in image: BGRImage) throws -> [Float] {
        try embedder.embed(face, in: image)
    }

    /// Why an embedding may not become one of `residentID`'s templates.
    public enum EnrolmentRefusal: Equatable, Sendable {
        /// It and `collected[earlier]` do not show the same person.
        case differentPerson(earlier: Int)
        /// It is within the match threshold of another resident's template; `residentID` is `nil` when the
        /// index only knows the distance (the resident's own templates came nearest).
        case matchesAnotherResident(residentID: String?, distance: Float)
    }

    /// The enrolment rules, one set for photo enrolment (CLI) and camera enrolment (daemon): `embedding`
    /// must show the same person as every embedding already `collected` for this enrolment, and must not
    /// match another resident in `index` (the resident's own templates there are passed over).
    /// - Returns: `nil` when it may be stored.
    public func enrolmentRefusal(of embedding: [Float], after collected: [[Float]], residentID: String,
                                 among index: FaceIndex) -> EnrolmentRefusal? {
        if let earlier = collected.firstIndex(where: { distance($0, embedding) >= threshold }) {
            return .differentPerson(earlier: earlier)
        }
        guard let match = index.nearest(to: embedding) else { return nil }
        if match.residentID != residentID, match.distance < threshold {
            return .matchesAnotherResident(residentID: match.residentID, distance: match.distance)
        }
        if match.residentID == residentID, match.runnerUpDistance < threshold {
            return .matchesAnotherResident(residentID: nil, distance: match.runnerUpDistance)
        }
        return nil
    }

    static func dnnConfiguration(_ network: FaceConfiguration.NetworkEmbedder, modelsDirectory: String) -> DNNEmbedder.Configuration {
        func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : "\(modelsDirectory)/\(path)" }
        let template: [SIMD2<Float>]
        if let points = network.alignment {
            template = stride(from: 0, to: 10, by: 2).map { SIMD2(Float(points[$0]), Float(points[$0 + 1])) }
        } else {
            template = DNNEmbedder.Configuration.arcFaceTemplate(size: Float(min(network.inputWidth, network.inputHeight)),
                                                                zoom: Float(network.alignmentZoom))
        }
        let normalization: DNNEmbedder.Normalization = network.standardize
            ? .perImageStandardization
            : .meanScale(mean: SIMD3(Float(network.mean[0]), Float(network.mean[1]), Float(network.mean[2])), scale: Float(network.scale))
        return DNNEmbedder.Configuration(
            descriptor: EmbedderDescriptor(id: network.id, dimension: network.dimension,
                                           metric: network.metric == .cosine ? .cosine : .euclidean,
                                           defaultThreshold: Float(network.threshold)),
            modelPath: resolve(network.model), configPath: network.config.map(resolve),
            inputWidth: network.inputWidth, inputHeight: network.inputHeight, normalization: normalization,
            swapRB: network.swapRB, alignmentTemplate: template
        )
    }
}
