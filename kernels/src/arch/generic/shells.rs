//! This path's kernel shells (see `arch/shells.rs`). Peak loop: 6 chains (16 SSE registers, two per f32x8).

crate::arch::shells::kernel_shells!([] super::Portable, fma_chains = 6);
