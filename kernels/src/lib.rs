//! ferrocnn-kernels: hand-optimised SIMD kernels for CPU inference of convolutional networks.
//!
//! - [`mod@reference`]: naive, obviously-correct operators, the oracle of every test.
//! - [`gemm`]: packed, cache-blocked SGEMM with a fused epilogue.
//! - [`conv`]: convolution plans (im2col packed straight into GEMM panels, 1x1 as GEMM).
//! - [`dispatch`]: which instruction set runs (`FERROCNN_ISA=portable|avx2|avx512`).
//! - [`capi`]: the C ABI (`include/ferrocnn.h`), for linking the kernels into other engines.
//!
//! Tensors are f32, NCHW, contiguous; conv weights OIHW, as in PyTorch.

mod aligned;
mod arch;
pub mod capi;
pub mod conv;
pub mod dispatch;
mod epilogue;
mod error;
mod flat_plane;
pub mod gemm;
pub mod ops;
pub mod peak;
pub mod random;
pub mod reference;
mod shape;
mod shifted_plane;
mod tasks;
mod thread_pool;

pub use conv::{Algo, ChannelSlice, Conv2d, conv2d};
pub use dispatch::{Isa, PlanOptions};
pub use epilogue::{Activation, Epilogue};
pub use error::{Error, Result};
pub use gemm::{Gemm, sgemm};
pub use shape::{Conv2dDesc, Conv2dShape, MAX_ELEMENTS, Padding2d, Pool2dDesc, Pool2dShape, PoolKind};
pub use thread_pool::{thread_pool, with_workers_kept_busy};
