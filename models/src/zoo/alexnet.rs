//! AlexNet as in torchvision, and the 10-class variant of the PyTorch tutorial at 256x256.

pub use definitions::*;

#[crate::network]
mod definitions {
    #[block]
    struct Features(
        conv!(64, 11, stride = 4, padding = 2),
        relu!(),
        max_pool!(3, stride = 2),
        conv!(192, 5, padding = 2),
        relu!(),
        max_pool!(3, stride = 2),
        conv!(384, 3, padding = 1),
        relu!(),
        conv!(256, 3, padding = 1),
        relu!(),
        conv!(256, 3, padding = 1),
        relu!(),
        max_pool!(3, stride = 2),
    );

    #[block(classes)]
    struct Classifier(
        dropout!(),
        linear!(4096, in_features = 9216),
        relu!(),
        dropout!(),
        linear!(4096),
        relu!(),
        linear!(classes),
    );

    #[model(input = [3, 224, 224])]
    pub struct AlexNet {
        features: Features!(),
        avgpool: adaptive_avg_pool!(6),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    /// 3x256x256 in: 64x63x63, 192x31x31, 384/256/256x15x15, 256x7x7, adaptive 6x6.
    #[model(input = [3, 256, 256])]
    pub struct AlexNet10 {
        features: Features!(),
        avgpool: adaptive_avg_pool!(6),
        flatten: flatten!(),
        classifier: Classifier!(10),
    }
}
