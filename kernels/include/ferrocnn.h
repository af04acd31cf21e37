/*
 * ferrocnn: SIMD convolution, pooling, linear and batch-norm kernels for CPU inference.
 *
 * Plans are created once (weights packed, algorithm chosen) and run many times; a run
 * allocates nothing. Tensors are float32, NCHW, contiguous; conv weights OIHW, as in
 * PyTorch. Link with -lferrocnn_kernels (libferrocnn_kernels.a or .so, built by
 * `cargo build --release -p ferrocnn-kernels`); the static library also needs
 * -lpthread -ldl -lm.
 *
 * Every function returning ferrocnn_status returns FERROCNN_OK or the reason it did
 * nothing; ferrocnn_last_error_message() then names the argument and the numbers. Pointers
 * are checked for NULL (NULL with length 0 is an empty buffer) and alignment, lengths
 * against the plan, and a written buffer may not overlap any other. No Rust panic unwinds
 * into C (FERROCNN_INTERNAL_ERROR instead).
 *
 * Plans run on ferrocnn_set_num_threads() threads, fixed at creation. A plan is immutable:
 * several threads may run it at once, each with its own output and scratch.
 *
 * Kept in sync with kernels/src/capi by kernels/tests/c_abi.rs, which also compiles and
 * runs kernels/examples/c/conv.c against this header and the static library.
 */
#ifndef FERROCNN_H
#define FERROCNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERROCNN_ABI_VERSION 1

typedef int32_t ferrocnn_status;
#define FERROCNN_OK 0
#define FERROCNN_INVALID_ARGUMENT 1
#define FERROCNN_UNSUPPORTED 2
#define FERROCNN_INTERNAL_ERROR 3

typedef int32_t ferrocnn_activation;
#define FERROCNN_ACTIVATION_IDENTITY 0
#define FERROCNN_ACTIVATION_RELU 1
#define FERROCNN_ACTIVATION_RELU6 2
#define FERROCNN_ACTIVATION_LEAKY_RELU 3
#define FERROCNN_ACTIVATION_SIGMOID 4

typedef int32_t ferrocnn_algo;
#define FERROCNN_ALGO_AUTO 0
#define FERROCNN_ALGO_REFERENCE 1
#define FERROCNN_ALGO_IM2COL 2
#define FERROCNN_ALGO_GEMM1X1 3
#define FERROCNN_ALGO_DEPTHWISE 4
#define FERROCNN_ALGO_WINOGRAD_F2 5
#define FERROCNN_ALGO_WINOGRAD_F4 6
#define FERROCNN_ALGO_WINOGRAD_F6 7
#define FERROCNN_ALGO_TUNE 8
#define FERROCNN_ALGO_WINOGRAD_SPLIT 9

typedef int32_t ferrocnn_pool_kind;
#define FERROCNN_POOL_MAX 0
#define FERROCNN_POOL_AVG 1

/* ---- The library ---- */

/* Why the last failing call on this thread failed ("" if none); valid until the next
 * failing call on the same thread; never NULL. */
const char *ferrocnn_last_error_message(void);
/* Compare with FERROCNN_ABI_VERSION. */
uint32_t ferrocnn_abi_version(void);
/* "portable", "avx2" or "avx512": the path plans created now use (FERROCNN_ISA env). */
const char *ferrocnn_isa(void);
/* Threads of plans created from now on; 0 (the default) means one per core. On Linux,
 * when they fit the CPUs the process may use, the workers are bound one to each of the
 * first of them (unbound, 2-thread runs of short layers often took their 1-thread time). */
ferrocnn_status ferrocnn_set_num_threads(size_t threads);
size_t ferrocnn_num_threads(void);

/* ---- Convolution (depthwise: groups == in_channels, with ALGO_DEPTHWISE or AUTO) ---- */

typedef struct ferrocnn_conv2d_desc {
    size_t batch;
    size_t in_channels;
    size_t in_h;
    size_t in_w;
    size_t out_channels;
    size_t kernel_h;
    size_t kernel_w;
    size_t stride_h;
    size_t stride_w;
    size_t pad_top;
    size_t pad_bottom;
    size_t pad_left;
    size_t pad_right;
    size_t dilation_h;
    size_t dilation_w;
    size_t groups;
} ferrocnn_conv2d_desc;

/* Applied as each output is stored: activation(conv * scale[k] + shift[k] + residual). */
typedef struct ferrocnn_epilogue {
    const float *scale;
    size_t scale_len;
    const float *shift;
    size_t shift_len;
    int32_t residual;
    ferrocnn_activation activation;
    float leaky_relu_slope;
} ferrocnn_epilogue;

typedef struct ferrocnn_conv2d ferrocnn_conv2d;

/* bias and epilogue may be NULL. On failure *plan is NULL. */
ferrocnn_status ferrocnn_conv2d_create(const ferrocnn_conv2d_desc *desc, const float *weights, size_t weights_len,
                                       const float *bias, size_t bias_len, const ferrocnn_epilogue *epilogue,
                                       ferrocnn_algo algo, ferrocnn_conv2d **plan);
/* The algorithm the plan runs, AUTO and TUNE resolved. */
ferrocnn_status ferrocnn_conv2d_algo(const ferrocnn_conv2d *plan, ferrocnn_algo *algo);
ferrocnn_status ferrocnn_conv2d_scratch_len(const ferrocnn_conv2d *plan, size_t *floats);
ferrocnn_status ferrocnn_conv2d_output_len(const ferrocnn_conv2d *plan, size_t *floats);
/* residual: NULL unless the epilogue declared one. */
ferrocnn_status ferrocnn_conv2d_run(const ferrocnn_conv2d *plan, const float *input, size_t input_len,
                                    const float *residual, size_t residual_len, float *output, size_t output_len,
                                    float *scratch, size_t scratch_len);
void ferrocnn_conv2d_destroy(ferrocnn_conv2d *plan);

/* ---- Pooling ---- */

typedef struct ferrocnn_pool2d_desc {
    ferrocnn_pool_kind kind;
    int32_t ceil_mode;
    int32_t count_include_pad;
    size_t batch;
    size_t channels;
    size_t in_h;
    size_t in_w;
    size_t kernel_h;
    size_t kernel_w;
    size_t stride_h;
    size_t stride_w;
    size_t pad_top;
    size_t pad_bottom;
    size_t pad_left;
    size_t pad_right;
    size_t dilation_h;
    size_t dilation_w;
} ferrocnn_pool2d_desc;

typedef struct ferrocnn_pool2d ferrocnn_pool2d;

ferrocnn_status ferrocnn_pool2d_create(const ferrocnn_pool2d_desc *desc, ferrocnn_pool2d **plan);
ferrocnn_status ferrocnn_pool2d_scratch_len(const ferrocnn_pool2d *plan, size_t *floats);
ferrocnn_status ferrocnn_pool2d_output_len(const ferrocnn_pool2d *plan, size_t *floats);
ferrocnn_status ferrocnn_pool2d_run(const ferrocnn_pool2d *plan, const float *input, size_t input_len,
                                    float *output, size_t output_len, float *scratch, size_t scratch_len);
void ferrocnn_pool2d_destroy(ferrocnn_pool2d *plan);

/* ---- Linear: output = activation(input W^T + bias), W out_features x in_features ---- */

typedef struct ferrocnn_linear ferrocnn_linear;

ferrocnn_status ferrocnn_linear_create(size_t in_features, size_t out_features, const float *weights,
                                       size_t weights_len, const float *bias, size_t bias_len,
                                       ferrocnn_activation activation_kind, float leaky_relu_slope,
                                       ferrocnn_linear **plan);
ferrocnn_status ferrocnn_linear_scratch_len(const ferrocnn_linear *plan, size_t batch, size_t *floats);
ferrocnn_status ferrocnn_linear_run(const ferrocnn_linear *plan, size_t batch, const float *input, size_t input_len,
                                    float *output, size_t output_len, float *scratch, size_t scratch_len);
void ferrocnn_linear_destroy(ferrocnn_linear *plan);

/* ---- Batch-norm, standalone and in place; gamma, beta, mean, var: channels floats ---- */

typedef struct ferrocnn_batch_norm ferrocnn_batch_norm;

ferrocnn_status ferrocnn_batch_norm_create(size_t batch, size_t channels, size_t hw, const float *gamma,
                                           const float *beta, const float *mean, const float *var, float eps,
                                           ferrocnn_activation activation_kind, float leaky_relu_slope,
                                           ferrocnn_batch_norm **plan);
ferrocnn_status ferrocnn_batch_norm_run(const ferrocnn_batch_norm *plan, float *data, size_t len);
void ferrocnn_batch_norm_destroy(ferrocnn_batch_norm *plan);

#ifdef __cplusplus
}
#endif

#endif /* FERROCNN_H */
