//! AVX2 + FMA: 8 lanes, 16 vector registers.

pub(crate) mod gemm;
pub(crate) mod shells;
mod simd;

pub(crate) use simd::Avx2Fma;
