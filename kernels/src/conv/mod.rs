//! Convolution plans.
//!
//! Every algorithm but the reference one is a GEMM per (image, group): weights
//! `[K/g, C/g*R*S]` times the im2col matrix `[C/g*R*S, OH*OW]`. The im2col matrix is never
//! built: its panels are packed straight from the image as the GEMM needs them
//! ([`im2col::Im2colSource`]), and a 1x1 stride-1 unpadded convolution packs the image
//! itself, which already is that matrix.

mod algo;
pub(crate) mod im2col;
mod layout_choice;
mod plan;

pub use algo::Algo;
pub use plan::{Conv2d, conv2d};
