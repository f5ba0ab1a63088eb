#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include "gate_evdev.h"

_Static_assert(sizeof(struct gate_input_event) == sizeof(struct input_event), "struct input_event layout");
_Static_assert(offsetof(struct gate_input_event, type) == offsetof(struct input_event, type), "input_event.type");
_Static_assert(offsetof(struct gate_input_event, code) == offsetof(struct input_event, code), "input_event.code");
_Static_assert(offsetof(struct gate_input_event, value) == offsetof(struct input_event, value), "input_event.value");

int gate_evdev_grab(int fd, int grab) { return ioctl(fd, EVIOCGRAB, grab); }

int gate_evdev_name(int fd, char *name, size_t length) { return ioctl(fd, EVIOCGNAME(length), name); }

int gate_uinput_set_evbit(int fd, int type) { return ioctl(fd, UI_SET_EVBIT, type); }

int gate_uinput_set_keybit(int fd, int code) { return ioctl(fd, UI_SET_KEYBIT, code); }

int gate_uinput_setup(int fd, const char *name, uint16_t vendor, uint16_t product) {
    struct uinput_setup setup;
    memset(&setup, 0, sizeof setup);
    setup.id.bustype = BUS_USB;
    setup.id.vendor = vendor;
    setup.id.product = product;
    strncpy(setup.name, name, UINPUT_MAX_NAME_SIZE - 1);
    return ioctl(fd, UI_DEV_SETUP, &setup);
}

int gate_uinput_create(int fd) { return ioctl(fd, UI_DEV_CREATE); }

int gate_uinput_destroy(int fd) { return ioctl(fd, UI_DEV_DESTROY); }

int gate_uinput_sysname(int fd, char *name, size_t length) { return ioctl(fd, UI_GET_SYSNAME(length), name); }
