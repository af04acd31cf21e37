/*
 * The C ABI from C: a 3x3 convolution with bias and ReLU on every algorithm, a max pool,
 * a linear layer and a batch-norm, each against results computed by hand; and the error a
 * wrong length gets. Exits 0 and prints "ok" when everything matches.
 *
 * cc -I kernels/include kernels/examples/c/conv.c target/release/libferrocnn_kernels.a \
 *    -lpthread -ldl -lm -o conv && ./conv
 */
#include "ferrocnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void expect_ok(ferrocnn_status status, const char *what) {
    if (status != FERROCNN_OK) {
        printf("%s: status %d: %s\n", what, (int)status, ferrocnn_last_error_message());
        failures++;
    }
}

/* Winograd rounds differently from a direct sum; 1e-3 is far below any wrong index. */
static void expect_close(const float *got, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) {
        if (fabsf(got[i] - want[i]) > 1e-3f) {
            printf("%s: [%zu] is %g, expected %g\n", what, i, got[i], want[i]);
            failures++;
            return;
        }
    }
}

static void conv_every_algorithm(void) {
    /* One 4x4 image holding 1..16; two 3x3 filters, padding 1: channel 0 sums the 3x3
     * neighbourhood then adds bias -50, channel 1 doubles the centre; ReLU after both. */
    float input[16], weights[18] = {0}, bias[2] = {-50.0f, 0.0f};
    for (int i = 0; i < 16; i++) input[i] = (float)(i + 1);
    for (int i = 0; i < 9; i++) weights[i] = 1.0f;
    weights[9 + 4] = 2.0f;
    const float want[32] = {
        0, 0, 0, 0, 0, 4, 13, 0, 7, 40, 49, 19, 0, 22, 28, 4,
        2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32,
    };
    ferrocnn_conv2d_desc desc = {
        .batch = 1, .in_channels = 1, .in_h = 4, .in_w = 4, .out_channels = 2,
        .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1,
        .pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1,
        .dilation_h = 1, .dilation_w = 1, .groups = 1,
    };
    ferrocnn_epilogue relu = {.activation = FERROCNN_ACTIVATION_RELU};
    const ferrocnn_algo algos[] = {
        FERROCNN_ALGO_AUTO, FERROCNN_ALGO_REFERENCE, FERROCNN_ALGO_IM2COL, FERROCNN_ALGO_WINOGRAD_F2,
        FERROCNN_ALGO_WINOGRAD_F4, FERROCNN_ALGO_WINOGRAD_F6, FERROCNN_ALGO_TUNE,
    };
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
        ferrocnn_conv2d *plan = NULL;
        expect_ok(ferrocnn_conv2d_create(&desc, weights, 18, bias, 2, &relu, algos[a], &plan), "conv2d_create");
        size_t scratch_len = 0, output_len = 0;
        expect_ok(ferrocnn_conv2d_scratch_len(plan, &scratch_len), "conv2d_scratch_len");
        expect_ok(ferrocnn_conv2d_output_len(plan, &output_len), "conv2d_output_len");
        if (output_len != 32) {
            printf("conv2d_output_len: %zu, expected 32\n", output_len);
            failures++;
        }
        float output[32];
        float *scratch = scratch_len ? malloc(scratch_len * sizeof(float)) : NULL;
        expect_ok(ferrocnn_conv2d_run(plan, input, 16, NULL, 0, output, 32, scratch, scratch_len), "conv2d_run");
        char what[64];
        snprintf(what, sizeof what, "conv2d algo %d", (int)algos[a]);
        expect_close(output, want, 32, what);
        free(scratch);
        ferrocnn_conv2d_destroy(plan);
    }
}

static void conv_refuses_a_wrong_length(void) {
    ferrocnn_conv2d_desc desc = {
        .batch = 1, .in_channels = 1, .in_h = 4, .in_w = 4, .out_channels = 2, .kernel_h = 3, .kernel_w = 3,
        .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .groups = 1,
    };
    float weights[17] = {0};
    ferrocnn_conv2d *plan = (ferrocnn_conv2d *)&desc; /* garbage the call must overwrite */
    ferrocnn_status status = ferrocnn_conv2d_create(&desc, weights, 17, NULL, 0, NULL, FERROCNN_ALGO_AUTO, &plan);
    const char *message = ferrocnn_last_error_message();
    if (status != FERROCNN_INVALID_ARGUMENT || plan != NULL || strstr(message, "`weights` has 17") == NULL) {
        printf("wrong weights length: status %d, plan %p, message \"%s\"\n", (int)status, (void *)plan, message);
        failures++;
    }
    if (ferrocnn_conv2d_run(NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0) != FERROCNN_INVALID_ARGUMENT) {
        printf("a NULL plan was not refused\n");
        failures++;
    }
    ferrocnn_conv2d_destroy(NULL);
}

static void max_pool(void) {
    float input[16], output[4];
    for (int i = 0; i < 16; i++) input[i] = (float)(i + 1);
    const float want[4] = {6, 8, 14, 16};
    ferrocnn_pool2d_desc desc = {
        .kind = FERROCNN_POOL_MAX, .count_include_pad = 1, .batch = 1, .channels = 1, .in_h = 4, .in_w = 4,
        .kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2, .dilation_h = 1, .dilation_w = 1,
    };
    ferrocnn_pool2d *plan = NULL;
    expect_ok(ferrocnn_pool2d_create(&desc, &plan), "pool2d_create");
    size_t scratch_len = 0;
    expect_ok(ferrocnn_pool2d_scratch_len(plan, &scratch_len), "pool2d_scratch_len");
    float *scratch = scratch_len ? malloc(scratch_len * sizeof(float)) : NULL;
    expect_ok(ferrocnn_pool2d_run(plan, input, 16, output, 4, scratch, scratch_len), "pool2d_run");
    expect_close(output, want, 4, "max pool 2x2");
    free(scratch);
    ferrocnn_pool2d_destroy(plan);
}

static void linear(void) {
    /* Two rows of 3 features into 2 outputs: W = [[1, 2, 3], [-1, 0, 1]], bias [0.5, -4]. */
    const float weights[6] = {1, 2, 3, -1, 0, 1}, bias[2] = {0.5f, -4.0f};
    const float input[6] = {1, 1, 1, 2, 0, 5};
    const float want[4] = {6.5f, 0.0f, 17.5f, 0.0f}; /* ReLU(-4) and ReLU(-1) are 0 */
    ferrocnn_linear *plan = NULL;
    expect_ok(ferrocnn_linear_create(3, 2, weights, 6, bias, 2, FERROCNN_ACTIVATION_RELU, 0.0f, &plan),
              "linear_create");
    size_t scratch_len = 0;
    expect_ok(ferrocnn_linear_scratch_len(plan, 2, &scratch_len), "linear_scratch_len");
    float *scratch = scratch_len ? malloc(scratch_len * sizeof(float)) : NULL;
    float output[4];
    expect_ok(ferrocnn_linear_run(plan, 2, input, 6, output, 4, scratch, scratch_len), "linear_run");
    expect_close(output, want, 4, "linear");
    free(scratch);
    ferrocnn_linear_destroy(plan);
}

static void batch_norm(void) {
    /* Two channels of two pixels: (x - mean) / sqrt(var) * gamma + beta, eps 0. */
    const float gamma[2] = {2, 1}, beta[2] = {1, 0}, mean[2] = {1, -1}, var[2] = {4, 1};
    float data[4] = {3, 5, 0, 1};
    const float want[4] = {3, 5, 1, 2};
    ferrocnn_batch_norm *plan = NULL;
    expect_ok(ferrocnn_batch_norm_create(1, 2, 2, gamma, beta, mean, var, 0.0f, FERROCNN_ACTIVATION_IDENTITY, 0.0f,
                                         &plan),
              "batch_norm_create");
    expect_ok(ferrocnn_batch_norm_run(plan, data, 4), "batch_norm_run");
    expect_close(data, want, 4, "batch_norm");
    ferrocnn_batch_norm_destroy(plan);
}

int main(void) {
    if (ferrocnn_abi_version() != FERROCNN_ABI_VERSION) {
        printf("header ABI %d, library ABI %u\n", FERROCNN_ABI_VERSION, ferrocnn_abi_version());
        return 1;
    }
    expect_ok(ferrocnn_set_num_threads(2), "set_num_threads");
    conv_every_algorithm();
    conv_refuses_a_wrong_length();
    max_pool();
    linear();
    batch_norm();
    if (failures) {
        printf("%d failures\n", failures);
        return 1;
    }
    printf("ok (%s, %zu threads)\n", ferrocnn_isa(), ferrocnn_num_threads());
    return 0;
}
