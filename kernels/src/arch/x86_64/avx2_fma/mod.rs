//! AVX2 + FMA: 8 lanes, 16 vector registers.

pub(crate) mod depthwise;
pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod pool;
mod simd;

pub(crate) use simd::Avx2Fma;
