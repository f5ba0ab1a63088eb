// Fuzz target: the answer a PC/SC reader (and the card behind it) returns to GET DATA UID. Any bytes must
// give a UID of 4–10 bytes equal to the data before 90 00, or a refusal that reads as a sentence.
import GateCore
import GateStore
@testable import GateServices

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let answer = Array(UnsafeBufferPointer(start: data, count: size))
    switch PCSCUIDResponse.parse(answer) {
    case .success(let uid):
        require(answer.suffix(2) == [0x90, 0x00])
        let expected = answer.dropLast(2).map { byte in
            let digits = Array("0123456789ABCDEF")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
        require(uid.hex == expected, "the UID is not the response's data")
        require((4...10).contains(answer.count - 2))
        require(!uid.description.contains(uid.hex) || uid.hex.count <= 4, "a full UID reached a description")
    case .failure(let error):
        require(!error.description.isEmpty)
    }
    // Reader names and typed UIDs: CardUID from arbitrary text.
    if let uid = CardUID(String(decoding: answer, as: UTF8.self)) {
        require((8...20).contains(uid.hex.count) && uid.hex.count % 2 == 0)
        require(CardUID(uid.hex) == uid, "a normalised UID does not parse as itself")
    }
    return 0
}
