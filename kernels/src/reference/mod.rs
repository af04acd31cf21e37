//! Naive, obviously-correct implementations: the oracle every fast path is tested against.
//!
//! Written for clarity, not speed: plain loops in the order of the definition, dot products
//! accumulated in f64 so the oracle's own rounding is negligible next to the kernels'.
//! They validate their input like the fast paths and return the same errors.

mod activation;
mod compare;
mod conv;
mod elementwise;
mod linear;
mod norm;
mod pool;

pub use activation::{activation, softmax};
pub use compare::max_relative_error;
pub use conv::{conv2d, conv2d_into, conv2d_magnitude};
pub use elementwise::{add, apply_epilogue, apply_epilogue_with, concat_channels};
pub use linear::linear;
pub use norm::{batch_norm, lrn};
pub use pool::{adaptive_avg_pool2d, global_pool2d, pool2d};
