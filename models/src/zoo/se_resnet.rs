//! SE-ResNet-50 (Hu et al., "Squeeze-and-Excitation Networks", 2018) as timm's
//! `seresnet50`: torchvision's ResNet-50 (v1.5, stride in the 3x3) with a squeeze-excite
//! after each bottleneck's last batch-norm, before the shortcut is added; reduction 16,
//! the excite convolutions with bias. Weight names are timm's (`layer1.0.se.fc1.weight`).

pub use definitions::*;

#[crate::network]
mod definitions {
    #[block(channels)]
    #[excite]
    struct SqueezeExcite {
        pool: global_avg_pool!(),
        fc1: conv!(channels / 16, 1),
        act: relu!(),
        fc2: conv!(channels, 1),
        gate: sigmoid!(),
    }

    #[block(planes, stride = 1)]
    #[residual(activation = relu)]
    struct SeBottleneck {
        conv1: conv!(planes, 1, bias = false),
        bn1: batch_norm!(),
        act1: relu!(),
        conv2: conv!(planes, 3, stride = stride, padding = 1, bias = false),
        bn2: batch_norm!(),
        act2: relu!(),
        conv3: conv!(planes * 4, 1, bias = false),
        bn3: batch_norm!(),
        se: SqueezeExcite!(planes * 4),
        #[shortcut(when = stride != 1 || in_channels != planes * 4)]
        downsample: seq![conv!(planes * 4, 1, stride = stride, bias = false), batch_norm!()],
    }

    #[model(input = [3, 224, 224])]
    pub struct SeResNet50 {
        conv1: conv!(64, 7, stride = 2, padding = 3, bias = false),
        bn1: batch_norm!(),
        act1: relu!(),
        maxpool: max_pool!(3, stride = 2, padding = 1),
        layer1: seq![repeat!(3, SeBottleneck!(64))],
        layer2: seq![SeBottleneck!(128, 2), repeat!(3, SeBottleneck!(128))],
        layer3: seq![SeBottleneck!(256, 2), repeat!(5, SeBottleneck!(256))],
        layer4: seq![SeBottleneck!(512, 2), repeat!(2, SeBottleneck!(512))],
        global_pool: global_avg_pool!(),
        flatten: flatten!(),
        fc: linear!(1000),
    }
}
