use ferrocnn_models::network;

#[network(input = [3, 8, 8])]
pub struct Net {
    conv1: conv!(16, 3),
    fc: linear!(10),
}

fn main() {}
