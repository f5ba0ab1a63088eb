// wiegand_sender: a Wiegand reader's two open-collector outputs, played on gpio-sim lines for the device
// tests (Tests/DeviceTests/WiegandGPIOTests.swift, TestSupport/gpiod-shim-test.c). Each bit is a falling
// edge on D0 (0) or D1 (1): `pull-down` then `pull-up` written to gpio-sim's sim_gpioN/pull, one bit
// interval apart; a frame ends with at least twice the reader's frame gap of silence.
//
// Why a C helper: under QEMU's TCG a writer in the Swift test process stalls (other threads, the JIT,
// the host's other work) for longer than a frame gap often enough to split frames. Here the pull files are
// opened once and written with pwrite, memory is locked (mlockall) and the process runs SCHED_FIFO (below
// the kernel's IRQ threads), so the frame is as tight as the guest allows. It still cannot stop the host
// from descheduling the vCPU, so it measures itself: CLOCK_MONOTONIC before and after every falling-edge
// write bounds when the kernel stamped that edge, and a frame whose widest edge-to-edge bound exceeds the
// budget (default: half the reader's frame gap), or whose narrowest one is under the minimum bit interval,
// is an overrun. So is an edge the kernel did not deliver within the budget: gpio-sim marks an edge
// pending for irq_work, which stamps it, and a per-line IRQ thread queues it for the reader; under TCG
// either can run late, and a late edge merges with the line's next one or reaches the reader after the
// other line's next edge. So before the next edge, each is confirmed in the line's interrupt count
// (/sys/kernel/irq/N/per_cpu_count) and by its IRQ thread going back to sleep (/proc/PID/status).
// Only after an overrun is the whole frame sent again, after the gap (the reader refused the pieces it
// saw, or took them as frames of their own). The reader's view is never consulted.
//
// Usage: wiegand_sender SIM_SYSFS D0 D1 [-i BIT_US] [-g GAP_MS] [-b BUDGET_MS] [-m MIN_US] [-a ATTEMPTS] FRAME...
//   FRAME: a string of 0 and 1, first bit first.  Defaults: -i 1000 (real readers: 0.2-20 ms, typically
//   1-2 ms), -g 100, -b GAP/2, -m 50, -a 5.
// Prints one line per frame and a summary `wiegand_sender: F frame(s), N overrun(s)`; exits 0 when every
// frame was once sent within budget, 1 when one never was, 2 on a usage or I/O error.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t at_ns) {
    struct timespec ts = {.tv_sec = at_ns / 1000000000LL, .tv_nsec = at_ns % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static int put(int fd, const char *value) {
    ssize_t n = pwrite(fd, value, strlen(value), 0);
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int open_pull(const char *sim, int line) {
    char path[512];
    snprintf(path, sizeof path, "%s/sim_gpio%d/pull", sim, line);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fprintf(stderr, "wiegand_sender: cannot open %s: %s\n", path, strerror(errno));
    return fd;
}

/// The kernel's handled-interrupt count of gpio-sim's line `hwirq` (irq_sim domain), or -1: the sum of
/// /sys/kernel/irq/N/per_cpu_count. The interrupt exists while a reader has edge detection on the line.
static int find_irq(int hwirq) {
    for (int irq = 0; irq < 4096; irq++) {
        char path[128], text[64] = {0};
        snprintf(path, sizeof path, "/sys/kernel/irq/%d/chip_name", irq);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int sim = fgets(text, sizeof text, f) && strncmp(text, "irq_sim", 7) == 0;
        fclose(f);
        if (!sim) continue;
        snprintf(path, sizeof path, "/sys/kernel/irq/%d/hwirq", irq);
        if (!(f = fopen(path, "r"))) continue;
        int value = -1;
        int found = fscanf(f, "%d", &value) == 1 && value == hwirq;
        fclose(f);
        if (found) return irq;
    }
    return -1;
}

static long long irq_count(int fd) {
    char text[512];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return -1;
    text[n] = 0;
    long long sum = 0;
    for (char *p = text; *p;) {
        char *end;
        long long value = strtoll(p, &end, 10);
        if (end == p) { p++; continue; }
        sum += value;
        p = end;
    }
    return sum;
}

/// The /proc/PID/status of interrupt `irq`'s handler thread ("irq/N-consumer"), opened; -1 if none.
static int open_irq_thread(int irq) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "irq/%d-", irq);
    DIR *proc = opendir("/proc");
    if (!proc) return -1;
    int fd = -1;
    for (struct dirent *entry; fd < 0 && (entry = readdir(proc));) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        char path[300], comm[64] = {0};
        snprintf(path, sizeof path, "/proc/%s/comm", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int match = fgets(comm, sizeof comm, f) && strncmp(comm, prefix, strlen(prefix)) == 0;
        fclose(f);
        if (!match) continue;
        snprintf(path, sizeof path, "/proc/%s/status", entry->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    closedir(proc);
    return fd;
}

/// How many times the thread went to sleep (it does after handling an edge): voluntary_ctxt_switches.
static long long thread_sleeps(int fd) {
    char text[4096];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return -1;
    text[n] = 0;
    char *field = strstr(text, "\nvoluntary_ctxt_switches:");
    return field ? strtoll(field + strlen("\nvoluntary_ctxt_switches:"), NULL, 10) : -1;
}

static void usage(void) {
    fprintf(stderr, "usage: wiegand_sender SIM_SYSFS D0 D1 [-i BIT_US] [-g GAP_MS] [-b BUDGET_MS] [-m MIN_US] [-a ATTEMPTS] FRAME...\n");
}

int main(int argc, char **argv) {
    if (argc < 5) { usage(); return 2; }
    const char *sim = argv[1];
    int d0 = atoi(argv[2]), d1 = atoi(argv[3]);
    int64_t bit_us = 1000, gap_ms = 100, budget_ms = -1, min_us = 50;
    int attempts = 5;
    int first_frame = 4;
    while (first_frame + 1 < argc && argv[first_frame][0] == '-') {
        int64_t value = atoll(argv[first_frame + 1]);
        switch (argv[first_frame][1]) {
        case 'i': bit_us = value; break;
        case 'g': gap_ms = value; break;
        case 'b': budget_ms = value; break;
        case 'm': min_us = value; break;
        case 'a': attempts = (int)value; break;
        default: usage(); return 2;
        }
        first_frame += 2;
    }
    if (budget_ms < 0) budget_ms = gap_ms / 2;
    if (first_frame >= argc || bit_us <= 0 || gap_ms <= 0 || attempts <= 0) { usage(); return 2; }
    for (int f = first_frame; f < argc; f++) {
        if (argv[f][0] == 0 || strspn(argv[f], "01") != strlen(argv[f])) {
            fprintf(stderr, "wiegand_sender: a frame is a string of 0 and 1, not \"%s\"\n", argv[f]);
            return 2;
        }
    }

    // Best effort: in the VM's guest this runs as root; elsewhere it runs unprivileged and says so.
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) fprintf(stderr, "wiegand_sender: mlockall: %s (continuing)\n", strerror(errno));
    struct sched_param param = {.sched_priority = 10};  // below threaded IRQ handlers (50): edges are not held back
    if (sched_setscheduler(0, SCHED_FIFO, &param) != 0)
        fprintf(stderr, "wiegand_sender: SCHED_FIFO: %s (continuing)\n", strerror(errno));

    int fds[2] = {open_pull(sim, d0), open_pull(sim, d1)};
    if (fds[0] < 0 || fds[1] < 0) return 2;
    // gpio-sim raises a falling edge as a pending bit handled later by irq_work; a second edge on the line
    // before that ran would merge with the first. So each edge is confirmed in the line's interrupt count
    // before the next, within the same budget (where the interrupts can be found: gpio-sim in irq_sim).
    // The kernel's handler thread then queues the event for the reader, one thread per line: an edge whose
    // thread has not run yet when the next edge on that line comes is merged into it (lost), and one whose
    // thread runs after the other line's next edge reaches the reader after it (out of order across reads).
    // So an edge counts as delivered once its interrupt was handled and its thread has gone back to sleep.
    int counts[2] = {-1, -1}, threads[2] = {-1, -1};
    for (int k = 0; k < 2; k++) {
        int irq = find_irq(k ? d1 : d0);
        if (irq >= 0) {
            char path[128];
            snprintf(path, sizeof path, "/sys/kernel/irq/%d/per_cpu_count", irq);
            counts[k] = open(path, O_RDONLY | O_CLOEXEC);
            threads[k] = open_irq_thread(irq);
        }
    }
    if (counts[0] < 0 || counts[1] < 0) printf("wiegand_sender: line interrupts not found; edges are not confirmed\n");
    else if (threads[0] < 0 || threads[1] < 0) printf("wiegand_sender: interrupt threads not found; only interrupts are confirmed\n");
    if (put(fds[0], "pull-up") || put(fds[1], "pull-up")) {
        fprintf(stderr, "wiegand_sender: cannot idle the lines high: %s\n", strerror(errno));
        return 2;
    }
    const int64_t gap_ns = gap_ms * 1000000LL, budget_ns = budget_ms * 1000000LL, min_ns = min_us * 1000LL;
    sleep_until(now_ns() + 2 * gap_ns);  // whatever came before is a closed frame

    int frames = argc - first_frame, overruns = 0, failed = 0;
    for (int f = 0; f < frames; f++) {
        const char *bits = argv[first_frame + f];
        size_t count = strlen(bits);
        int sent = 0;
        for (int attempt = 1; attempt <= attempts && !sent; attempt++) {
            int64_t widest = 0, narrowest = INT64_MAX, first = 0, before_prev = 0, down_prev = 0, after_prev = 0;
            int unconfirmed = 0;
            size_t widest_at = 0;
            for (size_t i = 0; i < count; i++) {
                if (i > 0) {
                    int64_t due = before_prev + bit_us * 1000LL;
                    if (due < after_prev + min_ns) due = after_prev + min_ns;
                    sleep_until(due);
                }
                int k = bits[i] == '1', fd = fds[k];
                long long handled = counts[k] >= 0 ? irq_count(counts[k]) : -1;
                long long slept = threads[k] >= 0 ? thread_sleeps(threads[k]) : -1;
                int64_t before = now_ns();
                if (put(fd, "pull-down")) {
                    fprintf(stderr, "wiegand_sender: pull-down: %s\n", strerror(errno));
                    return 2;
                }
                int64_t after = now_ns();
                if (handled >= 0) {
                    int delivered = 0;
                    while (!(delivered = irq_count(counts[k]) > handled && (slept < 0 || thread_sleeps(threads[k]) > slept))
                           && now_ns() - before < budget_ns) {
                        struct timespec pause = {0, 20000};
                        nanosleep(&pause, NULL);
                    }
                    if (!delivered) unconfirmed++;
                    after = now_ns();
                }
                if (put(fd, "pull-up")) {
                    fprintf(stderr, "wiegand_sender: pull-up: %s\n", strerror(errno));
                    return 2;
                }
                if (i == 0) {
                    first = before;
                } else {
                    // The kernel stamped edge i-1 in [before_prev, after_prev] and edge i in [before, after].
                    if (after - before_prev > widest) { widest = after - before_prev; widest_at = i; }
                    if (before - down_prev < narrowest) narrowest = before - down_prev;
                }
                before_prev = before;
                down_prev = after;
                after_prev = now_ns();  // after the pull-up: the next falling edge needs the line high first
            }
            int over = widest > budget_ns || (count > 1 && narrowest < min_ns) || unconfirmed > 0;
            printf("frame %d/%d, %zu bits, attempt %d: %.1f ms, widest edge interval %.2f ms%s (budget %lld ms), narrowest %.0f us%s%s\n",
                   f + 1, frames, count, attempt, (double)(after_prev - first) / 1e6, (double)widest / 1e6,
                   widest > budget_ns ? " OVERRUN" : "", (long long)budget_ms, count > 1 ? (double)narrowest / 1e3 : 0.0,
                   count > 1 && narrowest < min_ns ? " TOO CLOSE" : "", unconfirmed ? " UNCONFIRMED edge(s)" : "");
            if (over) {
                overruns++;
                if (widest > budget_ns) printf("  overrun between bits %zu and %zu\n", widest_at, widest_at + 1);
                if (unconfirmed) printf("  %d edge(s) not delivered by the kernel within the budget\n", unconfirmed);
                printf("  the frame is sent again after the gap\n");
            } else {
                sent = 1;
            }
            fflush(stdout);
            sleep_until(now_ns() + 2 * gap_ns);
        }
        if (!sent) failed++;
    }
    close(fds[0]);
    close(fds[1]);
    printf("wiegand_sender: %d frame(s), %d overrun(s)%s\n", frames, overruns, failed ? ", some never within budget" : "");
    return failed ? 1 : 0;
}
