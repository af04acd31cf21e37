use ferrocnn_models::network;

#[network(input = [3, 32, 32])]
pub struct Net {
    conv1: conv!(16, 3, in_channels = 1),
}

fn main() {}
