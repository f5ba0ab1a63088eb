// Fuzz target: the daemon's configuration parser (DaemonConfiguration from JSON bytes).
// Every input must either parse or be refused with a ConfigurationError; a trap is a finding.
import Foundation
import GateConfiguration

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    do {
        let configuration = try DaemonConfiguration(json: bytes)
        // A configuration that parses must be usable: every door has a name and a method.
        require(!configuration.doors.isEmpty)
        require(configuration.doors.allSatisfy { !$0.name.isEmpty && !$0.methods.isEmpty })
        _ = configuration.faceEntryConfigured
    } catch {
        // The refusal must be printable as a sentence (this is where 1e20 used to trap).
        require(!error.description.isEmpty)
    }
    return 0
}
