//! GoogLeNet (Inception v1) as in torchvision, without the auxiliary heads and with
//! `transform_input = False` (what `googlenet()` builds without pretrained weights; with
//! torchvision's ImageNet weights it rescales the input channels first, which a caller does
//! to its input instead). The 5x5 branch is torchvision's 3x3, as in its checkpoints.

pub use definitions::*;

#[crate::network]
mod definitions {
    /// torchvision's BasicConv2d: conv without bias, batch-norm (eps 1e-3), ReLU.
    #[block(out, kernel, stride = 1, padding = 0)]
    struct BasicConv2d {
        conv: conv!(out, kernel, stride = stride, padding = padding, bias = false),
        bn: batch_norm!(eps = 0.001),
        relu: relu!(),
    }

    #[block(ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)]
    #[concat]
    struct Inception {
        branch1: BasicConv2d!(ch1x1, 1),
        branch2: seq![BasicConv2d!(ch3x3red, 1), BasicConv2d!(ch3x3, 3, padding = 1)],
        branch3: seq![BasicConv2d!(ch5x5red, 1), BasicConv2d!(ch5x5, 3, padding = 1)],
        branch4: seq![max_pool!(3, stride = 1, padding = 1, ceil_mode = true), BasicConv2d!(pool_proj, 1)],
    }

    #[model(input = [3, 224, 224])]
    pub struct GoogLeNet {
        conv1: BasicConv2d!(64, 7, stride = 2, padding = 3),
        maxpool1: max_pool!(3, stride = 2, ceil_mode = true),
        conv2: BasicConv2d!(64, 1),
        conv3: BasicConv2d!(192, 3, padding = 1),
        maxpool2: max_pool!(3, stride = 2, ceil_mode = true),
        inception3a: Inception!(64, 96, 128, 16, 32, 32),
        inception3b: Inception!(128, 128, 192, 32, 96, 64),
        maxpool3: max_pool!(3, stride = 2, ceil_mode = true),
        inception4a: Inception!(192, 96, 208, 16, 48, 64),
        inception4b: Inception!(160, 112, 224, 24, 64, 64),
        inception4c: Inception!(128, 128, 256, 24, 64, 64),
        inception4d: Inception!(112, 144, 288, 32, 64, 64),
        inception4e: Inception!(256, 160, 320, 32, 128, 128),
        maxpool4: max_pool!(2, stride = 2, ceil_mode = true),
        inception5a: Inception!(256, 160, 320, 32, 128, 128),
        inception5b: Inception!(384, 192, 384, 48, 128, 128),
        avgpool: global_avg_pool!(),
        flatten: flatten!(),
        dropout: dropout!(p = 0.2),
        fc: linear!(1000),
    }
}
