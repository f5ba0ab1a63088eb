// gpiod-shim-test: CGPIOShim (Sources/CGPIOShim/gate_gpio.c) against a real kernel's gpio-sim, built
// once per libgpiod major version: 1.x (Debian 12, by TestSupport/fakes/build.sh) and 2.x (Debian 13's
// libgpiod3, by TestSupport/gpiod2-compile-check.sh). The Swift GPIO layer above the shim is the same
// for both, so this is what proves the 2.x branch on a kernel. Runs in the device-test VM.
// Checks: an output line follows set() in gpio-sim's sysfs and is busy for a second requester; input
// lines report levels and both edges (offset, direction, kernel timestamp) from gpio-sim pulls, and a
// quiet line times out; a missing chip fails with errno. Lines 12-14 (clear of the other device tests).
// With WIEGAND_SENDER (TestSupport/fakes/wiegand_sender): lines 12 (D0) and 13 (D1) requested falling-edge
// only, as the Wiegand reader requests them, deliver every bit of a 26-bit, a 34-bit and an 8-bit keypad
// frame sent at a reader's pace, in the order of their kernel timestamps (the Swift decoder above is the
// same for both versions; WiegandGPIOTests runs it on 1.x).
// Usage: gpiod-shim-test CHIP SIM_SYSFS [WIEGAND_SENDER]   Prints PASS/FAIL lines; exit 0 only when all passed.
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gate_gpio.h"

extern char **environ;

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

static int by_time(const void *a, const void *b) {
    uint64_t x = ((const gate_gpio_edge *)a)->timestamp_ns, y = ((const gate_gpio_edge *)b)->timestamp_ns;
    return x < y ? -1 : x > y;
}

/// Sends `frame` with the sender while reading lines 12/13 (falling edges only) through the shim; the bits
/// read must be the frame (the sender sends it again only after it overran its own timing budget: then
/// the last attempt must be the whole frame).
static void wiegand_frame(const char *chip, const char *sender, const char *frame, const char *what) {
    const unsigned int offsets[2] = {12, 13};
    gate_gpio_inputs *inputs = gate_gpio_open_inputs_edges(chip, offsets, 2, "shim-test-wiegand", 1);
    if (!inputs) {
        check(0, "D0/D1 requested with falling edges only");
        return;
    }
    char *args[] = {(char *)sender, (char *)sim, "12", "13", "-g", "100", (char *)frame, NULL};
    pid_t child;
    int out[2];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (pipe(out) != 0 || posix_spawn_file_actions_adddup2(&actions, out[1], 1) != 0 ||
        posix_spawn(&child, sender, &actions, NULL, args, environ) != 0) {
        check(0, "wiegand_sender started");
        gate_gpio_inputs_close(inputs);
        return;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    static gate_gpio_edge all[512];
    size_t count = 0;
    int rising = 0, status = -1, done = 0;
    for (int quiet = 0; quiet < 3;) {  // until the sender exited and 0.6 s passed without an edge
        int ready = gate_gpio_inputs_wait(inputs, 200000000LL);
        if (ready < 0) break;
        if (ready == 0) {
            if (!done && waitpid(child, &status, WNOHANG) == child) done = 1;
            if (done) quiet++;
            continue;
        }
        gate_gpio_edge edges[64];
        int n = gate_gpio_inputs_read(inputs, edges, 64);
        for (int i = 0; i < n; i++) {
            if (edges[i].rising) rising++;
            if (count < sizeof all / sizeof all[0]) all[count++] = edges[i];
        }
    }
    if (!done) waitpid(child, &status, 0);
    // The sender's report (a few lines, within the pipe's buffer): how often it sent the frame again.
    static char report[8192];
    ssize_t length_read = read(out[0], report, sizeof report - 1);
    close(out[0]);
    report[length_read > 0 ? length_read : 0] = 0;
    fputs(report, stdout);
    size_t again = 0;
    for (const char *p = report; (p = strstr(p, "sent again")); p++) again++;
    // The kernel's order is the timestamps' (libgpiod 1.x reads line by line), as the Swift reader sorts them.
    qsort(all, count, sizeof all[0], by_time);
    char got[513];
    for (size_t i = 0; i < count; i++) got[i] = all[i].offset == 13 ? '1' : '0';
    got[count] = 0;
    gate_gpio_inputs_close(inputs);
    // Without an overrun the edges are exactly the frame. After one, the sent-again frame comes last and
    // whole; the overrun attempts before it may have lost edges (that is why they were sent again).
    size_t length = strlen(frame);
    int whole = again == 0 ? count == length : count >= length && count <= (again + 1) * length;
    whole = whole && strcmp(got + count - length, frame) == 0;
    char description[200];
    snprintf(description, sizeof description, "%s: %zu falling edges in time order (%zu overrun attempt(s) before), no rising edge",
             what, count, again);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0 && whole && rising == 0, description);
    if (!whole) printf("  sent %s\n  read %s\n", frame, got);
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s CHIP SIM_SYSFS [WIEGAND_SENDER]\n", argv[0]);
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

    if (argc == 4) {
        wiegand_frame(chip, argv[3], "00001001000110000001110011", "Wiegand 26-bit frame (facility 18, card 12345)");
        wiegand_frame(chip, argv[3], "0000000100000000100010010001101000", "Wiegand 34-bit frame (facility 513, card 4660)");
        wiegand_frame(chip, argv[3], "10110100", "Wiegand 8-bit keypad frame (key 4)");
    }

    errno = 0;
    gate_gpio_output *missing = gate_gpio_open_output("gpiochip-optgate-missing", 3, 0, "shim-test");
    check(missing == NULL && errno != 0, "a missing chip fails with errno set");
    printf("gpiod-shim-test: libgpiod %s, %d failure(s)\n", gate_gpio_library_version(), failures);
    return failures == 0 ? 0 : 1;
}
