use ferrocnn_models::network;

#[network(input = [3, 5, 5])]
pub struct Net {
    conv1: conv!(16, 3),
    conv2: conv!(16, 7, padding = 1),
}

fn main() {}
