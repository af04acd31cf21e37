//! Convolution plans.
//!
//! Every algorithm but the reference one is a GEMM per (image, group): weights
//! `[K/g, C/g*R*S]` times the im2col matrix `[C/g*R*S, OH*OW]`. The im2col matrix is never
//! built. Either its panels are packed as the GEMM needs them, from the image split into its
//! stride phases (`phases.rs`: every panel row a plain copy) or, for a 1x1 stride-1 unpadded
//! convolution, from the image itself, which already is that matrix; or the GEMM runs
//! transposed and reads the image in place (`plan.rs`, `Indirect`). `layout_choice` picks.

mod algo;
mod channel_lanes;
pub(crate) mod depthwise;
pub(crate) mod kernel_split;
mod layout_choice;
pub(crate) mod phases;
mod plan;
mod tune;
pub(crate) mod winograd;

pub use algo::Algo;
pub use plan::{ChannelSlice, Conv2d, conv2d};
