use ferrocnn_models::network;

#[network]
mod nets {
    #[block(channels)]
    #[excite]
    struct SqueezeExcite {
        pool: global_avg_pool!(),
        fc1: conv!(channels / 4, 1),
        relu: relu!(),
        fc2: conv!(channels, 1),
        gate: sigmoid!(),
    }

    #[model(input = [64, 8, 8])]
    pub struct Net {
        se: SqueezeExcite!(32),
    }
}

fn main() {}
