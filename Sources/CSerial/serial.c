#define _GNU_SOURCE
#include "gate_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

static speed_t speed_for(int baud) {
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    default: return 0;
    }
}

int gate_serial_open(const char *path, int baud) {
    speed_t speed = speed_for(baud);
    if (speed == 0) return -EINVAL;
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    /* One owner per line: two programs polling one RS-485 bus garble each other's frames. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno == EWOULDBLOCK ? EBUSY : errno;
        close(fd);
        return -saved;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, speed);
    cfsetospeed(&tio, speed);
    if (tcsetattr(fd, TCSANOW, &tio) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    tcflush(fd, TCIOFLUSH);
    return fd;
}

int gate_serial_read(int fd, unsigned char *buffer, int capacity, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ready = poll(&p, 1, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -errno;
    if (ready == 0) return 0;
    ssize_t n = read(fd, buffer, (size_t)capacity);
    if (n > 0) return (int)n;
    if (n == 0) return -ENODEV;
    if (errno == EAGAIN || errno == EINTR) return 0;
    if (errno == EIO) return -ENODEV;  /* a pty whose other side closed */
    return -errno;
}

int gate_serial_write(int fd, const unsigned char *bytes, int length) {
    int done = 0;
    int waited = 0;
    while (done < length) {
        ssize_t n = write(fd, bytes + done, (size_t)(length - done));
        if (n > 0) {
            done += (int)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) return -errno;
        if (waited >= 1000) return -ETIMEDOUT;
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        poll(&p, 1, 10);
        waited += 10;
    }
    tcdrain(fd);
    return 0;
}

void gate_serial_flush_input(int fd) { tcflush(fd, TCIFLUSH); }

void gate_serial_close(int fd) { close(fd); }
