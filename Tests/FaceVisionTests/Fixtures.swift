import FaceVision
import Foundation
import Testing

/// Where the tests find models and photos: `$OPTGATE_MODELS_DIR` (default `.build/models`) and
/// `$OPTGATE_TESTDATA_DIR` (default `.build/testdata`), filled by `scripts/fetch-models` and
/// `scripts/fetch-test-photos` (`scripts/test` runs both).
enum Fixtures {
    static let modelsDirectory = ProcessInfo.processInfo.environment["OPTGATE_MODELS_DIR"] ?? ".build/models"
    static let testDataDirectory = ProcessInfo.processInfo.environment["OPTGATE_TESTDATA_DIR"] ?? ".build/testdata"

    static var modelsAvailable: Bool {
        [
            "centerface.onnx", "shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat",
            "graph_final.pb",
        ].allSatisfy { FileManager.default.fileExists(atPath: modelsDirectory + "/" + $0) }
    }

    static var photosAvailable: Bool {
        ["obama.jpg", "obama2.jpg", "biden.jpg", "t1.jpg"]
            .allSatisfy { FileManager.default.fileExists(atPath: testDataDirectory + "/" + $0) }
    }

    static var modelsAndPhotosAvailable: Bool { modelsAvailable && photosAvailable }
    static let skipMessage: Comment = "models or photos missing: run scripts/fetch-models and scripts/fetch-test-photos"

    static func photoBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: testDataDirectory + "/" + name)))
    }

    static func photo(_ name: String) throws -> BGRImage {
        try JPEGDecoder().decode(try photoBytes(name))
    }

    /// A smooth colour gradient with no face in it.
    static func gradient(width: Int = 320, height: Int = 240) -> BGRImage {
        var image = BGRImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = (UInt8(x * 255 / width), UInt8(y * 255 / height), 128)
            }
        }
        return image
    }

    /// Models are loaded once per test process (FaceNet alone is 94 MB).
    struct Pipeline: Sendable {
        let detector: CenterFaceDetector
        let dlib: DlibEmbedder
        let faceNet: DNNEmbedder
    }

    static let pipeline: Result<Pipeline, FaceVisionError> = Result { () throws(FaceVisionError) in
        Pipeline(
            detector: try CenterFaceDetector(modelsDirectory: modelsDirectory),
            dlib: try DlibEmbedder(modelsDirectory: modelsDirectory),
            faceNet: try DNNEmbedder(configuration: .faceNet(modelsDirectory: modelsDirectory))
        )
    }

    /// The largest face in `image`.
    static func largestFace(in image: BGRImage, _ detector: some FaceDetector) throws -> FaceObservation? {
        try detector.detect(in: image).max { $0.box.area < $1.box.area }
    }
}
