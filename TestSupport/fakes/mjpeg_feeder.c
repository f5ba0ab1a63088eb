// mjpeg_feeder: a fake MJPEG camera for the device-test VM. Sets a v4l2loopback node's output format
// to MJPEG WIDTHxHEIGHT (sizeimage = the largest file) and write()s the JPEG files to it in a loop,
// one every 1/FPS s, so a capture client on the same node sees an MJPEG webcam.
// Usage: mjpeg_feeder DEVICE WIDTH HEIGHT FPS FILE.jpg [FILE.jpg ...]
// Build: cc -O1 -o .build/fakes/mjpeg_feeder TestSupport/fakes/mjpeg_feeder.c
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct file { unsigned char *bytes; size_t size; };

static int read_file(const char *path, struct file *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct stat st;
    if (fstat(fileno(f), &st) < 0) { fclose(f); return -1; }
    out->size = (size_t)st.st_size;
    out->bytes = malloc(out->size);
    size_t got = out->bytes ? fread(out->bytes, 1, out->size, f) : 0;
    fclose(f);
    return got == out->size && out->size > 4 && out->bytes[0] == 0xFF && out->bytes[1] == 0xD8 ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s DEVICE WIDTH HEIGHT FPS FILE.jpg [FILE.jpg ...]\n", argv[0]);
        return 2;
    }
    int count = argc - 5;
    struct file *files = calloc((size_t)count, sizeof *files);
    size_t largest = 0;
    for (int i = 0; i < count; i++) {
        if (read_file(argv[5 + i], &files[i]) < 0) { fprintf(stderr, "mjpeg_feeder: %s is not a readable JPEG\n", argv[5 + i]); return 1; }
        if (files[i].size > largest) largest = files[i].size;
    }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) { fprintf(stderr, "mjpeg_feeder: open %s: %s\n", argv[1], strerror(errno)); return 1; }
    struct v4l2_format fmt;
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    fmt.fmt.pix.width = (unsigned)atoi(argv[2]);
    fmt.fmt.pix.height = (unsigned)atoi(argv[3]);
    fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_MJPEG;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    fmt.fmt.pix.sizeimage = (unsigned)((largest + 4095) & ~(size_t)4095);
    fmt.fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
    if (ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) { fprintf(stderr, "mjpeg_feeder: VIDIOC_S_FMT: %s\n", strerror(errno)); return 1; }
    double fps = atof(argv[4]);
    if (fps <= 0) fps = 30;
    struct timespec interval = { (time_t)(1 / fps), (long)((1 / fps - (time_t)(1 / fps)) * 1e9) };
    fprintf(stderr, "mjpeg_feeder: %s MJPEG %ux%u, %d file(s), sizeimage %u, %.1f fps\n", argv[1],
            fmt.fmt.pix.width, fmt.fmt.pix.height, count, fmt.fmt.pix.sizeimage, fps);
    for (unsigned long frame = 0;; frame++) {
        struct file *f = &files[frame % (unsigned long)count];
        ssize_t written = write(fd, f->bytes, f->size);
        if (written < 0) { fprintf(stderr, "mjpeg_feeder: write: %s\n", strerror(errno)); return 1; }
        nanosleep(&interval, NULL);
    }
}
