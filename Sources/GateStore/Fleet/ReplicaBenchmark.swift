import GateCore

extension GateDatabase {
    /// Benchmark fixture: `count` card decisions at `door` appended to the audit log in ONE transaction (the
    /// fleet benchmark's local events, pushed to the hub by the real sync code). Not product API: nothing but
    /// `optgate-bench` imports this SPI. - Returns: the local sequence of the last entry.
    @_spi(Benchmark)
    @discardableResult
    public func recordAccessEventsForBenchmark(count: Int, door: String, residentID: String?) throws -> Int64 {
        try write { db in
            var last: Int64 = 0
            for index in 0..<count {
                let granted = index % 4 != 3
                let record = AuditRecord(time: now(), category: .access, action: .door(.access, method: .card, reason: granted ? .valid : .unknownCard),
                                         door: door, method: .card, result: granted ? .granted : .denied,
                                         reason: granted ? .valid : .unknownCard, residentID: granted ? residentID : nil)
                last = try audit(record, in: db).seq
            }
            return last
        }
    }
}
