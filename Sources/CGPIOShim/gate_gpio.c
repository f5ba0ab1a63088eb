// libgpiod 1.x / 2.x bridge (see include/gate_gpio.h). GPIOD_LINE_BULK_MAX_LINES exists only in 1.x.
#include "gate_gpio.h"

#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(GPIOD_LINE_BULK_MAX_LINES)
#define GATE_GPIOD_V1 1
#else
#define GATE_GPIOD_V1 0
#endif

#define GATE_GPIO_MAX_INPUTS 64

#if GATE_GPIOD_V1
/* ---------------------------------------------------------------- libgpiod 1.x */

struct gate_gpio_output { struct gpiod_chip *chip; struct gpiod_line *line; };
struct gate_gpio_inputs { struct gpiod_chip *chip; struct gpiod_line_bulk bulk; };

gate_gpio_output *gate_gpio_open_output(const char *chip, unsigned int offset, int value, const char *consumer) {
    gate_gpio_output *out = calloc(1, sizeof *out);
    if (!out) return NULL;
    out->chip = gpiod_chip_open_lookup(chip);
    if (!out->chip) goto fail;
    out->line = gpiod_chip_get_line(out->chip, offset);
    if (!out->line || gpiod_line_request_output(out->line, consumer, value) < 0) goto fail;
    return out;
fail:;
    int saved = errno;
    if (out->chip) gpiod_chip_close(out->chip);
    free(out);
    errno = saved;
    return NULL;
}

int gate_gpio_set(gate_gpio_output *line, int value) { return gpiod_line_set_value(line->line, value); }

void gate_gpio_close(gate_gpio_output *line) {
    if (!line) return;
    gpiod_line_release(line->line);
    gpiod_chip_close(line->chip);
    free(line);
}

gate_gpio_inputs *gate_gpio_open_inputs(const char *chip, const unsigned int *offsets, size_t count, const char *consumer) {
    return gate_gpio_open_inputs_edges(chip, offsets, count, consumer, 0);
}

gate_gpio_inputs *gate_gpio_open_inputs_edges(const char *chip, const unsigned int *offsets, size_t count, const char *consumer,
                                              int falling_only) {
    if (count == 0 || count > GATE_GPIO_MAX_INPUTS) { errno = EINVAL; return NULL; }
    gate_gpio_inputs *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    in->chip = gpiod_chip_open_lookup(chip);
    if (!in->chip) goto fail;
    if (gpiod_chip_get_lines(in->chip, (unsigned int *)offsets, (unsigned int)count, &in->bulk) < 0) goto fail;
    if ((falling_only ? gpiod_line_request_bulk_falling_edge_events(&in->bulk, consumer)
                      : gpiod_line_request_bulk_both_edges_events(&in->bulk, consumer)) < 0) goto fail;
    return in;
fail:;
    int saved = errno;
    if (in->chip) gpiod_chip_close(in->chip);
    free(in);
    errno = saved;
    return NULL;
}

int gate_gpio_inputs_get(gate_gpio_inputs *inputs, int *values) {
    return gpiod_line_get_value_bulk(&inputs->bulk, values);
}

int gate_gpio_inputs_wait(gate_gpio_inputs *inputs, int64_t timeout_ns) {
    struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
    struct gpiod_line_bulk ready;
    return gpiod_line_event_wait_bulk(&inputs->bulk, &ts, &ready);
}

int gate_gpio_inputs_read(gate_gpio_inputs *inputs, gate_gpio_edge *events, size_t capacity) {
    /* 1.x keeps one event fd per line: poll each without waiting and read what is pending. */
    size_t n = 0;
    struct timespec zero = { 0, 0 };
    for (unsigned int i = 0; i < gpiod_line_bulk_num_lines(&inputs->bulk) && n < capacity; i++) {
        struct gpiod_line *line = gpiod_line_bulk_get_line(&inputs->bulk, i);
        while (n < capacity) {
            int ready = gpiod_line_event_wait(line, &zero);
            if (ready < 0) return -1;
            if (ready == 0) break;
            struct gpiod_line_event ev;
            if (gpiod_line_event_read(line, &ev) < 0) return -1;
            events[n].offset = gpiod_line_offset(line);
            events[n].rising = ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
            events[n].timestamp_ns = (uint64_t)ev.ts.tv_sec * 1000000000u + (uint64_t)ev.ts.tv_nsec;
            n++;
        }
    }
    return (int)n;
}

void gate_gpio_inputs_close(gate_gpio_inputs *inputs) {
    if (!inputs) return;
    gpiod_line_release_bulk(&inputs->bulk);
    gpiod_chip_close(inputs->chip);
    free(inputs);
}

int gate_gpio_api_major(void) { return 1; }
const char *gate_gpio_library_version(void) { return gpiod_version_string(); }

#else
/* ---------------------------------------------------------------- libgpiod 2.x */

struct gate_gpio_output { struct gpiod_line_request *request; unsigned int offset; };
struct gate_gpio_inputs {
    struct gpiod_line_request *request;
    struct gpiod_edge_event_buffer *buffer;
    unsigned int offsets[GATE_GPIO_MAX_INPUTS];
    size_t count;
};

/* 2.x opens chips by path only. */
static struct gpiod_chip *gate_open_chip(const char *chip) {
    if (strchr(chip, '/')) return gpiod_chip_open(chip);
    char path[256];
    if (snprintf(path, sizeof path, "/dev/%s", chip) >= (int)sizeof path) { errno = ENAMETOOLONG; return NULL; }
    return gpiod_chip_open(path);
}

/* One request of `count` lines sharing `settings`; the chip is closed again (the request outlives it). */
static struct gpiod_line_request *gate_request(const char *chip, const unsigned int *offsets, size_t count,
                                               struct gpiod_line_settings *settings, const char *consumer) {
    struct gpiod_line_request *request = NULL;
    struct gpiod_line_config *lines = NULL;
    struct gpiod_request_config *config = NULL;
    struct gpiod_chip *handle = gate_open_chip(chip);
    if (!handle || !settings) goto done;
    lines = gpiod_line_config_new();
    config = gpiod_request_config_new();
    if (!lines || !config) goto done;
    if (gpiod_line_config_add_line_settings(lines, offsets, count, settings) < 0) goto done;
    gpiod_request_config_set_consumer(config, consumer);
    request = gpiod_chip_request_lines(handle, config, lines);
done:;
    int saved = errno;
    if (config) gpiod_request_config_free(config);
    if (lines) gpiod_line_config_free(lines);
    if (settings) gpiod_line_settings_free(settings);
    if (handle) gpiod_chip_close(handle);
    errno = saved;
    return request;
}

gate_gpio_output *gate_gpio_open_output(const char *chip, unsigned int offset, int value, const char *consumer) {
    gate_gpio_output *out = calloc(1, sizeof *out);
    if (!out) return NULL;
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (settings) {
        gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
        gpiod_line_settings_set_output_value(settings, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    }
    out->offset = offset;
    out->request = gate_request(chip, &offset, 1, settings, consumer);
    if (!out->request) { int saved = errno; free(out); errno = saved; return NULL; }
    return out;
}

int gate_gpio_set(gate_gpio_output *line, int value) {
    return gpiod_line_request_set_value(line->request, line->offset,
                                        value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

void gate_gpio_close(gate_gpio_output *line) {
    if (!line) return;
    gpiod_line_request_release(line->request);
    free(line);
}

gate_gpio_inputs *gate_gpio_open_inputs(const char *chip, const unsigned int *offsets, size_t count, const char *consumer) {
    return gate_gpio_open_inputs_edges(chip, offsets, count, consumer, 0);
}

gate_gpio_inputs *gate_gpio_open_inputs_edges(const char *chip, const unsigned int *offsets, size_t count, const char *consumer,
                                              int falling_only) {
    if (count == 0 || count > GATE_GPIO_MAX_INPUTS) { errno = EINVAL; return NULL; }
    gate_gpio_inputs *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    memcpy(in->offsets, offsets, count * sizeof *offsets);
    in->count = count;
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (settings) {
        gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
        gpiod_line_settings_set_edge_detection(settings, falling_only ? GPIOD_LINE_EDGE_FALLING : GPIOD_LINE_EDGE_BOTH);
        gpiod_line_settings_set_event_clock(settings, GPIOD_LINE_CLOCK_MONOTONIC);
    }
    in->buffer = gpiod_edge_event_buffer_new(GATE_GPIO_MAX_INPUTS);
    in->request = in->buffer ? gate_request(chip, offsets, count, settings, consumer) : NULL;
    if (!in->request) {
        int saved = errno;
        if (in->buffer) gpiod_edge_event_buffer_free(in->buffer);
        free(in);
        errno = saved;
        return NULL;
    }
    return in;
}

int gate_gpio_inputs_get(gate_gpio_inputs *inputs, int *values) {
    enum gpiod_line_value raw[GATE_GPIO_MAX_INPUTS];
    if (gpiod_line_request_get_values_subset(inputs->request, inputs->count, inputs->offsets, raw) < 0) return -1;
    for (size_t i = 0; i < inputs->count; i++) values[i] = raw[i] == GPIOD_LINE_VALUE_ACTIVE;
    return 0;
}

int gate_gpio_inputs_wait(gate_gpio_inputs *inputs, int64_t timeout_ns) {
    return gpiod_line_request_wait_edge_events(inputs->request, timeout_ns);
}

int gate_gpio_inputs_read(gate_gpio_inputs *inputs, gate_gpio_edge *events, size_t capacity) {
    if (capacity > GATE_GPIO_MAX_INPUTS) capacity = GATE_GPIO_MAX_INPUTS;
    int n = gpiod_line_request_read_edge_events(inputs->request, inputs->buffer, capacity);
    for (int i = 0; i < n; i++) {
        struct gpiod_edge_event *ev = gpiod_edge_event_buffer_get_event(inputs->buffer, (unsigned long)i);
        events[i].offset = gpiod_edge_event_get_line_offset(ev);
        events[i].rising = gpiod_edge_event_get_event_type(ev) == GPIOD_EDGE_EVENT_RISING_EDGE;
        events[i].timestamp_ns = gpiod_edge_event_get_timestamp_ns(ev);
    }
    return n;
}

void gate_gpio_inputs_close(gate_gpio_inputs *inputs) {
    if (!inputs) return;
    gpiod_line_request_release(inputs->request);
    gpiod_edge_event_buffer_free(inputs->buffer);
    free(inputs);
}

int gate_gpio_api_major(void) { return 2; }
const char *gate_gpio_library_version(void) { return gpiod_api_version(); }

#endif
