use ferrocnn_models::network;

#[network]
mod nets {
    #[block]
    #[concat]
    struct Mixed {
        branch1: conv!(16, 1),
        branch2: conv!(16, 3),
    }

    #[model(input = [8, 28, 28])]
    pub struct Net {
        inception: Mixed!(),
    }
}

fn main() {}
