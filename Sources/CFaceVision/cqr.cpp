// CFaceVision QR: the C++ side of include/cqr.h. No policy: what a payload means is decided in Swift.
#include "cqr.h"
#include "cface.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <png.h>

struct cqr_reader {
    cv::QRCodeDetector detector;
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
    } catch (const cv::Exception &e) {
        write_error(error, error_size, "OpenCV: " + e.msg);
        return CFACE_ERROR_RUNTIME;
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
        *out = new cqr_reader();
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
        cv::Mat image(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), static_cast<size_t>(stride));
        std::vector<cv::Point> corners;
        std::string decoded = reader->detector.detectAndDecode(image, corners);
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
        cv::Ptr<cv::QRCodeEncoder> encoder = cv::QRCodeEncoder::create();
        cv::Mat modules;
        encoder->encode(text, modules);
        require(!modules.empty(), "the text could not be encoded as a QR code");
        cv::Mat grey;
        if (modules.channels() == 3) cv::cvtColor(modules, grey, cv::COLOR_BGR2GRAY); else grey = modules;
        cv::Mat scaled;
        cv::resize(grey, scaled, cv::Size(), module_pixels, module_pixels, cv::INTER_NEAREST);
        int quiet = 4 * module_pixels;
        cv::Mat framed;
        cv::copyMakeBorder(scaled, framed, quiet, quiet, quiet, quiet, cv::BORDER_CONSTANT, cv::Scalar(255));
        cv::Mat contiguous = framed.isContinuous() ? framed : framed.clone();
        png_image png;
        std::memset(&png, 0, sizeof png);
        png.version = PNG_IMAGE_VERSION;
        png.width = static_cast<png_uint_32>(contiguous.cols);
        png.height = static_cast<png_uint_32>(contiguous.rows);
        png.format = PNG_FORMAT_GRAY;
        if (!png_image_write_to_file(&png, path, 0, contiguous.data, static_cast<png_int_32>(contiguous.step), nullptr)) {
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
