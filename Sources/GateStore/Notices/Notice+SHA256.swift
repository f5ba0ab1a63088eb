import Crypto
import Foundation

extension Notice {
    /// Pinned in every consent record. Kept apart from `Notice.swift`, which the fuzz targets compile without Crypto.
    public var sha256: String { SHA256.hash(data: Data(text.utf8)).hex }
}
