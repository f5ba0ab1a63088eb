// CFaceVision implementation: the C++ side of include/cface.h.
//
// Kept to what must be C++: OpenCV dnn calls, CenterFace output decoding, dlib's templated network type, and the
// exception boundary. Policy (thresholds, which face to use, matching) lives in Swift.
#include "cface.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <exception>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/opencv/cv_image.h>

namespace {

// ---- dlib ResNet, declared exactly as dlib publishes it (examples/dnn_face_recognition_ex.cpp) ----
using namespace dlib;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

// ---- error boundary ----

struct cface_error : std::exception {
    int status;
    std::string message;
    cface_error(int s, std::string m) : status(s), message(std::move(m)) {}
    const char *what() const noexcept override { return message.c_str(); }
};

void write_error(char *error, size_t error_size, const std::string &message) {
    if (error == nullptr || error_size == 0) return;
    size_t n = std::min(message.size(), error_size - 1);
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

/// Runs `body`, converting every exception into a status and a message.
template <typename F> int guarded(char *error, size_t error_size, int failure_status, F &&body) {
    try {
        return body();
    } catch (const cface_error &e) {
        write_error(error, error_size, e.message);
        return e.status;
    } catch (const cv::Exception &e) {
        write_error(error, error_size, "OpenCV: " + e.msg);
        return failure_status;
    } catch (const dlib::serialization_error &e) {
        write_error(error, error_size, std::string("dlib deserialization: ") + e.what());
        return CFACE_ERROR_MODEL;
    } catch (const std::exception &e) {
        write_error(error, error_size, e.what());
        return failure_status;
    } catch (...) {
        write_error(error, error_size, "unknown C++ exception");
        return failure_status;
    }
}

void require(bool condition, const char *message) {
    if (!condition) throw cface_error(CFACE_ERROR_ARGUMENT, message);
}

void require_readable(const char *path, const char *what) {
    require(path != nullptr, "a model path is NULL");
    FILE *f = std::fopen(path, "rb");
    if (f == nullptr) throw cface_error(CFACE_ERROR_MODEL, std::string(what) + " " + path + " cannot be opened");
    std::fclose(f);
}

/// Wraps caller memory as a BGR cv::Mat without copying.
cv::Mat wrap_bgr(const uint8_t *bgr, int width, int height, int stride) {
    require(bgr != nullptr, "the image buffer is NULL");
    require(width > 0 && height > 0, "the image has no pixels");
    require(stride >= 3 * width, "the image stride is smaller than 3 * width");
    return cv::Mat(height, width, CV_8UC3, const_cast<uint8_t *>(bgr), static_cast<size_t>(stride));
}

} // namespace

// ---- detector ----

struct cface_detector {
    cv::dnn::Net net;
    int input_width;
    int input_height;
};

extern "C" int cface_detector_open(const char *model_path, int input_width, int input_height, cface_detector **out,
                                   char *error, size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_MODEL, [&] {
        require(out != nullptr, "the output handle pointer is NULL");
        *out = nullptr;
        require(input_width > 0 && input_height > 0 && input_width % 32 == 0 && input_height % 32 == 0,
                "the detector input size must be positive multiples of 32");
        require_readable(model_path, "the detector model");
        auto d = std::make_unique<cface_detector>();
        d->net = cv::dnn::readNetFromONNX(model_path);
        if (d->net.empty()) throw cface_error(CFACE_ERROR_MODEL, std::string("no network in ") + model_path);
        d->input_width = input_width;
        d->input_height = input_height;
        *out = d.release();
        return CFACE_OK;
    });
}

extern "C" void cface_detector_close(cface_detector *detector) { delete detector; }

extern "C" int cface_detector_detect(cface_detector *d, const uint8_t *bgr, int width, int height, int stride,
                                     float score_threshold, float nms_threshold, cface_face *faces, int capacity,
                                     char *error, size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_RUNTIME, [&] {
        require(d != nullptr, "the detector handle is NULL");
        require(capacity >= 0 && (faces != nullptr || capacity == 0), "the face buffer is NULL");
        cv::Mat image = wrap_bgr(bgr, width, height, stride);

        // Letterbox into the fixed input: OpenCV 4.6 caches layer shapes at the first forward().
        const float k = std::min(float(d->input_width) / width, float(d->input_height) / height);
        const int scaled_w = std::max(1, std::min(d->input_width, int(std::lround(width * k))));
        const int scaled_h = std::max(1, std::min(d->input_height, int(std::lround(height * k))));
        cv::Mat input(d->input_height, d->input_width, CV_8UC3, cv::Scalar(0, 0, 0));
        if (scaled_w == width && scaled_h == height) {
            image.copyTo(input(cv::Rect(0, 0, width, height)));
        } else {
            cv::resize(image, input(cv::Rect(0, 0, scaled_w, scaled_h)), cv::Size(scaled_w, scaled_h), 0, 0,
                       cv::INTER_LINEAR);
        }
        const float kx = float(scaled_w) / width, ky = float(scaled_h) / height;

        cv::Mat blob = cv::dnn::blobFromImage(input, 1.0, cv::Size(), cv::Scalar(), /*swapRB*/ true, false);
        d->net.setInput(blob);
        std::vector<cv::Mat> outs;
        d->net.forward(outs, std::vector<cv::String>{"537", "538", "539", "540"});
        const cv::Mat &heat = outs[0], &scale = outs[1], &offset = outs[2], &lms = outs[3];
        const int oh = heat.size[2], ow = heat.size[3];
        const size_t plane = size_t(oh) * ow;
        const float *hp = heat.ptr<float>(), *sp = scale.ptr<float>(), *op = offset.ptr<float>(),
                    *lp = lms.ptr<float>();

        std::vector<cv::Rect2d> boxes;
        std::vector<float> scores;
        std::vector<cface_face> candidates;
        for (int r = 0; r < oh; ++r) {
            for (int c = 0; c < ow; ++c) {
                const size_t i = size_t(r) * ow + c;
                const float s = hp[i];
                if (s <= score_threshold) continue;
                const float bh = std::exp(sp[i]) * 4, bw = std::exp(sp[plane + i]) * 4;
                const float oy = op[i], ox = op[plane + i];
                float x1 = std::max(0.f, (c + ox + 0.5f) * 4 - bw / 2);
                float y1 = std::max(0.f, (r + oy + 0.5f) * 4 - bh / 2);
                x1 = std::min(x1, float(d->input_width));
                y1 = std::min(y1, float(d->input_height));
                const float x2 = std::min(x1 + bw, float(d->input_width));
                const float y2 = std::min(y1 + bh, float(d->input_height));
                cface_face f{};
                f.x = x1 / kx;
                f.y = y1 / ky;
                f.width = (x2 - x1) / kx;
                f.height = (y2 - y1) / ky;
                for (int j = 0; j < 5; ++j) {
                    f.landmarks[2 * j] = (lp[(2 * j + 1) * plane + i] * bw + x1) / kx;
                    f.landmarks[2 * j + 1] = (lp[(2 * j) * plane + i] * bh + y1) / ky;
                }
                f.score = s;
                candidates.push_back(f);
                boxes.emplace_back(x1, y1, x2 - x1, y2 - y1);
                scores.push_back(s);
            }
        }
        std::vector<int> keep;
        cv::dnn::NMSBoxes(boxes, scores, score_threshold, nms_threshold, keep);  // sorted by score
        const int n = int(keep.size());
        for (int j = 0; j < std::min(n, capacity); ++j) faces[j] = candidates[keep[j]];
        return n;
    });
}

// ---- dlib embedder ----

struct cface_dlib_embedder {
    dlib::shape_predictor predictor;
    anet_type net;
};

extern "C" int cface_dlib_embedder_open(const char *shape_predictor_path, const char *network_path,
                                        cface_dlib_embedder **out, char *error, size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_MODEL, [&] {
        require(out != nullptr, "the output handle pointer is NULL");
        *out = nullptr;
        require_readable(shape_predictor_path, "the shape predictor");
        require_readable(network_path, "the embedding network");
        auto e = std::make_unique<cface_dlib_embedder>();
        try {
            dlib::deserialize(shape_predictor_path) >> e->predictor;
        } catch (const std::exception &x) {
            throw cface_error(CFACE_ERROR_MODEL, std::string(shape_predictor_path) + ": " + x.what());
        }
        if (e->predictor.num_parts() != 5)
            throw cface_error(CFACE_ERROR_MODEL, std::string(shape_predictor_path) + ": not a 5-point shape predictor");
        try {
            dlib::deserialize(network_path) >> e->net;
        } catch (const std::exception &x) {
            throw cface_error(CFACE_ERROR_MODEL, std::string(network_path) + ": " + x.what());
        }
        *out = e.release();
        return CFACE_OK;
    });
}

extern "C" void cface_dlib_embedder_close(cface_dlib_embedder *embedder) { delete embedder; }

extern "C" int cface_dlib_embedder_embed(cface_dlib_embedder *e, const uint8_t *bgr, int width, int height,
                                         int stride, const float box[4], float out[128], char *error,
                                         size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_RUNTIME, [&] {
        require(e != nullptr, "the embedder handle is NULL");
        require(box != nullptr && out != nullptr, "the box or output buffer is NULL");
        require(box[2] > 1 && box[3] > 1, "the face box is empty");
        cv::Mat image = wrap_bgr(bgr, width, height, stride);
        dlib::cv_image<dlib::bgr_pixel> view(image);
        const dlib::rectangle rect(long(std::lround(box[0])), long(std::lround(box[1])),
                                   long(std::lround(box[0] + box[2])) - 1, long(std::lround(box[1] + box[3])) - 1);
        const dlib::full_object_detection shape = e->predictor(view, rect);
        dlib::matrix<dlib::rgb_pixel> chip;
        dlib::extract_image_chip(view, dlib::get_face_chip_details(shape, 150, 0.25), chip);
        const dlib::matrix<float, 0, 1> descriptor = e->net(chip);
        require(descriptor.size() == 128, "the network did not return 128 values");
        for (int i = 0; i < 128; ++i) out[i] = descriptor(i);
        return CFACE_OK;
    });
}

// ---- generic OpenCV dnn embedder ----

struct cface_dnn_embedder {
    cv::dnn::Net net;
    cface_dnn_embedder_config config;  // paths are not kept
};

extern "C" int cface_dnn_embedder_open(const cface_dnn_embedder_config *config, cface_dnn_embedder **out,
                                       char *error, size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_MODEL, [&] {
        require(out != nullptr && config != nullptr, "the configuration or output handle pointer is NULL");
        *out = nullptr;
        require(config->input_width > 0 && config->input_height > 0, "the embedder input size is not positive");
        require(config->output_dimension > 0, "the embedder output dimension is not positive");
        require_readable(config->model_path, "the embedder model");
        if (config->config_path != nullptr) require_readable(config->config_path, "the embedder configuration");
        auto e = std::make_unique<cface_dnn_embedder>();
        e->net = cv::dnn::readNet(config->model_path, config->config_path ? config->config_path : "");
        if (e->net.empty()) throw cface_error(CFACE_ERROR_MODEL, std::string("no network in ") + config->model_path);
        e->config = *config;
        e->config.model_path = nullptr;
        e->config.config_path = nullptr;
        *out = e.release();
        return CFACE_OK;
    });
}

extern "C" void cface_dnn_embedder_close(cface_dnn_embedder *embedder) { delete embedder; }

extern "C" int cface_dnn_embedder_embed(cface_dnn_embedder *e, const uint8_t *bgr, int width, int height,
                                        int stride, const float landmarks[10], float *out, int capacity,
                                        char *error, size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_RUNTIME, [&] {
        require(e != nullptr, "the embedder handle is NULL");
        require(landmarks != nullptr && out != nullptr, "the landmarks or output buffer is NULL");
        const cface_dnn_embedder_config &c = e->config;
        require(capacity >= c.output_dimension, "the output buffer is smaller than the embedding");
        cv::Mat image = wrap_bgr(bgr, width, height, stride);

        // Least-squares similarity transform (rotation, uniform scale, translation) landmarks -> template.
        double mx = 0, my = 0, tx = 0, ty = 0;
        for (int j = 0; j < 5; ++j) {
            mx += landmarks[2 * j]; my += landmarks[2 * j + 1];
            tx += c.template_points[2 * j]; ty += c.template_points[2 * j + 1];
        }
        mx /= 5; my /= 5; tx /= 5; ty /= 5;
        double sxx = 0, a_num = 0, b_num = 0;
        for (int j = 0; j < 5; ++j) {
            const double x = landmarks[2 * j] - mx, y = landmarks[2 * j + 1] - my;
            const double u = c.template_points[2 * j] - tx, v = c.template_points[2 * j + 1] - ty;
            sxx += x * x + y * y;
            a_num += x * u + y * v;
            b_num += x * v - y * u;
        }
        require(sxx > 1e-6, "the landmarks coincide");
        const double a = a_num / sxx, b = b_num / sxx;
        cv::Matx23d m(a, -b, tx - (a * mx - b * my), b, a, ty - (b * mx + a * my));
        cv::Mat aligned;
        cv::warpAffine(image, aligned, m, cv::Size(c.input_width, c.input_height), cv::INTER_LINEAR,
                       cv::BORDER_CONSTANT);

        cv::Mat blob;
        if (c.standardize) {
            cv::Mat f;
            aligned.convertTo(f, CV_32F);
            cv::Scalar mean, stddev;
            cv::meanStdDev(f.reshape(1), mean, stddev);
            const double std_adj = std::max(stddev[0], 1.0 / std::sqrt(double(f.total() * f.channels())));
            f = (f - cv::Scalar::all(mean[0])) / std_adj;
            blob = cv::dnn::blobFromImage(f, 1.0, cv::Size(), cv::Scalar(), c.swap_rb != 0, false, CV_32F);
        } else {
            blob = cv::dnn::blobFromImage(aligned, c.scale, cv::Size(), cv::Scalar(c.mean[0], c.mean[1], c.mean[2]),
                                          c.swap_rb != 0, false, CV_32F);
        }
        e->net.setInput(blob);
        cv::Mat result = e->net.forward();
        require(int(result.total()) == c.output_dimension, "the network output size differs from the configuration");
        const float *p = result.ptr<float>();
        std::copy(p, p + c.output_dimension, out);
        return CFACE_OK;
    });
}

// ---- sharpness ----

extern "C" int cface_sharpness(const uint8_t *bgr, int width, int height, int stride, const float box[4],
                               double *out, char *error, size_t error_size) {
    return guarded(error, error_size, CFACE_ERROR_RUNTIME, [&] {
        require(box != nullptr && out != nullptr, "the box or output pointer is NULL");
        cv::Mat image = wrap_bgr(bgr, width, height, stride);
        const cv::Rect r = cv::Rect(int(std::floor(box[0])), int(std::floor(box[1])), int(std::ceil(box[2])),
                                    int(std::ceil(box[3]))) & cv::Rect(0, 0, width, height);
        require(r.width >= 3 && r.height >= 3, "the box does not overlap the image by at least 3x3 pixels");
        cv::Mat grey, lap;
        cv::cvtColor(image(r), grey, cv::COLOR_BGR2GRAY);
        cv::Laplacian(grey, lap, CV_64F);
        cv::Scalar mean, stddev;
        cv::meanStdDev(lap, mean, stddev);
        *out = stddev[0] * stddev[0];
        return CFACE_OK;
    });
}
