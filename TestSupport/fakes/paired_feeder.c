// paired_feeder: a fake colour + near-infrared camera pair for the device-test VM. Sets one v4l2loopback node's
// output format to MJPEG and another's to GREY (8-bit, what infrared cameras stream), both WIDTHxHEIGHT, and
// writes, once every 1/FPS s, colour frame i to the first and infrared frame i to the second, in step.
// The infrared frames come from two raw files of WIDTH*HEIGHT-byte frames (make-replay --infrared … --grey):
// LIVE.grey (a lit face, frame i going with colour photo i) and SCREEN.grey (what a phone screen gives: dark).
// SIGUSR1 switches the infrared stream to SCREEN, SIGUSR2 back to LIVE; the colour frames never change, so a
// test can show the same colour frames with a live and with a "screen" infrared partner.
// Usage: paired_feeder COLOUR_DEV IR_DEV WIDTH HEIGHT FPS LIVE.grey SCREEN.grey COLOUR.jpg [COLOUR.jpg ...]
// Build: cc -O1 -o .build/fakes/paired_feeder TestSupport/fakes/paired_feeder.c
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <signal.h>
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
    out->bytes = malloc(out->size ? out->size : 1);
    size_t got = out->bytes ? fread(out->bytes, 1, out->size, f) : 0;
    fclose(f);
    return got == out->size ? 0 : -1;
}

static int set_output(const char *device, unsigned width, unsigned height, unsigned fourcc, size_t size) {
    int fd = open(device, O_RDWR);
    if (fd < 0) { fprintf(stderr, "paired_feeder: open %s: %s\n", device, strerror(errno)); return -1; }
    struct v4l2_format fmt;
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    fmt.fmt.pix.width = width;
    fmt.fmt.pix.height = height;
    fmt.fmt.pix.pixelformat = fourcc;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    fmt.fmt.pix.bytesperline = fourcc == V4L2_PIX_FMT_GREY ? width : 0;
    fmt.fmt.pix.sizeimage = (unsigned)size;
    fmt.fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
    if (ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) { fprintf(stderr, "paired_feeder: VIDIOC_S_FMT %s: %s\n", device, strerror(errno)); return -1; }
    if (fmt.fmt.pix.pixelformat != fourcc) { fprintf(stderr, "paired_feeder: %s refused the format\n", device); return -1; }
    return fd;
}

static volatile sig_atomic_t screen = 0;
static void to_screen(int sig) { (void)sig; screen = 1; }
static void to_live(int sig) { (void)sig; screen = 0; }

int main(int argc, char **argv) {
    if (argc < 9) {
        fprintf(stderr, "usage: %s COLOUR_DEV IR_DEV WIDTH HEIGHT FPS LIVE.grey SCREEN.grey COLOUR.jpg [COLOUR.jpg ...]\n", argv[0]);
        return 2;
    }
    unsigned width = (unsigned)atoi(argv[3]), height = (unsigned)atoi(argv[4]);
    size_t frame = (size_t)width * height;
    struct file live, dark;
    if (frame == 0 || read_file(argv[6], &live) < 0 || read_file(argv[7], &dark) < 0 || live.size < frame || dark.size < frame
        || live.size % frame || dark.size % frame) {
        fprintf(stderr, "paired_feeder: %s and %s must hold whole %ux%u grey frames\n", argv[6], argv[7], width, height);
        return 1;
    }
    int count = argc - 8;
    struct file *colour = calloc((size_t)count, sizeof *colour);
    size_t largest = 0;
    for (int i = 0; i < count; i++) {
        if (read_file(argv[8 + i], &colour[i]) < 0 || colour[i].size < 4 || colour[i].bytes[0] != 0xFF || colour[i].bytes[1] != 0xD8) {
            fprintf(stderr, "paired_feeder: %s is not a readable JPEG\n", argv[8 + i]);
            return 1;
        }
        if (colour[i].size > largest) largest = colour[i].size;
    }
    int cfd = set_output(argv[1], width, height, V4L2_PIX_FMT_MJPEG, (largest + 4095) & ~(size_t)4095);
    int ifd = set_output(argv[2], width, height, V4L2_PIX_FMT_GREY, frame);
    if (cfd < 0 || ifd < 0) return 1;
    signal(SIGUSR1, to_screen);
    signal(SIGUSR2, to_live);
    double fps = atof(argv[5]);
    if (fps <= 0) fps = 30;
    struct timespec interval = { (time_t)(1 / fps), (long)((1 / fps - (time_t)(1 / fps)) * 1e9) };
    fprintf(stderr, "paired_feeder: %s MJPEG + %s GREY %ux%u, %d colour frame(s), %.1f fps\n", argv[1], argv[2], width, height,
            count, fps);
    int shown = -1;
    for (unsigned long i = 0;; i++) {
        if (shown != screen) { shown = screen; fprintf(stderr, "paired_feeder: infrared shows %s\n", shown ? "a screen" : "a live face"); }
        struct file *c = &colour[i % (unsigned long)count];
        struct file *ir = shown ? &dark : &live;
        const unsigned char *irframe = ir->bytes + (i % (ir->size / frame)) * frame;
        if (write(cfd, c->bytes, c->size) < 0 && errno != EINTR) { fprintf(stderr, "paired_feeder: write colour: %s\n", strerror(errno)); return 1; }
        if (write(ifd, irframe, frame) < 0 && errno != EINTR) { fprintf(stderr, "paired_feeder: write infrared: %s\n", strerror(errno)); return 1; }
        nanosleep(&interval, NULL);
    }
}
