use ferrocnn_models::network;

// Three independent mistakes: all three are reported, not just the first.
#[network(input = [3, 32, 32])]
pub struct Net {
    conv1: conv!(16, 3, groups = 5),
    conv2: conv!(16, 3, in_channels = 8),
    pool: global_avg_pool!(),
    flatten: flatten!(),
    fc: linear!(10, in_features = 17),
}

fn main() {}
