import Foundation
import Glibc

/// Key bytes kept on their own locked page for the life of the process.
///
/// The page is `mlock`ed (never written to swap) and marked `MADV_DONTDUMP` (left out of a core dump even
/// where one is allowed); both are best effort, since an unprivileged process may be over its
/// `RLIMIT_MEMLOCK`. The bytes are zeroed with `explicit_bzero` when the last reference goes. Swift
/// cannot promise that no copy was ever made elsewhere: callers derive straight into this storage and
/// hand out `SymmetricKey`s, which swift-crypto zeroes on release too.
final class SecretBytes: ContiguousBytes, @unchecked Sendable {
    private let page: UnsafeMutableRawPointer
    private let pageSize: Int
    let count: Int
    /// Whether `mlock` succeeded (for tests and the status of the key file, never fatal).
    let isLocked: Bool

    /// Copies `bytes` into a fresh locked page. The caller zeroes its own copy.
    init(copying bytes: some ContiguousBytes) {
        pageSize = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        count = bytes.withUnsafeBytes { $0.count }
        precondition(count <= pageSize, "a key larger than a page")
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, pageSize, pageSize) == 0, let pointer else {
            fatalError("cannot allocate a page for key material")
        }
        page = pointer
        isLocked = mlock(page, pageSize) == 0
        _ = madvise(page, pageSize, MADV_DONTDUMP)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { page.copyMemory(from: base, byteCount: source.count) }
        }
    }

    deinit {
        explicit_bzero(page, pageSize)
        if isLocked { munlock(page, pageSize) }
        free(page)
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: page, count: count))
    }
}

extension Array where Element == UInt8 {
    /// Overwrites the array's bytes with zeros in place (no copy-on-write copy is made of a unique array).
    mutating func zeroize() {
        withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
    }
}

extension Data {
    /// Overwrites the data's bytes with zeros in place.
    mutating func zeroize() {
        withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
    }
}
