//! Layer operators besides convolution: pooling, elementwise layers, softmax, and folding
//! batch-norm into a convolution.

pub(crate) mod batch_norm;
pub(crate) mod elementwise;
pub(crate) mod linear;
pub(crate) mod lrn;
pub(crate) mod pool;

pub use batch_norm::{BatchNorm, BatchNorm2d, fold_batch_norm};
pub use elementwise::{Activate, Add, ChannelScale, Softmax};
pub use linear::Linear;
pub use lrn::Lrn;
pub use pool::{AdaptiveAvgPool2d, GlobalPool2d, Pool2d};
