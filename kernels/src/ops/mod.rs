//! Layer operators besides convolution. So far: folding batch-norm into a convolution.

mod batch_norm;

pub use batch_norm::{BatchNorm, fold_batch_norm};
