// CFaceVision: OpenCV dnn + dlib face detection and embedding behind a plain-C API for Swift.
//
// Why this exists: OpenCV and dlib are C++ template libraries that Swift cannot import directly. This header is
// the whole surface: opaque handles, `cface_` prefix, no C++ types. Every function catches every C++ exception and
// reports it as a negative status plus a message written into the caller's `error` buffer (never NULL-terminated
// past `error_size`; may be NULL when the caller does not want the message).
//
// Threads: a handle is not thread-safe (OpenCV `cv::dnn::Net` and dlib nets keep per-call state); use one handle
// from one thread at a time. Different handles may be used concurrently.
//
// Images are 8-bit BGR, rows of `stride` bytes (stride >= 3 * width). Coordinates are in image pixels.
#ifndef OPTGATE_CFACE_H
#define OPTGATE_CFACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes returned by every function that can fail (0 or a count on success).
enum {
    CFACE_OK = 0,
    /// A model file could not be opened or parsed.
    CFACE_ERROR_MODEL = -1,
    /// An argument was out of range (null pointer, bad size, box outside the image).
    CFACE_ERROR_ARGUMENT = -2,
    /// OpenCV or dlib threw while running.
    CFACE_ERROR_RUNTIME = -3,
};

/// One detected face. Landmarks are x0,y0 … x4,y4 in the order CenterFace emits them: the subject's right eye
/// (image left), left eye, nose tip, right and left mouth corner.
typedef struct cface_face {
    float x, y, width, height;
    float landmarks[10];
    float score;
} cface_face;

/// CenterFace (ONNX) via OpenCV dnn, run at one fixed input size (frames are letterboxed into it).
typedef struct cface_detector cface_detector;

/// Opens `model_path` (centerface.onnx). `input_width`/`input_height` must be positive multiples of 32.
int cface_detector_open(const char *model_path, int input_width, int input_height,
                        cface_detector **out, char *error, size_t error_size);
void cface_detector_close(cface_detector *detector);
/// Detects faces with score > `score_threshold`, after NMS at `nms_threshold`. Writes at most `capacity` faces,
/// highest score first, and returns how many were found (may exceed `capacity`), or a negative status.
int cface_detector_detect(cface_detector *detector, const uint8_t *bgr, int width, int height, int stride,
                          float score_threshold, float nms_threshold, cface_face *faces, int capacity,
                          char *error, size_t error_size);

/// dlib 5-point shape predictor + ResNet-29 metric network (dlib_face_recognition_resnet_model_v1.dat).
typedef struct cface_dlib_embedder cface_dlib_embedder;

int cface_dlib_embedder_open(const char *shape_predictor_path, const char *network_path,
                             cface_dlib_embedder **out, char *error, size_t error_size);
void cface_dlib_embedder_close(cface_dlib_embedder *embedder);
/// Aligns the face inside the box (x, y, width, height) with the 5-point predictor, cuts the 150x150 chip
/// (padding 0.25) and writes the 128 unnormalised floats to `out`.
int cface_dlib_embedder_embed(cface_dlib_embedder *embedder, const uint8_t *bgr, int width, int height,
                              int stride, const float box[4], float out[128], char *error, size_t error_size);

/// A generic OpenCV-dnn embedder (ONNX, TensorFlow .pb, Caffe, …, chosen by OpenCV from the file extension).
typedef struct cface_dnn_embedder cface_dnn_embedder;

typedef struct cface_dnn_embedder_config {
    const char *model_path;
    /// Optional second file (Caffe prototxt, TensorFlow pbtxt); NULL when unused.
    const char *config_path;
    int input_width, input_height;
    /// Per-channel mean subtracted before `scale` is applied, in the network's channel order.
    float mean[3];
    float scale;
    /// Non-zero: feed RGB (swap the BGR input).
    int swap_rb;
    /// Non-zero: per-image standardisation, (x - mean(x)) / max(std(x), 1/sqrt(n)), instead of mean/scale.
    int standardize;
    int output_dimension;
    /// 5 reference points (x0,y0 … x4,y4, same order as `cface_face.landmarks`) in input pixels; the face is
    /// warped onto them with a least-squares similarity transform.
    float template_points[10];
} cface_dnn_embedder_config;

int cface_dnn_embedder_open(const cface_dnn_embedder_config *config, cface_dnn_embedder **out,
                            char *error, size_t error_size);
void cface_dnn_embedder_close(cface_dnn_embedder *embedder);
/// Warps the face given by its 5 landmarks onto the template and writes `output_dimension` floats to `out`
/// (`capacity` floats available).
int cface_dnn_embedder_embed(cface_dnn_embedder *embedder, const uint8_t *bgr, int width, int height, int stride,
                             const float landmarks[10], float *out, int capacity, char *error, size_t error_size);

/// Variance of the Laplacian of the grey box (x, y, width, height), clipped to the image: a focus measure.
int cface_sharpness(const uint8_t *bgr, int width, int height, int stride, const float box[4], double *out,
                    char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
