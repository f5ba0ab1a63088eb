import Crypto
import Foundation

/// AES-256-GCM sealing of face templates under the device's template key.
///
/// The template's id, owner and embedder are authenticated as associated data, so a sealed template
/// copied onto another row or resident fails to open instead of matching the wrong person.
extension DeviceKeys {
    func seal(_ embedding: [Float], templateID: String, residentID: String, embedder: String) throws -> Data {
        var plaintext = Data(capacity: embedding.count * 4)
        for value in embedding {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { plaintext.append(contentsOf: $0) }
        }
        let box = try AES.GCM.seal(plaintext, using: template, authenticating: Self.context(templateID, residentID, embedder))
        guard let combined = box.combined else { throw GateStoreError.corruptTemplate(templateID) }
        return combined
    }

    func open(_ sealed: Data, templateID: String, residentID: String, embedder: String) throws -> [Float] {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plaintext = try AES.GCM.open(box, using: template, authenticating: Self.context(templateID, residentID, embedder))
        guard plaintext.count % 4 == 0 else { throw GateStoreError.corruptTemplate(templateID) }
        return stride(from: 0, to: plaintext.count, by: 4).map { offset in
            let bits = plaintext[plaintext.startIndex + offset..<plaintext.startIndex + offset + 4]
                .enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            return Float(bitPattern: bits)
        }
    }

    private static func context(_ templateID: String, _ residentID: String, _ embedder: String) -> Data {
        Data("optgate-template\u{1f}\(templateID)\u{1f}\(residentID)\u{1f}\(embedder)".utf8)
    }
}
