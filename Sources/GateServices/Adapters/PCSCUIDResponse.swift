import GateCore
import GateStore

/// The answer to GET DATA UID (`FF CA 00 00 00`, PC/SC part 3), parsed without any PC/SC call (fuzzed in
/// Tests/Fuzz: the bytes come from the card and the reader).
enum PCSCUIDResponse {
    /// The UID from a GET DATA response: data followed by status word 90 00, 4–10 bytes of data.
    static func parse(_ answer: [UInt8]) -> Result<CardUID, ReaderError> {
        guard answer.count >= 2 else {
            return .failure(.badUIDResponse("the reader sent no status word (\(answer.count) bytes)"))
        }
        let sw = answer.suffix(2).map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
        guard answer.suffix(2) == [0x90, 0x00] else {
            return .failure(.badUIDResponse("the reader answered status \(sw) instead of 90 00"))
        }
        let data = answer.dropLast(2)
        guard let uid = CardUID(data.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined()) else {
            return .failure(.badUIDResponse("the UID is \(data.count) bytes, not 4 to 10"))
        }
        return .success(uid)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
