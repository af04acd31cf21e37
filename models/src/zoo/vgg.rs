//! VGG-11/13/16/19 and VGG-16-BN as in torchvision: `features.N`, `classifier.N`.

pub use definitions::*;

#[crate::network]
mod definitions {
    #[block(classes)]
    struct Classifier(linear!(4096), relu!(), dropout!(), linear!(4096), relu!(), dropout!(), linear!(classes));

    #[model(input = [3, 224, 224])]
    pub struct Vgg11 {
        features: seq![
            conv!(64, 3, padding = 1),
            relu!(),
            max_pool!(2),
            conv!(128, 3, padding = 1),
            relu!(),
            max_pool!(2),
            repeat!(2, conv!(256, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
        ],
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg13 {
        features: seq![
            repeat!(2, conv!(64, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(128, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(256, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
        ],
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg16 {
        features: seq![
            repeat!(2, conv!(64, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(128, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(3, conv!(256, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(3, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(3, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
        ],
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg19 {
        features: seq![
            repeat!(2, conv!(64, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(2, conv!(128, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(4, conv!(256, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(4, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
            repeat!(4, conv!(512, 3, padding = 1), relu!()),
            max_pool!(2),
        ],
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }

    #[model(input = [3, 224, 224])]
    pub struct Vgg16Bn {
        features: seq![
            repeat!(2, conv!(64, 3, padding = 1), batch_norm!(), relu!()),
            max_pool!(2),
            repeat!(2, conv!(128, 3, padding = 1), batch_norm!(), relu!()),
            max_pool!(2),
            repeat!(3, conv!(256, 3, padding = 1), batch_norm!(), relu!()),
            max_pool!(2),
            repeat!(3, conv!(512, 3, padding = 1), batch_norm!(), relu!()),
            max_pool!(2),
            repeat!(3, conv!(512, 3, padding = 1), batch_norm!(), relu!()),
            max_pool!(2),
        ],
        avgpool: adaptive_avg_pool!(7),
        flatten: flatten!(),
        classifier: Classifier!(1000),
    }
}
