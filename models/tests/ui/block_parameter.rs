use ferrocnn_models::network;

#[network]
mod nets {
    #[block(planes, stride)]
    struct Basic {
        conv1: conv!(planes, 3, stride = stride, padding = 1),
    }

    #[model(input = [3, 32, 32])]
    pub struct Net {
        layer1: Basic!(16),
        layer2: Basic!(32, strides = 2),
    }
}

fn main() {}
