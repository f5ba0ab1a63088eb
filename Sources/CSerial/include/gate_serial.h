#ifndef GATE_SERIAL_H
#define GATE_SERIAL_H

/* A serial line for OSDP (RS-485 through a USB adapter, or a pty in tests): raw 8N1 through termios. */

/* Opens `path` non-blocking, raw, 8N1 at `baud` (9600, 19200, 38400, 57600, 115200), holding an exclusive
   flock on it until closed. Returns the descriptor, or -errno (-EINVAL for an unsupported rate, -EBUSY
   when another open descriptor, e.g. optgated's, holds the line). */
int gate_serial_open(const char *path, int baud);

/* Waits up to `timeout_ms` for bytes and reads at most `capacity`.
   Returns the count, 0 on timeout, -errno on failure, -ENODEV when the line went away (EOF/HUP). */
int gate_serial_read(int fd, unsigned char *buffer, int capacity, int timeout_ms);

/* Writes all of `length` bytes (waiting while the driver is full, up to 1 s) and drains the output.
   Returns 0 or -errno. */
int gate_serial_write(int fd, const unsigned char *bytes, int length);

/* Discards unread input. */
void gate_serial_flush_input(int fd);

void gate_serial_close(int fd);

#endif
