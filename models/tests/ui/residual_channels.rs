use ferrocnn_models::network;

#[network]
mod nets {
    #[block(planes)]
    #[residual(activation = relu)]
    struct Basic {
        conv1: conv!(planes, 3, padding = 1),
        relu: relu!(),
        conv2: conv!(planes, 3, padding = 1),
    }

    #[model(input = [3, 16, 16])]
    pub struct Net {
        stem: conv!(16, 3, padding = 1),
        layer1: seq![Basic!(16), Basic!(32)],
    }
}

fn main() {}
