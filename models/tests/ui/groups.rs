use ferrocnn_models::network;

#[network(input = [30, 32, 32])]
pub struct Net {
    conv1: conv!(64, 3, groups = 4),
}

fn main() {}
