//! AVX-512F: 16 lanes, 32 vector registers, masked loads and stores for tails.

pub(crate) mod gemm;
mod simd;

pub(crate) use simd::Avx512;
