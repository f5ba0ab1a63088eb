import Foundation
import Testing

/// The admin CLI talks to the daemon through GateControl and reads the configuration through
/// GateConfiguration: it must link no hardware module (GPIO, V4L2, evdev, PC/SC) and no GateServices.
/// A dependency that pulls one back in (Package.swift, an import) fails here.
@Suite struct CLILinkageTests {
    /// Shared libraries of hardware the CLI never touches.
    static let hardwareLibraries = ["libgpiod", "libpcsclite", "libv4l2"]
    /// Symbol fragments of the hardware modules and their C glue: the Swift modules' mangled prefixes
    /// (`$s4GPIO`, `$s4V4L2`, `$s12GateServices`) and the C shims' and libraries' names.
    static let hardwareSymbols = ["$s4GPIO", "$s4V4L2", "$s12GateServices", "gate_gpio_", "gate_evdev_", "SCardEstablishContext", "v4l2_open"]

    func neededLibraries(_ binary: String) throws -> [String] {
        let result = Gate.execute("/usr/bin/readelf", ["-d", "-W", binary])
        try #require(result.succeeded, "readelf: \(result.stderr)")
        return result.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }.map(String.init)
    }

    func symbols(_ binary: String) throws -> String {
        let result = Gate.execute("/usr/bin/nm", [binary])
        try #require(result.succeeded, "nm: \(result.stderr)")
        return result.stdout
    }

    @Test func theCLILinksNoHardwareLibrary() throws {
        let needed = try neededLibraries(Binaries.cli)
        #expect(!needed.isEmpty, "readelf found no NEEDED entries; the check would prove nothing")
        for library in Self.hardwareLibraries {
            #expect(!needed.contains { $0.contains(library) }, "optgate needs \(library): \(needed.filter { $0.contains(library) })")
        }
    }

    @Test func theCLIHoldsNoHardwareModuleCode() throws {
        let table = try symbols(Binaries.cli)
        for fragment in Self.hardwareSymbols {
            let hits = table.split(separator: "\n").filter { $0.contains(fragment) }.count
            #expect(hits == 0, "optgate holds symbols of \(fragment) (nm \(Binaries.cli) | grep '\(fragment)')")
        }
    }

    /// The same checks see the hardware in the daemon, so they can fail.
    @Test func theChecksSeeTheDaemonsHardware() throws {
        let needed = try neededLibraries(Binaries.daemon)
        #expect(needed.contains { $0.contains("libgpiod") })
        #expect(needed.contains { $0.contains("libpcsclite") })
        let table = try symbols(Binaries.daemon)
        #expect(table.contains("$s4GPIO"))
        #expect(table.contains("$s12GateServices"))
    }
}
