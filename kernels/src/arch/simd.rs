//! The vector operations the generic kernels are written in.
//!
//! Implementations are zero-sized markers whose methods are `#[inline(always)]` wrappers
//! around one ISA's intrinsics. A generic kernel body is `#[inline(always)]` too and is
//! instantiated inside a `#[target_feature]` function (the "shell"), so everything inlines into
//! code compiled for that ISA — `#[inline(always)]` cannot sit on the shell itself.

/// One ISA's f32 vector.
///
/// # Safety
/// Every method requires the implementing ISA to be available on the running CPU (the
/// dispatcher guarantees it by only calling shells of detected ISAs); pointer arguments must
/// be valid for the lanes read or written.
pub(crate) unsafe trait Simd: Copy + 'static {
    const LANES: usize;
    type V: Copy;

    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: f32) -> Self::V;
    /// Unaligned load of `LANES` floats.
    unsafe fn load(p: *const f32) -> Self::V;
    /// Unaligned store of `LANES` floats.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// Loads the first `n < LANES` floats; the other lanes are zero. Reads only `n` floats.
    unsafe fn load_partial(p: *const f32, n: usize) -> Self::V;
    /// Stores the first `n < LANES` lanes. Writes only `n` floats.
    unsafe fn store_partial(p: *mut f32, n: usize, v: Self::V);
    /// a * b + c, fused where the ISA has it.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn min(a: Self::V, b: Self::V) -> Self::V;
    /// Lanewise `if x >= 0 { x } else { x * slope }`.
    unsafe fn leaky(x: Self::V, slope: Self::V) -> Self::V;
}
