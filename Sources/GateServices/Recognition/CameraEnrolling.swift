public import GateControl

/// Camera enrolment as the control socket drives it (`face.enroll`, `face.enrolment`); the recogniser
/// implements it. Both calls answer at once: the CLI polls for the outcome.
public protocol CameraEnrolling: Sendable {
    /// Arms an enrolment of `frames` templates; `door` is where the resident will authenticate (`nil`: the camera's).
    func enroll(residentID: String, frames: Int, door: String?, operatorName: String) -> ControlResponse
    /// Where the resident's enrolment stands.
    func enrolmentProgress(residentID: String) -> ControlResponse
}
