//! AVX-512F: 16 lanes, 32 vector registers, masked loads and stores for tails.

pub(crate) mod gemm;
pub(crate) mod shells;
mod simd;

pub(crate) use simd::Avx512;
