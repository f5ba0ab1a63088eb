import Foundation
import ServiceLifecycle

/// Runs a service's blocking loop on a dedicated thread (never the cooperative pool) for the lifetime of
/// the service: the camera pipeline, the GPIO input watcher, the evdev and PC/SC readers. Graceful
/// shutdown or cancellation sets `stopping`, which the loop polls at least every 250 ms; `run` returns
/// when the loop has.
struct ServiceThread: Sendable {
    let name: String
    let stopping = Locked(false)

    func run(_ body: @escaping @Sendable (Locked<Bool>) -> Void) async {
        await withTaskCancellationOrGracefulShutdownHandler { [name, stopping] in
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                let thread = Thread {
                    body(stopping)
                    finished.resume()
                }
                thread.name = name
                thread.start()
            }
        } onCancelOrGracefulShutdown: { [stopping] in
            stopping.value = true
        }
    }
}
