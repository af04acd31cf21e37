//! The small networks the project started from: LeNet-5 and the tutorials' MNIST, CIFAR and
//! small-ResNet models (DESIGN.md's table, with their reference parameter counts).

pub use definitions::*;

#[crate::network]
mod definitions {
    /// LeCun et al. 1998, with ReLU and average pooling.
    #[model(input = [1, 32, 32])]
    pub struct LeNet5 {
        conv1: conv!(6, 5),
        relu1: relu!(),
        pool1: avg_pool!(2),
        conv2: conv!(16, 5),
        relu2: relu!(),
        pool2: avg_pool!(2),
        flatten: flatten!(),
        fc1: linear!(120),
        relu3: relu!(),
        fc2: linear!(84),
        relu4: relu!(),
        fc3: linear!(10),
    }

    /// The PyTorch tutorial's MNIST CNN.
    #[model(input = [1, 28, 28])]
    pub struct MnistCnn {
        conv1: conv!(32, 3, padding = same),
        relu1: relu!(),
        pool1: max_pool!(2),
        conv2: conv!(64, 3, padding = same),
        relu2: relu!(),
        pool2: max_pool!(2),
        flatten: flatten!(),
        fc1: linear!(32),
        relu3: relu!(),
        fc2: linear!(10),
    }

    /// The Keras tutorial's CIFAR-10 CNN.
    #[model(input = [3, 32, 32])]
    pub struct CifarCnn {
        conv1: seq![conv!(16, 3, padding = same), relu!()],
        conv2: seq![conv!(32, 3, padding = same), relu!()],
        pool1: max_pool!(2),
        conv3: seq![conv!(64, 3, stride = 2, padding = same), relu!()],
        conv4: seq![conv!(64, 3, stride = 2, padding = same), relu!()],
        pool2: max_pool!(2),
        flatten: flatten!(),
        dense1: seq![linear!(128), relu!()],
        dense2: linear!(10),
    }

    #[block]
    #[residual(activation = relu)]
    struct Residual {
        conv1: conv!(64, 3, padding = same),
        relu: relu!(),
        conv2: conv!(64, 3, padding = same),
    }

    /// The Keras tutorial's small ResNet.
    #[model(input = [3, 32, 32])]
    pub struct SmallResNet {
        conv: seq![conv!(64, 3, padding = same), relu!()],
        pool: max_pool!(2),
        blocks: seq![repeat!(3, Residual!())],
        gap: global_avg_pool!(),
        flatten: flatten!(),
        dense: linear!(10),
    }
}
