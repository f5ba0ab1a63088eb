// uinput_reader: a fake USB keyboard-wedge card reader or PIN pad for the device-test VM. Creates a
// uinput keyboard, links LINK (e.g. /dev/input/by-id/usb-optgate-fake-wedge-event-kbd) to its
// /dev/input/eventN the way udev's by-id links look, prints "ready /dev/input/eventN", then types each
// line read from standard input as a reader would: hex digits (A-F with Shift) on the top row, then
// Enter. At end of input the device is destroyed and the link removed.
// Usage: uinput_reader LINK [NAME] < lines   (NAME: the input device name, default "optgate fake reader";
// the systemd VM test gives the wedge and the PIN pad distinct names so udev rules can tell them apart)
// Build: cc -O1 -o .build/fakes/uinput_reader TestSupport/fakes/uinput_reader.c
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/uinput.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const int digits[10] = {KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9};
static const int letters[6] = {KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F};

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int emit(int fd, int type, int code, int value) {
    struct input_event event;
    memset(&event, 0, sizeof event);
    event.type = (unsigned short)type;
    event.code = (unsigned short)code;
    event.value = value;
    return write(fd, &event, sizeof event) == (ssize_t)sizeof event ? 0 : -1;
}

static int tap(int fd, int code, int shifted) {
    int failed = 0;
    if (shifted) failed |= emit(fd, EV_KEY, KEY_LEFTSHIFT, 1);
    failed |= emit(fd, EV_KEY, code, 1);
    failed |= emit(fd, EV_SYN, SYN_REPORT, 0);
    failed |= emit(fd, EV_KEY, code, 0);
    if (shifted) failed |= emit(fd, EV_KEY, KEY_LEFTSHIFT, 0);
    failed |= emit(fd, EV_SYN, SYN_REPORT, 0);
    pause_ms(5);
    return failed;
}

/// The eventN node under /sys/devices/virtual/input/SYSNAME, once udev-less devtmpfs has created it.
static int find_event_node(const char *sysname, char *node, size_t length) {
    char directory[128];
    snprintf(directory, sizeof directory, "/sys/devices/virtual/input/%s", sysname);
    for (int attempt = 0; attempt < 250; attempt++) {
        DIR *dir = opendir(directory);
        struct dirent *entry;
        while (dir && (entry = readdir(dir))) {
            if (strncmp(entry->d_name, "event", 5) != 0) continue;
            snprintf(node, length, "/dev/input/%s", entry->d_name);
            struct stat st;
            if (stat(node, &st) == 0) { closedir(dir); return 0; }
        }
        if (dir) closedir(dir);
        pause_ms(20);
    }
    return -1;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s LINK [NAME] < lines\n", argv[0]);
        return 2;
    }
    const char *link_path = argv[1];
    int fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK);
    if (fd < 0) { fprintf(stderr, "uinput_reader: /dev/uinput: %s\n", strerror(errno)); return 1; }
    int failed = ioctl(fd, UI_SET_EVBIT, EV_KEY) < 0;
    for (int i = 0; i < 10; i++) failed |= ioctl(fd, UI_SET_KEYBIT, digits[i]) < 0;
    for (int i = 0; i < 6; i++) failed |= ioctl(fd, UI_SET_KEYBIT, letters[i]) < 0;
    failed |= ioctl(fd, UI_SET_KEYBIT, KEY_ENTER) < 0;
    failed |= ioctl(fd, UI_SET_KEYBIT, KEY_LEFTSHIFT) < 0;
    struct uinput_setup setup;
    memset(&setup, 0, sizeof setup);
    setup.id.bustype = BUS_USB;
    setup.id.vendor = 0x1234;
    setup.id.product = 0x5679;
    snprintf(setup.name, sizeof setup.name, "%s", argc == 3 ? argv[2] : "optgate fake reader");
    failed |= ioctl(fd, UI_DEV_SETUP, &setup) < 0;
    failed |= ioctl(fd, UI_DEV_CREATE) < 0;
    char sysname[64] = {0}, node[300];
    if (failed || ioctl(fd, UI_GET_SYSNAME(sizeof sysname), sysname) < 0 || find_event_node(sysname, node, sizeof node) < 0) {
        fprintf(stderr, "uinput_reader: creating the device failed: %s\n", strerror(errno));
        return 1;
    }
    unlink(link_path);
    if (symlink(node, link_path) < 0) { fprintf(stderr, "uinput_reader: %s: %s\n", link_path, strerror(errno)); return 1; }
    printf("ready %s\n", node);
    fflush(stdout);

    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        for (const char *c = line; *c && *c != '\n'; c++) {
            if (*c >= '0' && *c <= '9') failed |= tap(fd, digits[*c - '0'], 0);
            else if (*c >= 'A' && *c <= 'F') failed |= tap(fd, letters[*c - 'A'], 1);
            else if (*c >= 'a' && *c <= 'f') failed |= tap(fd, letters[*c - 'a'], 1);
        }
        failed |= tap(fd, KEY_ENTER, 0);
        if (failed) { fprintf(stderr, "uinput_reader: writing to uinput failed: %s\n", strerror(errno)); break; }
    }
    ioctl(fd, UI_DEV_DESTROY);
    close(fd);
    unlink(link_path);
    return failed ? 1 : 0;
}
