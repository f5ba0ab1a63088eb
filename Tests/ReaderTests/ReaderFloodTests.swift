import Foundation
import GateCore
import GateServices
import Logging
import Testing

/// A BadUSB device posing as a keyboard-wedge reader types card numbers as fast as USB allows.
@Suite(.serialized) struct ReaderFloodTests {
    let logger = Logger(label: "test")

    @Test func aWedgeTypingThousandsOfCardsIsThrottledToWhatPeopleCanPresent() async throws {
        let fifo = try EventFIFO()
        let seen = Submissions()
        let guardRail = ReaderFloodGuard(reader: "wedge main", logger: logger)
        let reader = EvdevReader(door: "main", devicePath: fifo.path, role: .wedge(WedgeRules()), exclusive: false,
                                 backoff: ReaderBackoff(initial: .milliseconds(20), maximum: .milliseconds(100)),
                                 floodGuard: guardRail, logger: logger, sink: guardRail.guarding(seen.append))
        let task = Task { try await reader.run() }
        defer { task.cancel() }

        let flood = 2000
        var recording = Recording()
        for index in 0..<flood { recording.type(String(format: "DEAD%04X\n", index), after: 0.0005) }
        let started = Date()
        fifo.write(recording.bytes, chunk: 64 * 1024)
        // The reader has consumed the stream once a card typed after a pause gets through.
        try await Task.sleep(for: .seconds(1))
        var last = Recording()
        last.type("CAFEF00D\n")
        fifo.write(last.bytes)
        #expect(seen.eventually(within: 10) { $0.cards.last == "CAFEF00D" }, "a card after the flood is read: \(seen.cards.suffix(3))")
        let seconds = Date().timeIntervalSince(started)
        let passed = seen.cards.count
        #expect(passed >= 10, "the burst passes")
        #expect(Double(passed) <= 10 + 2 * seconds + 2, "\(passed) of \(flood + 1) cards passed in \(seconds) s")
        #expect(seen.cards.prefix(10) == (0..<10).map { String(format: "DEAD%04X", $0) }[...])
    }

    @Test func malformedEntriesAreLoggedAtMostAtTheirRate() {
        let guardRail = ReaderFloodGuard(reader: "wedge main", logger: logger)
        let logged = (0..<1000).filter { _ in guardRail.admitMalformed() }.count
        #expect(logged == 5)
        #expect(guardRail.dropped == 995)
        #expect(guardRail.admit(.key(door: "main", .digit(1))), "keys have a bucket of their own")
        #expect(guardRail.admit(.exitRequest(door: "main")), "only cards and keys are throttled")
    }
}
