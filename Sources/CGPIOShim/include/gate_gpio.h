// CGPIOShim: one small C API over libgpiod 1.x (Debian 12: 1.6.3) and 2.x (Debian 13: 2.2.x).
// Why a shim: the two major versions share no request/event calls, and Swift `#if` cannot test the C
// macro that tells them apart, so the switch is made here at compile time (gate_gpio.c). No logic:
// every function bridges one request, one read or one release. Errors: NULL / -1 with errno set.
#ifndef OPTGATE_GATE_GPIO_H
#define OPTGATE_GATE_GPIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One requested output line (a relay coil).
typedef struct gate_gpio_output gate_gpio_output;
/// A set of input lines requested with both-edge events (contact, REX, fire, tamper).
typedef struct gate_gpio_inputs gate_gpio_inputs;

/// One edge event as the kernel reported it.
typedef struct gate_gpio_edge {
    unsigned int offset;     ///< line offset on the chip
    int rising;              ///< 1: physical level went high, 0: went low
    uint64_t timestamp_ns;   ///< kernel timestamp (CLOCK_MONOTONIC), nanoseconds
} gate_gpio_edge;

/// Requests `offset` on `chip` ("gpiochip0" or "/dev/gpiochip0") as an output driven to `value`.
gate_gpio_output *gate_gpio_open_output(const char *chip, unsigned int offset, int value, const char *consumer);
/// Drives the line: 0 or 1 (physical level). Returns 0 or -1.
int gate_gpio_set(gate_gpio_output *line, int value);
/// Releases the line and closes the chip.
void gate_gpio_close(gate_gpio_output *line);

/// Requests `count` (1-64) lines as inputs with both-edge event detection.
gate_gpio_inputs *gate_gpio_open_inputs(const char *chip, const unsigned int *offsets, size_t count, const char *consumer);
/* As gate_gpio_open_inputs; with falling_only, only falling edges are reported (Wiegand: half the events, so the
   kernel's per-line event queue holds twice as many bits before a slow reader loses one). */
gate_gpio_inputs *gate_gpio_open_inputs_edges(const char *chip, const unsigned int *offsets, size_t count, const char *consumer,
                                              int falling_only);
/// Reads the current physical level of every requested line into `values` (in request order). 0 or -1.
int gate_gpio_inputs_get(gate_gpio_inputs *inputs, int *values);
/// Waits up to `timeout_ns` for an edge event: 1 ready, 0 timed out, -1 error.
int gate_gpio_inputs_wait(gate_gpio_inputs *inputs, int64_t timeout_ns);
/// Reads up to `capacity` pending events (call after wait returned 1). Returns the count or -1.
int gate_gpio_inputs_read(gate_gpio_inputs *inputs, gate_gpio_edge *events, size_t capacity);
/// Releases the lines and closes the chip.
void gate_gpio_inputs_close(gate_gpio_inputs *inputs);

/// 1 or 2: the libgpiod API this build was compiled against.
int gate_gpio_api_major(void);
/// The library's own version string, e.g. "1.6.3".
const char *gate_gpio_library_version(void);

#ifdef __cplusplus
}
#endif
#endif
