/* evdev and uinput ioctls for Swift. EVIOCGRAB, EVIOCGNAME, UI_SET_EVBIT, UI_SET_KEYBIT, UI_DEV_SETUP,
 * UI_DEV_CREATE, UI_DEV_DESTROY and UI_GET_SYSNAME are function-like macros (_IOW/_IOC) that Swift
 * cannot import, and ioctl is variadic; each wrapper below is one ioctl and nothing else.
 * <linux/input-event-codes.h> gives Swift the KEY_* / EV_* constants. <linux/input.h> is deliberately not
 * included here: it pulls in <sys/time.h>, and Swift would then attribute `struct timeval` to this module.
 * `struct gate_input_event` mirrors `struct input_event` instead; evdev.c asserts the layouts agree. */
#ifndef GATE_EVDEV_H
#define GATE_EVDEV_H

#include <stddef.h>
#include <stdint.h>
#include <linux/input-event-codes.h>

/// `struct input_event` as read from an evdev node: time (seconds, microseconds), type, code, value.
struct gate_input_event {
    long sec;
    long usec;
    uint16_t type;
    uint16_t code;
    int32_t value;
};

/// ioctl(fd, EVIOCGRAB, grab): grab != 0 takes the device exclusively, 0 releases it.
/// Returns 0, or -1 with errno set.
int gate_evdev_grab(int fd, int grab);

/// ioctl(fd, EVIOCGNAME(length), name): the device's name, NUL-terminated.
/// Returns the length copied, or -1 with errno set.
int gate_evdev_name(int fd, char *name, size_t length);

/// ioctl(fd, UI_SET_EVBIT, type). Returns 0, or -1 with errno set.
int gate_uinput_set_evbit(int fd, int type);

/// ioctl(fd, UI_SET_KEYBIT, code). Returns 0, or -1 with errno set.
int gate_uinput_set_keybit(int fd, int code);

/// ioctl(fd, UI_DEV_SETUP, &setup) with a USB id and `name`. Returns 0, or -1 with errno set.
int gate_uinput_setup(int fd, const char *name, uint16_t vendor, uint16_t product);

/// ioctl(fd, UI_DEV_CREATE). Returns 0, or -1 with errno set.
int gate_uinput_create(int fd);

/// ioctl(fd, UI_DEV_DESTROY). Returns 0, or -1 with errno set.
int gate_uinput_destroy(int fd);

/// ioctl(fd, UI_GET_SYSNAME(length), name): the created device's sysfs name (`inputN`).
/// Returns 0 or more, or -1 with errno set.
int gate_uinput_sysname(int fd, char *name, size_t length);

#endif
