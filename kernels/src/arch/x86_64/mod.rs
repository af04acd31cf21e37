//! x86-64 paths: AVX-512F and AVX2+FMA, each in its own folder with the same file names.

pub(crate) mod avx2_fma;
pub(crate) mod avx512f;
