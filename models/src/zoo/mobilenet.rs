//! MobileNetV2 as in torchvision: the inverted residuals of its table (t, c, n, s).

pub use definitions::*;

#[crate::network]
mod definitions {
    /// torchvision's Conv2dNormActivation: conv (same padding), BN, ReLU6.
    #[block(out, kernel, stride = 1, groups = 1)]
    struct ConvBnRelu6(
        conv!(out, kernel, stride = stride, padding = (kernel - 1) / 2, groups = groups, bias = false),
        batch_norm!(),
        relu6!(),
    );

    #[block(out, stride, expand)]
    #[residual(when = stride == 1 && in_channels == out)]
    struct InvertedResidual {
        conv: seq![
            ConvBnRelu6!(in_channels * expand, 1) if expand != 1,
            ConvBnRelu6!(in_channels * expand, 3, stride = stride, groups = in_channels * expand),
            conv!(out, 1, bias = false),
            batch_norm!(),
        ],
    }

    #[model(input = [3, 224, 224])]
    pub struct MobileNetV2 {
        features: seq![
            ConvBnRelu6!(32, 3, stride = 2),
            InvertedResidual!(16, 1, 1),
            InvertedResidual!(24, 2, 6),
            InvertedResidual!(24, 1, 6),
            InvertedResidual!(32, 2, 6),
            repeat!(2, InvertedResidual!(32, 1, 6)),
            InvertedResidual!(64, 2, 6),
            repeat!(3, InvertedResidual!(64, 1, 6)),
            repeat!(3, InvertedResidual!(96, 1, 6)),
            InvertedResidual!(160, 2, 6),
            repeat!(2, InvertedResidual!(160, 1, 6)),
            InvertedResidual!(320, 1, 6),
            ConvBnRelu6!(1280, 1),
        ],
        pool: global_avg_pool!(),
        flatten: flatten!(),
        classifier: seq![dropout!(p = 0.2), linear!(1000)],
    }
}
