//! Instruction-set specific code. Kernels are written once, generic over [`simd::Simd`];
//! each folder here instantiates them inside `#[target_feature]` shells (`shells.rs` declares
//! them once for all paths), and [`crate::dispatch`] picks one set at run time.

pub(crate) mod generic;
mod shells;
pub(crate) mod simd;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_64;
