//! Descriptors: what an operator computes, validated once, with every derived size checked.

mod conv2d;
mod padding;
mod pool2d;

pub use conv2d::{Conv2dDesc, Conv2dShape};
pub use padding::Padding2d;
pub use pool2d::{Pool2dDesc, Pool2dShape, PoolKind};

/// Largest element count any one tensor may have: 2^40 floats (4 TiB). Larger requests are
/// certainly mistakes, and refusing them early keeps every index computation far from overflow.
pub const MAX_ELEMENTS: usize = 1 << 40;
