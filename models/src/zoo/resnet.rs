//! ResNet-18/34/50/101/152 as in torchvision (v1.5: the bottleneck strides in its 3x3),
//! with torchvision's state-dict names.

pub use definitions::*;

#[crate::network]
mod definitions {
    #[block(planes, stride = 1)]
    #[residual(activation = relu)]
    struct BasicBlock {
        conv1: conv!(planes, 3, stride = stride, padding = 1, bias = false),
        bn1: batch_norm!(),
        relu: relu!(),
        conv2: conv!(planes, 3, padding = 1, bias = false),
        bn2: batch_norm!(),
        #[shortcut(when = stride != 1 || in_channels != planes)]
        downsample: seq![conv!(planes, 1, stride = stride, bias = false), batch_norm!()],
    }

    #[block(planes, stride = 1)]
    #[residual(activation = relu)]
    struct Bottleneck {
        conv1: conv!(planes, 1, bias = false),
        bn1: batch_norm!(),
        relu1: relu!(),
        conv2: conv!(planes, 3, stride = stride, padding = 1, bias = false),
        bn2: batch_norm!(),
        relu2: relu!(),
        conv3: conv!(planes * 4, 1, bias = false),
        bn3: batch_norm!(),
        #[shortcut(when = stride != 1 || in_channels != planes * 4)]
        downsample: seq![conv!(planes * 4, 1, stride = stride, bias = false), batch_norm!()],
    }

    /// conv1, bn1, relu, maxpool: named at the top level, as in torchvision.
    #[block]
    struct Stem {
        conv1: conv!(64, 7, stride = 2, padding = 3, bias = false),
        bn1: batch_norm!(),
        relu: relu!(),
        maxpool: max_pool!(3, stride = 2, padding = 1),
    }

    #[block(classes)]
    struct Head {
        avgpool: global_avg_pool!(),
        flatten: flatten!(),
        fc: linear!(classes),
    }

    #[model(input = [3, 224, 224])]
    pub struct ResNet18 {
        #[name = ""]
        stem: Stem!(),
        layer1: seq![repeat!(2, BasicBlock!(64))],
        layer2: seq![BasicBlock!(128, 2), BasicBlock!(128)],
        layer3: seq![BasicBlock!(256, 2), BasicBlock!(256)],
        layer4: seq![BasicBlock!(512, 2), BasicBlock!(512)],
        #[name = ""]
        head: Head!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct ResNet34 {
        #[name = ""]
        stem: Stem!(),
        layer1: seq![repeat!(3, BasicBlock!(64))],
        layer2: seq![BasicBlock!(128, 2), repeat!(3, BasicBlock!(128))],
        layer3: seq![BasicBlock!(256, 2), repeat!(5, BasicBlock!(256))],
        layer4: seq![BasicBlock!(512, 2), repeat!(2, BasicBlock!(512))],
        #[name = ""]
        head: Head!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct ResNet50 {
        #[name = ""]
        stem: Stem!(),
        layer1: seq![repeat!(3, Bottleneck!(64))],
        layer2: seq![Bottleneck!(128, 2), repeat!(3, Bottleneck!(128))],
        layer3: seq![Bottleneck!(256, 2), repeat!(5, Bottleneck!(256))],
        layer4: seq![Bottleneck!(512, 2), repeat!(2, Bottleneck!(512))],
        #[name = ""]
        head: Head!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct ResNet101 {
        #[name = ""]
        stem: Stem!(),
        layer1: seq![repeat!(3, Bottleneck!(64))],
        layer2: seq![Bottleneck!(128, 2), repeat!(3, Bottleneck!(128))],
        layer3: seq![Bottleneck!(256, 2), repeat!(22, Bottleneck!(256))],
        layer4: seq![Bottleneck!(512, 2), repeat!(2, Bottleneck!(512))],
        #[name = ""]
        head: Head!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct ResNet152 {
        #[name = ""]
        stem: Stem!(),
        layer1: seq![repeat!(3, Bottleneck!(64))],
        layer2: seq![Bottleneck!(128, 2), repeat!(7, Bottleneck!(128))],
        layer3: seq![Bottleneck!(256, 2), repeat!(35, Bottleneck!(256))],
        layer4: seq![Bottleneck!(512, 2), repeat!(2, Bottleneck!(512))],
        #[name = ""]
        head: Head!(1000),
    }
}
