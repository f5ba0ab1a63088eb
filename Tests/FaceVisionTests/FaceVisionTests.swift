import FaceVision
import Foundation
import Testing

@Suite("Models", .enabled(if: Fixtures.modelsAvailable, Fixtures.skipMessage))
struct ModelLoadingTests {
    @Test func missingModelThrowsModelMissing() {
        let error = #expect(throws: FaceVisionError.self) {
            try CenterFaceDetector(modelPath: "/nonexistent/centerface.onnx")
        }
        #expect(error == .modelMissing(path: "/nonexistent/centerface.onnx"))
        #expect(throws: FaceVisionError.modelMissing(path: "/nonexistent/dlib_face_recognition_resnet_model_v1.dat")) {
            try DlibEmbedder(
                shapePredictorPath: Fixtures.modelsDirectory + "/shape_predictor_5_face_landmarks.dat",
                networkPath: "/nonexistent/dlib_face_recognition_resnet_model_v1.dat"
            )
        }
        #expect(throws: FaceVisionError.modelMissing(path: "/nonexistent/graph_final.pb")) {
            try DNNEmbedder(configuration: .faceNet(modelsDirectory: "/nonexistent"))
        }
    }

    @Test func corruptModelsThrowModelInvalid() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(getpid()).onnx").path
        try Data("this is not a network".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for make in [
            { _ = try CenterFaceDetector(modelPath: path) },
            { _ = try DlibEmbedder(shapePredictorPath: path, networkPath: path) },
            {
                var c = DNNEmbedder.Configuration.faceNet(modelsDirectory: Fixtures.modelsDirectory)
                c.modelPath = path
                _ = try DNNEmbedder(configuration: c)
            },
        ] as [() throws -> Void] {
            let error = #expect(throws: FaceVisionError.self) { try make() }
            guard case .modelInvalid = error else {
                Issue.record("expected modelInvalid, got \(String(describing: error))")
                continue
            }
        }
        // The wrong dlib file for the network type (shape predictor passed as the ResNet).
        let wrong = #expect(throws: FaceVisionError.self) {
            try DlibEmbedder(
                shapePredictorPath: Fixtures.modelsDirectory + "/shape_predictor_5_face_landmarks.dat",
                networkPath: Fixtures.modelsDirectory + "/shape_predictor_5_face_landmarks.dat"
            )
        }
        guard case .modelInvalid = wrong else {
            Issue.record("expected modelInvalid, got \(String(describing: wrong))")
            return
        }
    }

    /// Real model files cut short (an interrupted copy) must throw, not crash.
    @Test(arguments: ["centerface.onnx", "dlib_face_recognition_resnet_model_v1.dat", "graph_final.pb"])
    func truncatedModelsThrowModelInvalid(name: String) throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.modelsDirectory + "/" + name))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(getpid())-\(name)").path
        try original.prefix(original.count / 3).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: FaceVisionError.self) {
            switch name {
            case "centerface.onnx": _ = try CenterFaceDetector(modelPath: path)
            case "graph_final.pb":
                var c = DNNEmbedder.Configuration.faceNet(modelsDirectory: Fixtures.modelsDirectory)
                c.modelPath = path
                _ = try DNNEmbedder(configuration: c)
            default:
                _ = try DlibEmbedder(
                    shapePredictorPath: Fixtures.modelsDirectory + "/shape_predictor_5_face_landmarks.dat",
                    networkPath: path
                )
            }
        }
        guard case .modelInvalid = error else {
            Issue.record("expected modelInvalid, got \(String(describing: error))")
            return
        }
        print("truncated \(name): \(error!)")
    }

    @Test func badDetectorInputSizeIsAnArgumentError() {
        let error = #expect(throws: FaceVisionError.self) {
            try CenterFaceDetector(
                modelPath: Fixtures.modelsDirectory + "/centerface.onnx",
                inputWidth: 100,
                inputHeight: 100
            )
        }
        guard case .invalidArgument = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
    }
}

@Suite("Detection and embedding", .enabled(if: Fixtures.modelsAndPhotosAvailable, Fixtures.skipMessage))
struct PipelineTests {
    let pipeline: Fixtures.Pipeline

    init() throws { pipeline = try Fixtures.pipeline.get() }

    func embeddings(_ names: [String], _ embedder: some FaceEmbedder) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for name in names {
            let image = try Fixtures.photo(name)
            let face = try #require(try Fixtures.largestFace(in: image, pipeline.detector), "no face in \(name)")
            let embedding = try embedder.embed(face, in: image)
            #expect(embedding.count == embedder.descriptor.dimension)
            result[name] = embedding
        }
        return result
    }

    @Test func dlibSeparatesObamaFromBiden() throws {
        let e = try embeddings(["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"], pipeline.dlib)
        let d = pipeline.dlib.descriptor
        let same = d.distance(e["obama.jpg"]!, e["obama2.jpg"]!)
        let same3 = d.distance(e["obama.jpg"]!, e["obama3.jpg"]!)
        let other = d.distance(e["obama.jpg"]!, e["biden.jpg"]!)
        print("dlib L2: obama-obama2 \(same), obama-obama3 \(same3), obama-biden \(other)")
        #expect(same < d.defaultThreshold)
        #expect(same3 < d.defaultThreshold)
        #expect(other > d.defaultThreshold)
    }

    @Test func faceNetPutsObamaPairCloserThanObamaBiden() throws {
        let e = try embeddings(["obama.jpg", "obama2.jpg", "biden.jpg"], pipeline.faceNet)
        let d = pipeline.faceNet.descriptor
        #expect(d.metric == .cosine && d.dimension == 512)
        let same = d.distance(e["obama.jpg"]!, e["obama2.jpg"]!)
        let other = d.distance(e["obama.jpg"]!, e["biden.jpg"]!)
        print("FaceNet cosine distance: obama-obama2 \(same), obama-biden \(other)")
        #expect(same < other)
    }

    @Test func groupPhotoHasAtLeastFiveFaces() throws {
        let faces = try pipeline.detector.detect(in: try Fixtures.photo("t1.jpg"))
        print("t1.jpg: \(faces.count) faces, scores \(faces.map(\.score))")
        #expect(faces.count >= 5)
        #expect(faces.allSatisfy { $0.score > 0.5 && $0.interOcularDistance > 5 })
        #expect(zip(faces, faces.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    @Test func faceLandmarksLookLikeAFace() throws {
        let image = try Fixtures.photo("obama.jpg")
        let face = try #require(try Fixtures.largestFace(in: image, pipeline.detector))
        let l = face.landmarks
        #expect(l.rightEye.x < l.leftEye.x)
        #expect(l.nose.y > l.rightEye.y && l.rightMouthCorner.y > l.nose.y)
        #expect(abs(face.yawDegrees) < 25 && abs(face.rollDegrees) < 20)
        #expect(try image.sharpness(in: face.box) > 0)
    }

    @Test func gradientHasNoFace() throws {
        // Through an actual JPEG round trip, as camera frames arrive.
        let jpeg = try JPEGEncoder().encode(Fixtures.gradient(width: 640, height: 480))
        let faces = try pipeline.detector.detect(in: try JPEGDecoder().decode(jpeg))
        #expect(faces.isEmpty)
    }

    @Test func tinyAndOddSizedImagesWork() throws {
        #expect(try pipeline.detector.detect(in: BGRImage(width: 1, height: 1)).isEmpty)
        #expect(try pipeline.detector.detect(in: Fixtures.gradient(width: 2000, height: 50)).isEmpty)
    }

    /// The wrappers serialise callers on one handle: concurrent use gives the same answers as serial use.
    @Test func concurrentCallersGetConsistentResults() async throws {
        let image = try Fixtures.photo("obama.jpg")
        let detector = pipeline.detector
        let dlib = pipeline.dlib
        let face = try #require(try Fixtures.largestFace(in: image, detector))
        let reference = try dlib.embed(face, in: image)
        try await withThrowingTaskGroup(of: (Int, Float).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let faces = try detector.detect(in: image)
                    let e = try dlib.embed(face, in: image)
                    return (faces.count, DistanceMetric.euclidean.distance(e, reference))
                }
            }
            for try await (count, distance) in group {
                #expect(count >= 1)
                #expect(distance < 1e-4)
            }
        }
    }

    @Test func emptyBoxIsAnArgumentError() throws {
        let face = FaceObservation(
            box: FaceBox(x: 10, y: 10, width: 0, height: 0),
            landmarks: FaceLandmarks(
                rightEye: .zero,
                leftEye: .zero,
                nose: .zero,
                rightMouthCorner: .zero,
                leftMouthCorner: .zero
            ),
            score: 1
        )
        #expect(throws: FaceVisionError.self) { try pipeline.dlib.embed(face, in: Fixtures.gradient()) }
        #expect(throws: FaceVisionError.self) { try pipeline.faceNet.embed(face, in: Fixtures.gradient()) }
    }
}
