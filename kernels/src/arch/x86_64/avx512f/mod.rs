//! AVX-512F: 16 lanes, 32 vector registers, masked loads and stores for tails.

pub(crate) mod depthwise;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod pool;
mod simd;

pub(crate) use simd::Avx512;
