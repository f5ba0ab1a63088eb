// CV4L2: the system libv4l2 (Debian libv4l-dev) and <linux/videodev2.h> for Swift.
// Why a shim: Swift imports neither variadic C functions (v4l2_open, v4l2_ioctl) nor function-like
// macros (VIDIOC_* are _IOWR(...), V4L2_PIX_FMT_* are v4l2_fourcc(...), MAP_FAILED is a cast), so each
// becomes a static inline function or a constant here. No logic: every function forwards one call.
// The camera is always driven through libv4l2 (never raw open/ioctl), so the LD_PRELOAD fake of
// docs/hardware.md can stand in for it.
#ifndef OPTGATE_CV4L2_SHIM_H
#define OPTGATE_CV4L2_SHIM_H

#include <fcntl.h>
#include <linux/videodev2.h>
#include <libv4l2.h>
#include <poll.h>
#include <sys/mman.h>

static inline int gate_v4l2_open(const char *path, int flags) { return v4l2_open(path, flags); }
static inline int gate_v4l2_close(int fd) { return v4l2_close(fd); }
static inline int gate_v4l2_ioctl(int fd, unsigned long request, void *arg) { return v4l2_ioctl(fd, request, arg); }
static inline void *gate_v4l2_mmap(void *start, size_t length, int prot, int flags, int fd, int64_t offset) {
    return v4l2_mmap(start, length, prot, flags, fd, offset);
}
static inline int gate_v4l2_munmap(void *start, size_t length) { return v4l2_munmap(start, length); }
static inline int gate_v4l2_mmap_failed(const void *address) { return address == MAP_FAILED; }

static const unsigned long GATE_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long GATE_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long GATE_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long GATE_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long GATE_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long GATE_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long GATE_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long GATE_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long GATE_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long GATE_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long GATE_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long GATE_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;

static const uint32_t GATE_V4L2_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
static const uint32_t GATE_V4L2_PIX_FMT_JPEG = V4L2_PIX_FMT_JPEG;
static const uint32_t GATE_V4L2_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
static const uint32_t GATE_V4L2_PIX_FMT_GREY = V4L2_PIX_FMT_GREY;

#endif
