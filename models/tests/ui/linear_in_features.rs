use ferrocnn_models::network;

#[network(input = [16, 4, 4])]
pub struct Net {
    flatten: flatten!(),
    fc1: linear!(32, in_features = 512),
}

fn main() {}
