// CFaceVision QR: the C++ side of include/cqr.h. No policy: what a payload means is decided in Swift.
//
// zxing-cpp, not OpenCV's QRCodeDetector: Debian 12's OpenCV 4.6 is built without quirc, so its detector finds
// a code's corners but cannot decode it ("Library QUIRC is not linked", printed on every call); libzxing-dev is
// two packages (631 kB) where libopencv-objdetect-dev pulls ~150 (Qt, GDAL).
#define ZX_USE_UTF8 1
#include "cqr.h"
#include "cface.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>
#include <ZXing/ReadBarcode.h>
#include <png.h>

struct cqr_reader {
    ZXing::DecodeHints hints;
};

namespace {

struct cqr_error : std::exception {
    int status;
    std::string message;
    cqr_error(int s, std::string m) : status(s), message(std::move(m)) {}
    const char *what() const noexcept override { return message.c_str(); }
};

void write_error(char *error, size_t error_size, const std::string &message) {
    if (error == nullptr || error_size == 0) return;
    size_t n = std::min(message.size(), error_size - 1);
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

template <typename F> int guarded(char *error, size_t error_size, F &&body) {
    try {
        return body();
    } catch (const cqr_error &e) {
        write_error(error, error_size, e.message);
        return e.status;
    } catch (const std::exception &e) {
        write_error(error, error_size, e.what());
        return CFACE_ERROR_RUNTIME;
    } catch (...) {
        write_error(error, error_size, "unknown C++ exception");
        return CFACE_ERROR_RUNTIME;
    }
}

void require(bool condition, const char *message) {
    if (!condition) throw cqr_error(CFACE_ERROR_ARGUMENT, message);
}

}  // namespace

extern "C" int cqr_reader_open(cqr_reader **out, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        require(out != nullptr, "out is NULL");
        auto reader = new cqr_reader();
        reader->hints.setFormats(ZXing::BarcodeFormat::QRCode);
        reader->hints.setTryHarder(true);
        reader->hints.setTryRotate(true);
        *out = reader;
        return CFACE_OK;
    });
}

extern "C" void cqr_reader_close(cqr_reader *reader) { delete reader; }

extern "C" int cqr_reader_decode(cqr_reader *reader, const uint8_t *bgr, int width, int height, int stride,
                                 char *text, size_t capacity, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        require(reader != nullptr && bgr != nullptr && text != nullptr && capacity > 0, "a pointer is NULL");
        require(width > 0 && height > 0 && stride >= 3 * width, "bad image size");
        text[0] = '\0';
        ZXing::ImageView image(bgr, width, height, ZXing::ImageFormat::BGR, stride);
        ZXing::Result result = ZXing::ReadBarcode(image, reader->hints);
        if (!result.isValid()) return 0;
        std::string decoded = result.text();
        if (decoded.empty()) return 0;
        require(decoded.size() < capacity, "the QR code holds more text than a visitor pass");
        std::memcpy(text, decoded.data(), decoded.size());
        text[decoded.size()] = '\0';
        return static_cast<int>(decoded.size());
    });
}

extern "C" int cqr_write_png(const char *text, const char *path, int module_pixels, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        require(text != nullptr && path != nullptr, "a pointer is NULL");
        require(module_pixels >= 1 && module_pixels <= 64, "module_pixels is 1 to 64");
        ZXing::MultiFormatWriter writer(ZXing::BarcodeFormat::QRCode);
        writer.setMargin(0);
        ZXing::BitMatrix modules = writer.encode(std::string(text), 0, 0);
        require(modules.width() > 0 && modules.height() > 0, "the text could not be encoded as a QR code");
        const int quiet = 4;
        const int side_w = (modules.width() + 2 * quiet) * module_pixels;
        const int side_h = (modules.height() + 2 * quiet) * module_pixels;
        std::vector<uint8_t> grey(static_cast<size_t>(side_w) * side_h, 255);
        for (int y = 0; y < modules.height(); ++y) {
            for (int x = 0; x < modules.width(); ++x) {
                if (!modules.get(x, y)) continue;
                for (int dy = 0; dy < module_pixels; ++dy) {
                    uint8_t *row = grey.data() + static_cast<size_t>((quiet + y) * module_pixels + dy) * side_w;
                    std::memset(row + (quiet + x) * module_pixels, 0, static_cast<size_t>(module_pixels));
                }
            }
        }
        png_image png;
        std::memset(&png, 0, sizeof png);
        png.version = PNG_IMAGE_VERSION;
        png.width = static_cast<png_uint_32>(side_w);
        png.height = static_cast<png_uint_32>(side_h);
        png.format = PNG_FORMAT_GRAY;
        if (!png_image_write_to_file(&png, path, 0, grey.data(), side_w, nullptr)) {
            std::string message = std::string("cannot write ") + path + ": " + png.message;
            png_image_free(&png);
            throw cqr_error(CFACE_ERROR_RUNTIME, message);
        }
        return CFACE_OK;
    });
}

extern "C" int cqr_png_size(const char *path, int *width, int *height, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        require(path != nullptr && width != nullptr && height != nullptr, "a pointer is NULL");
        png_image png;
        std::memset(&png, 0, sizeof png);
        png.version = PNG_IMAGE_VERSION;
        if (!png_image_begin_read_from_file(&png, path)) {
            throw cqr_error(CFACE_ERROR_ARGUMENT, std::string(path) + " is not a readable PNG: " + png.message);
        }
        *width = static_cast<int>(png.width);
        *height = static_cast<int>(png.height);
        png_image_free(&png);
        return CFACE_OK;
    });
}

extern "C" int cqr_png_read_bgr(const char *path, uint8_t *bgr, int width, int height, int stride, char *error,
                                size_t error_size) {
    return guarded(error, error_size, [&] {
        require(path != nullptr && bgr != nullptr, "a pointer is NULL");
        png_image png;
        std::memset(&png, 0, sizeof png);
        png.version = PNG_IMAGE_VERSION;
        if (!png_image_begin_read_from_file(&png, path)) {
            throw cqr_error(CFACE_ERROR_ARGUMENT, std::string(path) + " is not a readable PNG: " + png.message);
        }
        if (static_cast<int>(png.width) != width || static_cast<int>(png.height) != height || stride < 3 * width) {
            png_image_free(&png);
            throw cqr_error(CFACE_ERROR_ARGUMENT, "the PNG's size changed while it was read");
        }
        png.format = PNG_FORMAT_BGR;
        // Transparent pixels are put on white, as a phone screen shows them.
        png_color white = {255, 255, 255};
        if (!png_image_finish_read(&png, &white, bgr, static_cast<png_int_32>(stride), nullptr)) {
            std::string message = std::string("cannot read ") + path + ": " + png.message;
            png_image_free(&png);
            throw cqr_error(CFACE_ERROR_RUNTIME, message);
        }
        return CFACE_OK;
    });
}
