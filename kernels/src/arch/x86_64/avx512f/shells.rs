//! This path's kernel shells (see `arch/shells.rs`). Peak loop: 24 chains (32 registers: three times the 8 chains two pipes x 4-cycle latency need).

crate::arch::shells::kernel_shells!([#[target_feature(enable = "avx512f")]] super::Avx512, fma_chains = 24);
