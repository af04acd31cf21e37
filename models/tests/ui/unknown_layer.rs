use ferrocnn_models::network;

#[network(input = [3, 32, 32])]
pub struct Net {
    conv1: convolution!(16, 3),
}

fn main() {}
