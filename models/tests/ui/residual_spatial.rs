use ferrocnn_models::network;

#[network]
mod nets {
    #[block(planes, stride = 1)]
    #[residual]
    struct Basic {
        conv1: conv!(planes, 3, stride = stride, padding = 1),
        conv2: conv!(planes, 3, padding = 1),
    }

    #[model(input = [64, 56, 56])]
    pub struct Net {
        layer2: seq![Basic!(64, stride = 2)],
    }
}

fn main() {}
