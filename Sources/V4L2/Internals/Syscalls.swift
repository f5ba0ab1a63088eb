import CV4L2
import Glibc

/// The only place that calls into libv4l2 and `poll(2)`. Every call that the kernel may interrupt is
/// retried on `EINTR`; every failure becomes a ``V4L2Error`` carrying the errno and the call's name.
/// The camera is always reached through libv4l2 (`v4l2_open`, `v4l2_ioctl`, `v4l2_mmap`), never raw
/// syscalls, so an LD_PRELOAD fake of libv4l2 can stand in for a device.
enum Syscalls {
    /// `v4l2_open(path, flags)`.
    static func open(_ path: String, flags: Int32) throws(V4L2Error) -> Int32 {
        while true {
            let fd = gate_v4l2_open(path, flags)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .open(path, errno) }
        }
    }

    /// `v4l2_close(fd)`; errors are ignored (the descriptor is gone either way on Linux).
    static func close(_ fd: Int32) {
        _ = gate_v4l2_close(fd)
    }

    /// `v4l2_ioctl(fd, request, &value)`.
    /// - Parameter name: the request without its `VIDIOC_` prefix, as errors name it (`"DQBUF"`).
    static func ioctl<T>(_ fd: Int32, _ request: UInt, _ name: String, _ value: inout T) throws(V4L2Error) {
        let result: Int32 = withUnsafeMutablePointer(to: &value) { pointer in
            while true {
                let result = gate_v4l2_ioctl(fd, request, UnsafeMutableRawPointer(pointer))
                if result >= 0 || errno != EINTR { return result }
            }
        }
        if result < 0 { throw .ioctl(name, errno) }
    }

    /// `v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset)`.
    static func mmap(_ fd: Int32, length: Int, offset: Int64) throws(V4L2Error) -> UnsafeMutableRawPointer {
        let address = gate_v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset)
        guard let address, gate_v4l2_mmap_failed(address) == 0 else { throw .mmap(errno) }
        return address
    }

    /// `v4l2_munmap(address, length)`.
    static func munmap(_ address: UnsafeMutableRawPointer, length: Int) {
        _ = gate_v4l2_munmap(address, length)
    }

    /// `poll(2)` for `POLLIN` on one descriptor.
    /// - Returns: `true` when readable, `false` on timeout. `POLLERR`/`POLLHUP` count as readable: the
    ///   following `VIDIOC_DQBUF` then reports the real error (`ENODEV` when the camera is unplugged).
    static func pollReadable(_ fd: Int32, timeoutMilliseconds: Int32) throws(V4L2Error) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let result = Glibc.poll(&entry, 1, timeoutMilliseconds)
            if result > 0 { return true }
            if result == 0 { return false }
            if errno != EINTR { throw .poll(errno) }
        }
    }
}
