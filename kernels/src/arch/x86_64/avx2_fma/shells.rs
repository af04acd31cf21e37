//! This path's kernel shells (see `arch/shells.rs`). Peak loop: 12 chains (16 registers, as the GEMM tiles use).

crate::arch::shells::kernel_shells!([#[target_feature(enable = "avx2,fma")]] super::Avx2Fma, fma_chains = 12);
