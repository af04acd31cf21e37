//! Descriptors: what an operator computes, validated once, with every derived size checked.

mod conv2d;
mod padding;
mod pool2d;
mod window;

pub use conv2d::{Conv2dDesc, Conv2dShape};
pub use padding::Padding2d;
pub use pool2d::{Pool2dDesc, Pool2dShape, PoolKind};
pub(crate) use window::Window2d;

/// Largest element count any one tensor may have: 2^40 floats (4 TiB). Larger requests are
/// certainly mistakes, and refusing them early keeps every index computation far from overflow.
pub const MAX_ELEMENTS: usize = 1 << 40;

/// `Err` naming the first field that is 0: sizes, strides and dilations all start at 1.
fn require_positive(op: &str, fields: &[(&str, usize)]) -> crate::Result<()> {
    match fields.iter().find(|(_, value)| *value == 0) {
        Some((field, _)) => crate::error::invalid!("{op}: `{field}` is 0, it must be at least 1"),
        None => Ok(()),
    }
}
