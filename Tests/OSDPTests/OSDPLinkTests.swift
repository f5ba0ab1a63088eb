import GateCore
import Testing
@testable import OSDP

/// A manual instant: tests say exactly when things happen.
struct T: InstantProtocol {
    var offset: Duration
    static let zero = T(offset: .zero)
    func advanced(by duration: Duration) -> T { T(offset: offset + duration) }
    func duration(to other: T) -> Duration { other.offset - offset }
    static func < (lhs: T, rhs: T) -> Bool { lhs.offset < rhs.offset }
}

/// A PD in the test, built on the same framing and primitives with the roles swapped. The real peer
/// (libosdp's PD) is scripts/osdp-test.
struct FakePD {
    var address: UInt8 = 1
    var scbk: [UInt8]
    var claimsSecureChannel = true
    var answers = true
    var tamper = false
    var cards: [[UInt8]] = []
    var keys: [[UInt8]] = []
    var received: [UInt8] = []
    var session: OSDPSecureSession?
    var pdRandom: [UInt8] = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7]
    var side: OSDPSecureChannelTests.PDSide?
    var establishing: OSDPSecureChannelTests.PDSide?

    mutating func answer(_ bytes: [UInt8]) -> [UInt8]? {
        guard answers else { return nil }
        var reader = OSDPFrameReader()
        reader.append(bytes)
        guard case .success(var frame)? = reader.next(), frame.address == address else { return nil }
        if frame.sequence == 0 { side = nil }
        var data = frame.data
        if var side, frame.mac != nil {
            guard let plain = try? side.open(frame) else { return nil }
            self.side = side
            data = plain
            frame.data = plain
        }
        received.append(frame.code)
        var reply = OSDPFrame(address: address, isReply: true, sequence: frame.sequence, code: 0x40)
        switch frame.code {
        case 0x61: reply.code = 0x45; reply.data = [0x5C, 0x0A, 0x00, 1, 2, 0x78, 0x56, 0x34, 0x12, 1, 0, 0]
        case 0x62: reply.code = 0x46; reply.data = [4, 1, 1, 5, 1, 1] + (claimsSecureChannel ? [9, 1, 1] : [9, 0, 0])
        case 0x76:
            let cp = OSDPSecureSession(scbk: scbk, cpRandom: data)
            session = cp
            let cryptogram = OSDPSecureSession.aes(cp.encryptionKey, data + pdRandom)
            reply.securityBlock = [0x03, 0x12, 0x01]
            reply.code = 0x76; reply.data = Array(repeating: 0x11, count: 8) + pdRandom + cryptogram
        case 0x77:
            guard let session else { return nil }
            let rmacI = OSDPSecureSession.aes(session.macKey2, OSDPSecureSession.aes(session.macKey1, data))
            establishing = .init(session: session, replyMAC: rmacI)
            reply.securityBlock = [0x03, 0x14, 0x01]
            reply.code = 0x78; reply.data = rmacI
        case 0x64: reply.code = 0x48; reply.data = [tamper ? 1 : 0, 0]
        case 0x60:
            if !cards.isEmpty { reply.code = 0x50; reply.data = cards.removeFirst() }
            else if !keys.isEmpty { let k = keys.removeFirst(); reply.code = 0x53; reply.data = [0, UInt8(k.count)] + k }
        default: break
        }
        if var side {
            reply = side.seal(reply)
            self.side = side
        }
        if let establishing {
            side = establishing
            self.establishing = nil
        }
        return reply.encoded()
    }
}

@Suite struct OSDPLinkTests {
    static let key: [UInt8] = Array(0x40..<0x50)

    /// Runs link and PD against each other for `seconds` of manual time in 10 ms steps.
    static func run(_ link: inout OSDPLink<T>, _ pd: inout FakePD, from start: T = .zero, seconds: Double,
                    sent: inout [(T, [UInt8])]) -> [OSDPEvent] {
        var events: [OSDPEvent] = []
        var now = start
        let end = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while now < end {
            let (resend, tickEvents) = link.tick(at: now)
            events += tickEvents
            if let bytes = resend ?? link.transmit(at: now) {
                sent.append((now, bytes))
                if let answer = pd.answer(bytes) {
                    var reader = OSDPFrameReader()
                    reader.append(answer)
                    if case .success(let frame)? = reader.next() { events += link.receive(frame, at: now.advanced(by: .milliseconds(5))) }
                }
            }
            now = now.advanced(by: .milliseconds(10))
        }
        return events
    }

    @Test func theSecureChannelComesUpAndCardsAndKeysArriveEncrypted() {
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .secure(scbk: Self.key)), timing: OSDPTiming(), now: T.zero)
        var pd = FakePD(scbk: Self.key)
        pd.cards = [[0, 1, 26, 0, 0x12, 0x34, 0x56, 0x40]]
        pd.keys = [[0x31, 0x32, 0x0D]]
        var sent: [(T, [UInt8])] = []
        let events = Self.run(&link, &pd, seconds: 1, sent: &sent)
        #expect(events.contains(.online(secure: true)))
        #expect(events.contains(.card(bitCount: 26, format: 1, bytes: [0x12, 0x34, 0x56, 0x40])))
        #expect(events.contains(.keys([0x31, 0x32, 0x0D])))
        #expect(link.isSecure)
        #expect(Array(pd.received.prefix(5)) == [0x61, 0x62, 0x76, 0x77, 0x64])
        // Polls at least every 200 ms once online.
        let polls = sent.map(\.0).suffix(5)
        for (a, b) in zip(polls, polls.dropFirst()) { #expect(a.duration(to: b) <= .milliseconds(200)) }
        // LED/buzzer commands go out sealed and arrive.
        link.enqueue(.led(OSDPLED(color: .green, duration: 20)))
        link.enqueue(.buzzer(OSDPBuzzer(on: 2, off: 1, count: 1)))
        _ = Self.run(&link, &pd, from: T(offset: .seconds(1)), seconds: 0.5, sent: &sent)
        #expect(pd.received.contains(0x69) && pd.received.contains(0x6A))
    }

    @Test func aWrongKeyKeepsTheLinkDownAndIsReported() {
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .secure(scbk: Self.key)), timing: OSDPTiming(), now: T.zero)
        var pd = FakePD(scbk: OSDPSecureSession.defaultKey)
        pd.cards = [[0, 1, 26, 0, 0x12, 0x34, 0x56, 0x40]]
        var sent: [(T, [UInt8])] = []
        let events = Self.run(&link, &pd, seconds: 12, sent: &sent)
        #expect(events.contains(.refused(.wrongKey)))
        #expect(!events.contains { if case .online = $0 { true } else { false } })
        #expect(!events.contains { if case .card = $0 { true } else { false } })
        #expect(!pd.received.contains(0x60), "never polled: nothing it says is believed")
        #expect(events.filter { $0 == .refused(.wrongKey) }.count <= 3, "retried after a pause, not hammered")
    }

    @Test func aReaderClaimingNoSecureChannelIsRefusedAsADowngrade() {
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .secure(scbk: Self.key)), timing: OSDPTiming(), now: T.zero)
        var pd = FakePD(scbk: Self.key)
        pd.claimsSecureChannel = false
        var sent: [(T, [UInt8])] = []
        let events = Self.run(&link, &pd, seconds: 2, sent: &sent)
        #expect(events.contains(.refused(.downgrade)))
        #expect(!link.isOnline)
        #expect(!pd.received.contains(0x60))
    }

    @Test func anInsecureReaderIsDrivenInClearOnlyWhenConfiguredSo() {
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .insecure), timing: OSDPTiming(), now: T.zero)
        var pd = FakePD(scbk: Self.key)
        pd.claimsSecureChannel = false
        pd.cards = [[0, 0, 32, 0, 0xDE, 0xAD, 0xBE, 0xEF]]
        var sent: [(T, [UInt8])] = []
        let events = Self.run(&link, &pd, seconds: 1, sent: &sent)
        #expect(events.contains(.online(secure: false)))
        #expect(events.contains(.card(bitCount: 32, format: 0, bytes: [0xDE, 0xAD, 0xBE, 0xEF])))
        #expect(!pd.received.contains(0x76))
    }

    @Test func aSilentReaderIsRetriedThenRestartedAndReportedOfflineWithinTheTimeout() {
        let timing = OSDPTiming(offlineTimeout: .milliseconds(1500))
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .secure(scbk: Self.key)), timing: timing, now: T.zero)
        var pd = FakePD(scbk: Self.key)
        var sent: [(T, [UInt8])] = []
        var events = Self.run(&link, &pd, seconds: 1, sent: &sent)
        #expect(events.contains(.online(secure: true)))
        pd.answers = false
        sent.removeAll()
        events = Self.run(&link, &pd, from: T(offset: .seconds(1)), seconds: 2, sent: &sent)
        #expect(events.filter { $0 == .offline }.count == 1)
        // Offline no later than the timeout after the last reply (+ one poll interval and a step).
        #expect(!link.isOnline)
        // The first command after silence is sent 1 + retries times with the same bytes, then sequence 0 (restart).
        let first = sent[0].1
        #expect(sent.prefix(3).allSatisfy { $0.1 == first })
        let restart = sent[3].1
        var reader = OSDPFrameReader()
        reader.append(restart)
        let frame = try? reader.next()?.get()
        #expect(frame?.sequence == 0)
        #expect(frame?.code == 0x61)
        // Back: online again.
        pd.answers = true
        events = Self.run(&link, &pd, from: T(offset: .seconds(3)), seconds: 1, sent: &sent)
        #expect(events.contains(.online(secure: true)))
    }

    @Test func aTamperSwitchIsReportedAndCleared() {
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .secure(scbk: Self.key)), timing: OSDPTiming(), now: T.zero)
        var pd = FakePD(scbk: Self.key)
        pd.tamper = true
        var sent: [(T, [UInt8])] = []
        let events = Self.run(&link, &pd, seconds: 1, sent: &sent)
        #expect(events.contains(.tamper(true)))
    }

    @Test func repliesFromAnotherAddressOrOutOfSequenceAreNotTaken() {
        var link = OSDPLink(peripheral: OSDPPeripheral(address: 1, security: .insecure), timing: OSDPTiming(), now: T.zero)
        _ = link.transmit(at: .zero)
        let other = OSDPFrame(address: 2, isReply: true, sequence: 0, code: 0x45, data: Array(repeating: 0, count: 12))
        #expect(link.receive(other, at: .zero).isEmpty)
        let wrongSequence = OSDPFrame(address: 1, isReply: true, sequence: 2, code: 0x45, data: Array(repeating: 0, count: 12))
        #expect(link.receive(wrongSequence, at: .zero).count == 1)
        #expect(link.isAwaitingReply)
    }
}
