// CFaceVision QR: QR reading and writing (zxing-cpp) and PNG files (libpng) behind a plain-C API.
//
// Why this exists: the gate camera reads visitor passes (docs/visitors.md) with zxing-cpp, a C++ library Swift
// cannot import; `optgate visitor issue --qr` writes a PNG; `optgate simulate qr` reads one. (OpenCV's
// QRCodeDetector cannot decode in Debian 12's build, which lacks quirc; see cqr.cpp.) Same rules as cface.h: opaque handles, `cqr_` prefix, every C++ exception caught and returned as a
// negative CFACE_ERROR_* status with a message in `error`. A reader handle serves one thread at a time.
#ifndef OPTGATE_CQR_H
#define OPTGATE_CQR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqr_reader cqr_reader;

int cqr_reader_open(cqr_reader **out, char *error, size_t error_size);
void cqr_reader_close(cqr_reader *reader);
/// Looks for one QR code in the 8-bit BGR image and decodes it. Writes the text (NUL-terminated, at most
/// `capacity - 1` bytes) to `text` and returns its length; 0 when no code was found or it did not decode; a
/// negative status on failure. A longer text is refused (CFACE_ERROR_ARGUMENT), never truncated.
int cqr_reader_decode(cqr_reader *reader, const uint8_t *bgr, int width, int height, int stride,
                      char *text, size_t capacity, char *error, size_t error_size);

/// Encodes `text` as a QR code and writes it to `path` as a greyscale PNG, `module_pixels` (1-64) pixels per
/// module, with a 4-module white quiet zone.
int cqr_write_png(const char *text, const char *path, int module_pixels, char *error, size_t error_size);

/// Reads the size of the PNG at `path`.
int cqr_png_size(const char *path, int *width, int *height, char *error, size_t error_size);
/// Reads the PNG at `path` as 8-bit BGR into `bgr` (rows of `stride` bytes, `width` x `height` as given by
/// `cqr_png_size`).
int cqr_png_read_bgr(const char *path, uint8_t *bgr, int width, int height, int stride, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
