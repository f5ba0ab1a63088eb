// gpiod-shim-test: CGPIOShim (Sources/CGPIOShim/gate_gpio.c) against a real kernel's gpio-sim, built
// once per libgpiod major version: 1.x (Debian 12, by TestSupport/fakes/build.sh) and 2.x (Debian 13's
// libgpiod3, by TestSupport/gpiod2-compile-check.sh). The Swift GPIO layer above the shim is the same
// for both, so this is what proves the 2.x branch on a kernel. Runs in the device-test VM.
// Checks: an output line follows set() in gpio-sim's sysfs and is busy for a second requester; input
// lines report levels and both edges (offset, direction, kernel timestamp) from gpio-sim pulls, and a
// quiet line times out; a missing chip fails with errno. Lines 12-14 (clear of the other device tests).
// Usage: gpiod-shim-test CHIP SIM_SYSFS   Prints PASS/FAIL lines; exit 0 only when all passed.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "gate_gpio.h"

static int failures;
static const char *sim;

static void check(int ok, const char *what) {
    printf("%s libgpiod %s: %s\n", ok ? "PASS" : "FAIL", gate_gpio_library_version(), what);
    if (!ok) failures++;
}

static int sim_value(unsigned int line) {
    char path[512];
    snprintf(path, sizeof path, "%s/sim_gpio%u/value", sim, line);
    FILE *f = fopen(path, "r");
    int value = -1;
    if (f) {
        if (fscanf(f, "%d", &value) != 1) value = -1;
        fclose(f);
    }
    return value;
}

static int pull(unsigned int line, int up) {
    char path[512];
    snprintf(path, sizeof path, "%s/sim_gpio%u/pull", sim, line);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = fputs(up ? "pull-up" : "pull-down", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/// Waits up to a second for one edge and reads it.
static int next_edge(gate_gpio_inputs *inputs, gate_gpio_edge *edge) {
    if (gate_gpio_inputs_wait(inputs, 1000000000LL) != 1) return -1;
    return gate_gpio_inputs_read(inputs, edge, 1) == 1 ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CHIP SIM_SYSFS\n", argv[0]);
        return 2;
    }
    const char *chip = argv[1];
    sim = argv[2];
    printf("gpiod-shim-test: API v%d, chip %s\n", gate_gpio_api_major(), chip);

    gate_gpio_output *relay = gate_gpio_open_output(chip, 12, 0, "shim-test");
    check(relay != NULL && sim_value(12) == 0, "output requested low");
    if (relay) {
        check(gate_gpio_set(relay, 1) == 0 && sim_value(12) == 1, "output set high is seen by gpio-sim");
        check(gate_gpio_set(relay, 0) == 0 && sim_value(12) == 0, "output set low again");
        errno = 0;
        gate_gpio_output *second = gate_gpio_open_output(chip, 12, 1, "shim-test-2");
        check(second == NULL && errno == EBUSY && sim_value(12) == 0, "a requested line is busy for a second requester");
        if (second) gate_gpio_close(second);
        gate_gpio_close(relay);
    }

    pull(13, 0);
    pull(14, 0);
    const unsigned int offsets[2] = {13, 14};
    gate_gpio_inputs *inputs = gate_gpio_open_inputs(chip, offsets, 2, "shim-test");
    check(inputs != NULL, "inputs requested with edge detection");
    if (inputs) {
        int values[2] = {-1, -1};
        check(gate_gpio_inputs_get(inputs, values) == 0 && values[0] == 0 && values[1] == 0, "inputs read low");
        check(gate_gpio_inputs_wait(inputs, 100000000LL) == 0, "no edge: wait times out");
        gate_gpio_edge edge = {0};
        check(pull(13, 1) == 0 && next_edge(inputs, &edge) == 0 && edge.offset == 13 && edge.rising == 1 && edge.timestamp_ns > 0,
              "pull-up on line 13: rising edge with a kernel timestamp");
        uint64_t rose = edge.timestamp_ns;
        check(gate_gpio_inputs_get(inputs, values) == 0 && values[0] == 1 && values[1] == 0, "levels follow (13 high, 14 low)");
        check(pull(13, 0) == 0 && next_edge(inputs, &edge) == 0 && edge.offset == 13 && edge.rising == 0 && edge.timestamp_ns > rose,
              "pull-down on line 13: falling edge, later timestamp");
        check(pull(14, 1) == 0 && next_edge(inputs, &edge) == 0 && edge.offset == 14 && edge.rising == 1,
              "second line of the request: rising edge on 14");
        pull(14, 0);
        gate_gpio_inputs_close(inputs);
    }

    errno = 0;
    gate_gpio_output *missing = gate_gpio_open_output("gpiochip-optgate-missing", 3, 0, "shim-test");
    check(missing == NULL && errno != 0, "a missing chip fails with errno set");
    printf("gpiod-shim-test: libgpiod %s, %d failure(s)\n", gate_gpio_library_version(), failures);
    return failures == 0 ? 0 : 1;
}
