import CPCSCLite
import Foundation
public import GateCore
import GateStore
public import Logging
public import ServiceLifecycle

/// NFC/contactless readers through pcscd (libpcsclite), for one door.
///
/// On a dedicated thread: `SCardEstablishContext`, then `SCardGetStatusChange` over the matching readers
/// plus the `\\?PnP?\Notification` pseudo-reader, so readers plugged in or removed later are followed.
/// When a card arrives: `SCardConnect`, `SCardTransmit` of GET DATA UID (`FF CA 00 00 00`, PC/SC part 3),
/// status word 90 00 required, 4–10 UID bytes → `.card(door:, uid:)`. The same card is reported once
/// while it lies on the reader and not again within `holdoff` (`CardDebouncer`).
///
/// pcscd stopping or restarting invalidates the context: it is released and re-established with
/// backoff. Losses and returns are logged once each; full UIDs never. A UID identifies a card, it does
/// not authenticate it (docs/readers.md).
public final class PCSCReader: Service, Sendable {
    public let door: String
    /// Only readers whose name contains this (case-sensitive); `nil` = every reader.
    public let readerFilter: String?
    let holdoff: Duration
    let backoff: ReaderBackoff
    let logger: Logger
    let sink: ReaderSink
    let floodGuard: ReaderFloodGuard?
    private let thread: ServiceThread

    static let pnpReader = #"\\?PnP?\Notification"#
    static let getUID: [UInt8] = [0xFF, 0xCA, 0x00, 0x00, 0x00]

    /// - Parameter floodGuard: rate-limits the log lines of unreadable cards (the sink applies it to cards).
    public init(door: String, readerFilter: String?, holdoff: Duration = .seconds(2), backoff: ReaderBackoff = ReaderBackoff(),
                floodGuard: ReaderFloodGuard? = nil, logger: Logger, sink: @escaping ReaderSink) {
        self.floodGuard = floodGuard
        self.door = door
        self.readerFilter = readerFilter
        self.holdoff = holdoff
        self.backoff = backoff
        var logger = logger
        logger[metadataKey: "door.id"] = "\(door)"
        self.logger = logger
        self.sink = sink
        thread = ServiceThread(name: "optgate.pcsc")
    }

    public func run() async throws {
        await thread.run { [self] stopping in loop(stopping) }
        logger.info("PC/SC reader stopped")
    }

    private func loop(_ stopping: Locked<Bool>) {
        var debouncers: [String: CardDebouncer<ContinuousClock.Instant>] = [:]
        let reconnect = ReconnectLoop(backoff: backoff, logger: logger, messages: .init(
            unavailable: "PC/SC service unavailable; retrying until pcscd answers",
            opened: "PC/SC context established",
            back: "PC/SC service is back",
            reopenedWhileFlapping: "PC/SC context re-established",
            lost: "PC/SC service lost; re-establishing the context"))
        reconnect.run(stopping, open: { () throws(ReaderError) -> SCARDCONTEXT in
            var context: SCARDCONTEXT = 0
            let result = SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context)
            guard result == SCARD_S_SUCCESS else { throw Self.error("SCardEstablishContext", result) }
            return context
        }, use: { context in
            monitor(context, debouncers: &debouncers, stopping: stopping)
        }, close: { context in
            SCardReleaseContext(context)
            // Whatever lay on the readers may have been lifted unseen: only the holdoff still applies.
            for name in debouncers.keys { debouncers[name]?.removed() }
        })
    }

    /// Follows readers and cards until stopping (`nil`) or the context breaks (the error).
    private func monitor(_ context: SCARDCONTEXT, debouncers: inout [String: CardDebouncer<ContinuousClock.Instant>],
                         stopping: Locked<Bool>) -> ReaderError? {
        var readers: [String: DWORD] = [:]  // name → current state
        var pnpState = DWORD(SCARD_STATE_UNAWARE)
        var relist = true
        var firstListing = true
        let clock = ContinuousClock()
        while !stopping.value {
            if relist {
                relist = false
                let names: [String]
                switch listReaders(context) {
                case .success(let all): names = all.filter { name in readerFilter.map { name.contains($0) } ?? true }
                case .failure(let error): return error
                }
                let previous = Set(readers.keys)
                defer { firstListing = false }
                readers = Dictionary(uniqueKeysWithValues: names.map { ($0, readers[$0] ?? DWORD(SCARD_STATE_UNAWARE)) })
                for gone in previous.subtracting(names) {
                    logger.notice("PC/SC reader removed", metadata: ["reader.name": "\(gone)"])
                    debouncers[gone]?.removed()
                }
                for added in Set(names).subtracting(previous) {
                    logger.info("PC/SC reader present", metadata: ["reader.name": "\(added)"])
                }
                if names.isEmpty && (!previous.isEmpty || firstListing) {
                    logger.notice("no matching PC/SC reader; waiting for one to be plugged in",
                                  metadata: ["reader.filter": "\(readerFilter ?? "any")"])
                }
            }
            let names = readers.keys.sorted()
            let cNames = ([Self.pnpReader] + names).map { strdup($0)! }
            defer { cNames.forEach { free($0) } }
            var states = cNames.enumerated().map { index, name in
                var state = SCARD_READERSTATE()
                state.szReader = UnsafePointer(name)
                state.dwCurrentState = index == 0 ? pnpState : readers[names[index - 1]]!
                return state
            }
            let result = SCardGetStatusChange(context, 250, &states, DWORD(states.count))
            switch result {
            case SCARD_S_SUCCESS:
                break
            case SCARD_E_TIMEOUT:
                continue
            case SCARD_E_UNKNOWN_READER:
                relist = true
                continue
            default:
                return Self.error("SCardGetStatusChange", result)
            }
            let pnp = states[0]
            if pnp.dwEventState & DWORD(SCARD_STATE_CHANGED) != 0 {
                pnpState = pnp.dwEventState & ~DWORD(SCARD_STATE_CHANGED)
                relist = true
            }
            for (index, name) in names.enumerated() {
                let state = states[index + 1]
                guard state.dwEventState & DWORD(SCARD_STATE_CHANGED) != 0 else { continue }
                let old = readers[name] ?? 0
                let new = state.dwEventState & ~DWORD(SCARD_STATE_CHANGED)
                readers[name] = new
                if new & DWORD(SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE) != 0 { relist = true }
                let present = new & DWORD(SCARD_STATE_PRESENT) != 0 && new & DWORD(SCARD_STATE_MUTE) == 0
                let wasPresent = old & DWORD(SCARD_STATE_PRESENT) != 0 && old & DWORD(SCARD_STATE_MUTE) == 0
                if !present {
                    if wasPresent { logger.debug("PC/SC card removed", metadata: ["reader.name": "\(name)"]) }
                    debouncers[name, default: CardDebouncer(holdoff: holdoff)].removed()
                    continue
                }
                // pcscd counts card insertions in the upper 16 bits: a new count while present is a new card.
                // Our own connect only changes INUSE, which is not a new card.
                guard !wasPresent || new >> 16 != old >> 16 else { continue }
                switch readUID(context, reader: name) {
                case .success(let uid):
                    if debouncers[name, default: CardDebouncer(holdoff: holdoff)].present(uid.hex, at: clock.now) {
                        logger.debug("PC/SC card read", metadata: ["reader.name": "\(name)"])
                        sink(.card(door: door, uid: uid))
                    }
                case .failure(let error) where floodGuard?.admitMalformed() ?? true:
                    logger.notice("a card was presented but its UID could not be read", metadata: [
                        "reader.name": "\(name)", "error": "\(error)",
                    ])
                case .failure:
                    break
                }
            }
        }
        return nil
    }

    private func listReaders(_ context: SCARDCONTEXT) -> Result<[String], ReaderError> {
        var length: DWORD = 0
        var result = SCardListReaders(context, nil, nil, &length)
        if result == SCARD_E_NO_READERS_AVAILABLE { return .success([]) }
        guard result == SCARD_S_SUCCESS else { return .failure(Self.error("SCardListReaders", result)) }
        var buffer = [CChar](repeating: 0, count: Int(length))
        result = SCardListReaders(context, nil, &buffer, &length)
        if result == SCARD_E_NO_READERS_AVAILABLE { return .success([]) }
        guard result == SCARD_S_SUCCESS else { return .failure(Self.error("SCardListReaders", result)) }
        // A multi-string: names separated by NUL, ended by an empty name.
        let names = buffer.split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return .success(names.filter { !$0.isEmpty })
    }

    /// Connects to the card on `reader` and asks for its UID.
    private func readUID(_ context: SCARDCONTEXT, reader: String) -> Result<CardUID, ReaderError> {
        var card: SCARDHANDLE = 0
        var protocolInUse: DWORD = 0
        var result = SCardConnect(context, reader, DWORD(SCARD_SHARE_SHARED), DWORD(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1),
                                  &card, &protocolInUse)
        guard result == SCARD_S_SUCCESS else { return .failure(Self.error("SCardConnect", result)) }
        defer { SCardDisconnect(card, DWORD(SCARD_LEAVE_CARD)) }
        var response = [UInt8](repeating: 0, count: 258)
        var length = DWORD(response.count)
        let pci = protocolInUse == DWORD(SCARD_PROTOCOL_T0) ? gate_pcsc_pci_t0() : gate_pcsc_pci_t1()
        result = SCardTransmit(card, pci, Self.getUID, DWORD(Self.getUID.count), nil, &response, &length)
        guard result == SCARD_S_SUCCESS else { return .failure(Self.error("SCardTransmit", result)) }
        let answer = Array(response.prefix(Int(length)))
        return Self.parseUIDResponse(answer)
    }

    /// The UID from a GET DATA response: data followed by status word 90 00, 4–10 bytes of data.
    public static func parseUIDResponse(_ answer: [UInt8]) -> Result<CardUID, ReaderError> {
        PCSCUIDResponse.parse(answer)
    }

    static func error(_ call: String, _ result: LONG) -> ReaderError {
        .pcsc(call, code: Int(result), text: String(cString: pcsc_stringify_error(result)))
    }
}
