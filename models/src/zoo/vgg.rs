//! VGG-11/13/16/19 and VGG-16-BN as in torchvision: `features.N`, `classifier.N`.

pub use definitions::*;

#[crate::network]
mod definitions {
    /// Five stages of `n` 3x3 convs (64, 128, 256, 512, 512 channels), each closed by a 2x2
    /// max pool; with `bn`, a batch-norm after every conv.
    #[block(n1, n2, n3, n4, n5, bn = false)]
    struct Features(
        repeat!(n1, conv!(64, 3, padding = 1), batch_norm!() if bn, relu!()),
        max_pool!(2),
        repeat!(n2, conv!(128, 3, padding = 1), batch_norm!() if bn, relu!()),
        max_pool!(2),
        repeat!(n3, conv!(256, 3, padding = 1), batch_norm!() if bn, relu!()),
        max_pool!(2),
        repeat!(n4, conv!(512, 3, padding = 1), batch_norm!() if bn, relu!()),
        max_pool!(2),
        repeat!(n5, conv!(512, 3, padding = 1), batch_norm!() if bn, relu!()),
        max_pool!(2),
    );

    #[block(classes)]
    struct Classifier(linear!(4096), relu!(), dropout!(), linear!(4096), relu!(), dropout!(), linear!(classes));

    #[model(input = [3, 224, 224])]
    pub struct Vgg11 {
        features: Features!(1, 1, 2, 2, 2),
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg13 {
        features: Features!(2, 2, 2, 2, 2),
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg16 {
        features: Features!(2, 2, 3, 3, 3),
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg19 {
        features: Features!(2, 2, 4, 4, 4),
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg16Bn {
        features: Features!(2, 2, 3, 3, 3, bn = true),
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_torchvisions() {
        let names = |g: crate::nn::Graph| g.param_specs().into_iter().map(|p| p.name).collect::<Vec<_>>();
        let plain = names(super::Vgg16::GRAPH);
        // features: conv, relu pairs and pools; the last conv is features.28.
        assert!(plain.contains(&"features.28.weight".into()) && plain.contains(&"classifier.6.bias".into()));
        let bn = names(super::Vgg16Bn::GRAPH);
        assert!(bn.contains(&"features.1.running_var".into()) && bn.contains(&"features.41.weight".into()));
    }
}
