//! The model zoo, declared with `#[network]`: one file per family, torchvision's weight
//! names where torchvision has the model.

pub mod alexnet;
pub mod googlenet;
pub mod mobilenet;
pub mod resnet;
pub mod se_resnet;
pub mod tutorials;
pub mod vgg;
pub mod xception;

use crate::nn::Graph;

/// Every model by its command-line name, with its reference parameter count (DESIGN.md).
pub const MODELS: &[(&str, Graph, u64)] = &[
    ("lenet5", tutorials::LeNet5::GRAPH, 61_706),
    ("mnist-cnn", tutorials::MnistCnn::GRAPH, 119_530),
    ("cifar-cnn", tutorials::CifarCnn::GRAPH, 94_698),
    ("small-resnet", tutorials::SmallResNet::GRAPH, 224_010),
    ("alexnet", alexnet::AlexNet::GRAPH, 61_100_840),
    ("alexnet10", alexnet::AlexNet10::GRAPH, 57_044_810),
    ("vgg11", vgg::Vgg11::GRAPH, 132_863_336),
    ("vgg13", vgg::Vgg13::GRAPH, 133_047_848),
    ("vgg16", vgg::Vgg16::GRAPH, 138_357_544),
    ("vgg19", vgg::Vgg19::GRAPH, 143_667_240),
    ("vgg16-bn", vgg::Vgg16Bn::GRAPH, 138_365_992),
    ("resnet18", resnet::ResNet18::GRAPH, 11_689_512),
    ("resnet34", resnet::ResNet34::GRAPH, 21_797_672),
    ("resnet50", resnet::ResNet50::GRAPH, 25_557_032),
    ("resnet101", resnet::ResNet101::GRAPH, 44_549_160),
    ("resnet152", resnet::ResNet152::GRAPH, 60_192_808),
    ("googlenet", googlenet::GoogLeNet::GRAPH, 6_624_904),
    ("mobilenet-v2", mobilenet::MobileNetV2::GRAPH, 3_504_872),
    ("xception", xception::Xception::GRAPH, 22_855_952),
    ("se-resnet50", se_resnet::SeResNet50::GRAPH, 28_088_024),
];

/// The graph of model `name`.
pub fn graph(name: &str) -> Option<Graph> {
    MODELS.iter().find(|(n, ..)| *n == name).map(|(_, g, _)| *g)
}

#[cfg(test)]
mod tests {
    use super::MODELS;

    #[test]
    fn parameter_counts_match_the_references() {
        for (name, graph, reference) in MODELS {
            assert_eq!(graph.params(), *reference, "{name}");
            // The const count and the named tensors the loader expects are two derivations
            // of one graph: they must agree.
            let named: usize =
                graph.param_specs().iter().filter(|p| p.trainable).map(|p| p.dims.iter().product::<usize>()).sum();
            assert_eq!(named as u64, *reference, "{name}: named tensors");
        }
    }

    #[test]
    fn names_are_torchvisions() {
        let has = |g: crate::nn::Graph, name: &str| g.param_specs().iter().any(|p| p.name == name);
        for name in
            ["conv1.weight", "bn1.bias", "layer1.0.downsample.1.running_var", "layer4.2.conv3.weight", "fc.bias"]
        {
            assert!(has(super::resnet::ResNet50::GRAPH, name), "resnet50 {name}");
        }
        assert!(!has(super::resnet::ResNet18::GRAPH, "layer1.0.downsample.0.weight"));
        for name in ["features.0.0.weight", "features.1.conv.0.0.weight", "features.1.conv.2.running_mean"] {
            assert!(has(super::mobilenet::MobileNetV2::GRAPH, name), "mobilenet {name}");
        }
        for name in ["features.2.conv.3.weight", "features.18.1.weight", "classifier.1.weight"] {
            assert!(has(super::mobilenet::MobileNetV2::GRAPH, name), "mobilenet {name}");
        }
        for name in ["features.10.weight", "classifier.1.weight", "classifier.6.bias"] {
            assert!(has(super::alexnet::AlexNet::GRAPH, name), "alexnet {name}");
        }
        for name in ["conv1.conv.weight", "conv3.bn.running_var", "inception4e.branch4.1.conv.weight", "fc.bias"] {
            assert!(has(super::googlenet::GoogLeNet::GRAPH, name), "googlenet {name}");
        }
        for name in ["layer1.0.se.fc1.weight", "layer4.2.se.fc2.bias", "layer2.0.downsample.1.running_mean"] {
            assert!(has(super::se_resnet::SeResNet50::GRAPH, name), "se-resnet50 {name}");
        }
        let xception = [
            "block1.conv1.weight",
            "block2.sepconv1.depthwise.weight",
            "block13.residual.1.running_var",
            "block5.sepconv3_bn.bias",
            "block14.sepconv2.pointwise.weight",
            "predictions.weight",
        ];
        for name in xception {
            assert!(has(super::xception::Xception::GRAPH, name), "xception {name}");
        }
    }
}
