import Foundation
import GateCore
import GateConfiguration
import Testing

/// `dist/config/optgated.json` is what a new install runs with, and dist/README.md promises that every key
/// in it is the daemon's built-in default except `control.*` and `keypad.mode` (unit + PIN for new
/// installs). Read with the daemon's own parser, so a changed default that the file does not follow fails here.
@Suite struct ShippedConfigurationTests {
    static let shippedPath: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("dist/config/optgated.json").path
    }()

    @Test func theShippedFileIsTheBuiltInDefaultsExceptControlAndKeypadMode() throws {
        let shipped = try DaemonConfiguration(contentsOf: Self.shippedPath)
        let defaults = DaemonConfiguration.defaults
        #expect(shipped.doors == defaults.doors)
        #expect(shipped.pinEntry.mode == .unitPin, "new installs use unit + PIN")
        var entry = shipped.pinEntry
        entry.mode = defaults.pinEntry.mode
        #expect(entry == defaults.pinEntry)
        #expect(shipped.lockout == defaults.lockout)
        #expect(shipped.accessEventRetentionDays == defaults.accessEventRetentionDays)
        #expect(shipped.siteTimeZone == defaults.siteTimeZone && shipped.siteTimeZone.identifier == "Asia/Shanghai")
        #expect(shipped.readers.isEmpty && defaults.readers.isEmpty)
        #expect(!shipped.faceEntryConfigured && !defaults.faceEntryConfigured)
        #expect(shipped.controlSocketPath == "/var/lib/optgate/control.sock" && shipped.controlGroup == "optgate")
    }
}
