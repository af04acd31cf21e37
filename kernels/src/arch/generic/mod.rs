//! The portable path, on `wide`: SSE2 on a plain x86-64 build, NEON on aarch64, simd128 on
//! wasm, and whatever `-C target-cpu` enables at compile time.

pub(crate) mod gemm;
pub(crate) mod shells;
mod simd;

pub(crate) use simd::Portable;
