import ArgumentParser
import Foundation
import OSDPLine

struct ReaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reader", abstract: "Set up credential readers.", subcommands: [Pair.self])

    struct Pair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an OSDP reader in install mode its own random secure-channel key (docs/readers.md#osdp).",
            discussion: """
                Stop optgated first: it owns the serial line while it runs (pairing between its polls would garble \
                both on the half-duplex bus), and pairing a line it holds fails at once saying so. The key is kept \
                with the other secrets in <state dir>/keys/ and never shown; optgated uses it from its next start.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The serial line, e.g. /dev/ttyUSB0.") var device: String
        @Option(help: "The reader's OSDP address (0–126).") var address: UInt8 = 0
        @Option(help: "Line speed.") var baud: Int = 9600
        @Option(help: "Seconds to wait for each step.") var timeout: Int = 10

        func run() throws {
            guard address <= 126 else { throw CLIError("--address must be 0–126") }
            let store = OSDPKeyStore(stateDirectory: global.stateDirectory)
            do {
                let key = try OSDPPairing.pair(device: device, address: address, baud: baud, timeout: .seconds(timeout)) { print($0) }
                try store.store(key, device: device, address: address)
            } catch {
                throw CLIError("pairing the reader at \(device) address \(address) failed: \(error)")
            }
            print(Output.safe("paired: the reader at \(device) address \(address) has its own key (\(store.path(device: device, address: address))); restart optgated"))
        }
    }
}
