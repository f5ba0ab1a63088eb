// Stand-in for Sources/OSDP/OSDPAES.swift in the fuzz build (scripts/fuzz compiles without swift-crypto):
// a keyed byte permutation, not AES. The framing, the reply decoding and the link's state machine around
// it are the shipped code; AES itself is BoringSSL's and checked against the spec's vectors in OSDPTests.
enum OSDPAES {
    static func encryptBlock(_ key: [UInt8], _ block: [UInt8]) -> [UInt8] {
        block.enumerated().map { index, byte in (byte ^ key[index % key.count]) &+ UInt8(truncatingIfNeeded: index * 29) }
    }

    static func decryptBlock(_ key: [UInt8], _ block: [UInt8]) -> [UInt8] {
        block.enumerated().map { index, byte in (byte &- UInt8(truncatingIfNeeded: index * 29)) ^ key[index % key.count] }
    }

    static func cbcEncrypt(_ key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8] {
        precondition(data.count % 16 == 0 && iv.count == 16 && key.count == 16)
        var chain = iv, out: [UInt8] = []
        for start in stride(from: 0, to: data.count, by: 16) {
            chain = encryptBlock(key, zip(data[start..<(start + 16)], chain).map { $0 ^ $1 })
            out += chain
        }
        return out
    }

    static func cbcDecrypt(_ key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8] {
        precondition(data.count % 16 == 0 && iv.count == 16 && key.count == 16)
        var chain = iv, out: [UInt8] = []
        for start in stride(from: 0, to: data.count, by: 16) {
            let block = Array(data[start..<(start + 16)])
            out += zip(decryptBlock(key, block), chain).map { $0 ^ $1 }
            chain = block
        }
        return out
    }
}
