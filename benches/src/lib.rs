//! Layer shapes taken from real networks, shared by the criterion benches and the tools.

use ferrocnn_kernels::{Conv2dDesc, Padding2d};

/// A named convolution shape at batch 1.
pub struct ConvCase {
    pub name: &'static str,
    pub desc: Conv2dDesc,
}

fn conv(name: &'static str, c: usize, hw: usize, k: usize, kernel: usize, stride: usize, pad: usize) -> ConvCase {
    ConvCase {
        name,
        desc: Conv2dDesc::new(1, c, (hw, hw), k, (kernel, kernel)).stride(stride).padding(Padding2d::uniform(pad)),
    }
}

/// ResNet-18/50, VGG-16, MobileNetV2 and AlexNet layers: the 3x3 stride-1 bodies (every
/// VGG-16 stage), the 1x1 bottlenecks, the strided downsampling convs, the stem and
/// AlexNet's 5x5.
pub fn conv_cases() -> Vec<ConvCase> {
    vec![
        conv("resnet_stem_3x224_7x7s2", 3, 224, 64, 7, 2, 3),
        conv("resnet_3x3_64x56", 64, 56, 64, 3, 1, 1),
        conv("resnet_3x3_128x28", 128, 28, 128, 3, 1, 1),
        conv("resnet_3x3_256x14", 256, 14, 256, 3, 1, 1),
        conv("resnet_3x3_512x7", 512, 7, 512, 3, 1, 1),
        conv("resnet_3x3s2_128x56", 64, 56, 128, 3, 2, 1),
        conv("resnet50_1x1_256x56_to_64", 256, 56, 64, 1, 1, 0),
        conv("resnet50_1x1_64x56_to_256", 64, 56, 256, 1, 1, 0),
        conv("resnet50_1x1_1024x14_to_256", 1024, 14, 256, 1, 1, 0),
        conv("vgg16_conv1_1_3x224", 3, 224, 64, 3, 1, 1),
        conv("vgg16_conv1_2_64x224", 64, 224, 64, 3, 1, 1),
        conv("vgg16_conv2_2_128x112", 128, 112, 128, 3, 1, 1),
        conv("vgg16_conv3_2_256x56", 256, 56, 256, 3, 1, 1),
        conv("vgg16_conv4_2_512x28", 512, 28, 512, 3, 1, 1),
        conv("vgg16_conv5_2_512x14", 512, 14, 512, 3, 1, 1),
        conv("mobilenetv2_1x1_144x56_to_24", 144, 56, 24, 1, 1, 0),
        conv("mobilenetv2_1x1_96x14_to_576", 96, 14, 576, 1, 1, 0),
        conv("alexnet_5x5_64x27_to_192", 64, 27, 192, 5, 1, 2),
    ]
}

/// GEMM shapes: squares and the conv-shaped product of ResNet's 64x56x56 3x3 layer.
pub const GEMM_SHAPES: &[(usize, usize, usize)] =
    &[(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (64, 3136, 576)];

pub use ferrocnn_kernels::random::signed_uniform as data;

/// A pool of `threads` threads, each bound to its own CPU, to run a bench in.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    ferrocnn_kernels::thread_pool(threads).expect("thread pool")
}
