import GateCore
import Testing

@Suite struct FloodTests {
    typealias Collapser = DenialCollapser<String, T>

    @Test func theFirstDenialsOfAWindowAreRecordedTheRestCollapseIntoOneCount() {
        var collapser = Collapser(rules: .init(window: .seconds(60), individually: 3))
        let verdicts = (0..<1000).map { collapser.admit("main/unknownCard", at: .at(Double($0) * 0.01)) }
        #expect(verdicts.prefix(3).allSatisfy { $0 == .record })
        #expect(verdicts.dropFirst(3).allSatisfy { $0 == .collapse })
        #expect(collapser.closeWindows(at: .at(59)).isEmpty, "the window is still open")
        #expect(collapser.nextDeadline == .at(60))
        let closed = collapser.closeWindows(at: .at(60))
        #expect(closed == [.init(key: "main/unknownCard", count: 997, recorded: 3, windowStart: .at(0))])
        #expect(collapser.pendingCollapsed == 0)
        #expect(collapser.admit("main/unknownCard", at: .at(61)) == .record, "a new window records again")
    }

    @Test func keysAreCountedApartAndShutdownReportsOpenWindows() {
        var collapser = Collapser(rules: .init(window: .seconds(10), individually: 1))
        #expect(collapser.admit("a", at: .at(0)) == .record)
        #expect(collapser.admit("b", at: .at(1)) == .record)
        #expect(collapser.admit("a", at: .at(2)) == .collapse)
        #expect(collapser.admit("a", at: .at(3)) == .collapse)
        #expect(collapser.pendingCollapsed == 2)
        #expect(collapser.closeAll() == [.init(key: "a", count: 2, recorded: 1, windowStart: .at(0))])
        #expect(collapser.nextDeadline == nil)
    }

    @Test func aQuietWindowEndsWithoutAReport() {
        var collapser = Collapser(rules: .init(window: .seconds(10), individually: 2))
        #expect(collapser.admit("a", at: .at(0)) == .record)
        #expect(collapser.admit("a", at: .at(11)) == .record, "an expired window without collapses starts over")
        #expect(collapser.admit("a", at: .at(12)) == .record)
        #expect(collapser.admit("a", at: .at(13)) == .collapse)
        #expect(collapser.closeWindows(at: .at(21)).map(\.count) == [1])
    }

    @Test func aTokenBucketAllowsABurstThenTheRefillRate() {
        var bucket = TokenBucket<T>(rules: .init(burst: 5, perSecond: 2))
        let burst = (0..<100).filter { _ in bucket.take(at: .at(0)) }.count
        #expect(burst == 5)
        let early = bucket.take(at: .at(0.4))
        let refilled = bucket.take(at: .at(0.5))
        #expect(!early)
        #expect(refilled)
        // 10 s later the bucket is full again, never fuller.
        #expect((0..<100).filter { _ in bucket.take(at: .at(10.5)) }.count == 5)
        // 1000 attempts spread over 10 s: the burst plus 2 per second get through.
        var flooded = TokenBucket<T>(rules: .init(burst: 5, perSecond: 2))
        let passed = (0..<1000).filter { flooded.take(at: .at(Double($0) * 0.01)) }.count
        #expect((24...26).contains(passed))
    }
}

@Suite struct DisplayTextTests {
    @Test func controlCharactersAndBidiOverridesAreShownNotObeyed() {
        #expect(DisplayText.terminal("Li Wei") == "Li Wei")
        #expect(DisplayText.terminal("a\u{1B}[2J\nb") == "a\\u{1B}[2J\\nb")
        #expect(DisplayText.terminal("x\u{9B}31m\u{7F}") == "x\\u{9B}31m\\u{7F}")
        #expect(DisplayText.terminal("evil\u{202E}gnp.exe") == "evil\\u{202E}gnp.exe")
        #expect(DisplayText.terminal("C:\\dir\n") == "C:\\\\dir\\n")
        #expect(DisplayText.terminal("王伟 3-1501") == "王伟 3-1501")
        let escaped = DisplayText.terminal((0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined())
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func csvFieldsCannotBecomeFormulas() {
        #expect(DisplayText.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(DisplayText.csvField("+1") == "'+1")
        #expect(DisplayText.csvField("-2+3") == "'-2+3")
        #expect(DisplayText.csvField("@SUM(A1)") == "'@SUM(A1)")
        #expect(DisplayText.csvField("main") == "main")
        #expect(DisplayText.csvField("a,b") == "\"a,b\"")
        #expect(DisplayText.csvField("two\nlines") == "two\\nlines")
        #expect(DisplayText.csvField("") == "")
    }
}
