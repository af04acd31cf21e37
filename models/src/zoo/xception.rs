//! Xception (Chollet, 2017) as in Keras applications, at its 3x299x299 input.
//!
//! Keras layer `blockN_name` is field `blockN.name` here, in PyTorch's tensor layout:
//!
//! | Keras weight | here | layout change |
//! |---|---|---|
//! | `blockN_convM/kernel` (H, W, C, K) | `blockN.convM.weight` | to (K, C, H, W) |
//! | `blockN_sepconvM/depthwise_kernel` (H, W, C, 1) | `blockN.sepconvM.depthwise.weight` | to (C, 1, H, W) |
//! | `blockN_sepconvM/pointwise_kernel` (1, 1, C, K) | `blockN.sepconvM.pointwise.weight` | to (K, C, 1, 1) |
//! | `blockN_..._bn/gamma, beta, moving_mean, moving_variance` | `blockN.…_bn.weight, bias, running_mean, running_var` | none |
//! | the unnamed shortcut `conv2d_i/kernel` and `batch_normalization_i/…` of blocks 2, 3, 4, 13 (i = 0..3 in that order) | `blockN.residual.0.weight`, `blockN.residual.1.…` | as above |
//! | `predictions/kernel` (C, K), `predictions/bias` | `predictions.weight` (K, C), `predictions.bias` | transposed |
//!
//! Keras counts 22,910,480 parameters with the 54,528 batch-norm moving statistics; here,
//! as in PyTorch, those are buffers, so 22,855,952. Batch-norm epsilon is Keras's 1e-3;
//! `same` padding is TensorFlow's (the odd pixel after), which at 299x299 makes block 3's
//! pooling pad the bottom and right only. The output is logits, like every model in the zoo
//! (Keras's `classifier_activation=None`); its default softmax is the caller's to apply.

pub use definitions::*;

#[crate::network]
mod definitions {
    /// Keras's SeparableConv2D without bias: depthwise 3x3, then pointwise 1x1.
    #[block(out)]
    struct SeparableConv {
        depthwise: depthwise!(3, padding = same, bias = false),
        pointwise: conv!(out, 1, bias = false),
    }

    #[block]
    struct EntryStem {
        conv1: conv!(32, 3, stride = 2, bias = false),
        conv1_bn: batch_norm!(eps = 0.001),
        conv1_act: relu!(),
        conv2: conv!(64, 3, bias = false),
        conv2_bn: batch_norm!(eps = 0.001),
        conv2_act: relu!(),
    }

    /// Blocks 2-4 and 13: two separable convolutions and a strided max-pool, beside a
    /// strided 1x1 projection. Block 2 follows a ReLU already, so it has no leading one.
    #[block(mid, out, leading_relu = true)]
    #[residual]
    struct DownBlock {
        sepconv1_act: seq![relu!() if leading_relu],
        sepconv1: SeparableConv!(mid),
        sepconv1_bn: batch_norm!(eps = 0.001),
        sepconv2_act: relu!(),
        sepconv2: SeparableConv!(out),
        sepconv2_bn: batch_norm!(eps = 0.001),
        pool: max_pool!(3, stride = 2, padding = same),
        #[shortcut]
        residual: seq![conv!(out, 1, stride = 2, bias = false), batch_norm!(eps = 0.001)],
    }

    /// Blocks 5-12: three ReLU-separable-BN steps around an identity shortcut.
    #[block]
    #[residual]
    struct MiddleBlock {
        sepconv1_act: relu!(),
        sepconv1: SeparableConv!(728),
        sepconv1_bn: batch_norm!(eps = 0.001),
        sepconv2_act: relu!(),
        sepconv2: SeparableConv!(728),
        sepconv2_bn: batch_norm!(eps = 0.001),
        sepconv3_act: relu!(),
        sepconv3: SeparableConv!(728),
        sepconv3_bn: batch_norm!(eps = 0.001),
    }

    #[block]
    struct ExitConvs {
        sepconv1: SeparableConv!(1536),
        sepconv1_bn: batch_norm!(eps = 0.001),
        sepconv1_act: relu!(),
        sepconv2: SeparableConv!(2048),
        sepconv2_bn: batch_norm!(eps = 0.001),
        sepconv2_act: relu!(),
    }

    #[model(input = [3, 299, 299])]
    pub struct Xception {
        block1: EntryStem!(),
        block2: DownBlock!(128, 128, leading_relu = false),
        block3: DownBlock!(256, 256),
        block4: DownBlock!(728, 728),
        block5: MiddleBlock!(),
        block6: MiddleBlock!(),
        block7: MiddleBlock!(),
        block8: MiddleBlock!(),
        block9: MiddleBlock!(),
        block10: MiddleBlock!(),
        block11: MiddleBlock!(),
        block12: MiddleBlock!(),
        block13: DownBlock!(728, 1024),
        block14: ExitConvs!(),
        avg_pool: global_avg_pool!(),
        flatten: flatten!(),
        predictions: linear!(1000),
    }
}
