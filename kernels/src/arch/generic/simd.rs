use crate::arch::simd::Simd;
use wide::f32x8;

#[derive(Clone, Copy)]
pub(crate) struct Portable;

// SAFETY: `wide` picks its instructions at compile time from the target's baseline, so every
// method is valid on any CPU this binary runs on; pointer validity is the caller's contract.
unsafe impl Simd for Portable {
    const LANES: usize = 8;
    /// Masked operations are array shuffles here: the shifted-plane depthwise of the time
    /// (lane shifts and masked multiply-adds) ran 8x slower than the flattened plane
    /// (144x56x56: 2.03 against 0.248 ms).
    const MASKED_OPS: bool = false;
    type V = f32x8;

    #[inline(always)]
    unsafe fn zero() -> f32x8 {
        f32x8::ZERO
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> f32x8 {
        // SAFETY: the caller guarantees 8 readable floats at `p`; read_unaligned has no
        // alignment requirement.
        unsafe { f32x8::new(p.cast::<[f32; 8]>().read_unaligned()) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32x8) {
        // SAFETY: the caller guarantees 8 writable floats at `p`.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(v.to_array()) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> f32x8 {
        let mut lanes = [0.0f32; 8];
        // SAFETY: the caller guarantees `n < 8` readable floats at `p`.
        unsafe { core::ptr::copy_nonoverlapping(p, lanes.as_mut_ptr(), n) };
        f32x8::new(lanes)
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f32, n: usize, v: f32x8) {
        let lanes = v.to_array();
        // SAFETY: the caller guarantees `n < 8` writable floats at `p`.
        unsafe { core::ptr::copy_nonoverlapping(lanes.as_ptr(), p, n) };
    }
    #[inline(always)]
    unsafe fn mul_add(a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    unsafe fn add(a: f32x8, b: f32x8) -> f32x8 {
        a + b
    }
    #[inline(always)]
    unsafe fn max(a: f32x8, b: f32x8) -> f32x8 {
        a.fast_max(b)
    }
    #[inline(always)]
    unsafe fn min(a: f32x8, b: f32x8) -> f32x8 {
        a.fast_min(b)
    }
    #[inline(always)]
    unsafe fn mul(a: f32x8, b: f32x8) -> f32x8 {
        a * b
    }
    #[inline(always)]
    unsafe fn sub(a: f32x8, b: f32x8) -> f32x8 {
        a - b
    }
    #[inline(always)]
    unsafe fn div(a: f32x8, b: f32x8) -> f32x8 {
        a / b
    }
    #[inline(always)]
    unsafe fn sqrt(x: f32x8) -> f32x8 {
        x.sqrt()
    }
    #[inline(always)]
    unsafe fn round(x: f32x8) -> f32x8 {
        x.round()
    }
    #[inline(always)]
    unsafe fn pow2i(n: f32x8) -> f32x8 {
        // Lane by lane: wide's integer shifts sit behind traits this path does not need.
        f32x8::new(n.to_array().map(|n| f32::from_bits(((n as i32 + 127) as u32) << 23)))
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> f32x8 {
        // SAFETY: 16 readable floats at `p` (trait contract).
        f32x8::new(std::array::from_fn(|i| unsafe { *p.add(2 * i) }))
    }
    #[inline(always)]
    unsafe fn reduce_add(x: f32x8) -> f32 {
        x.to_array().iter().sum()
    }
    #[inline(always)]
    unsafe fn reduce_max(x: f32x8) -> f32 {
        x.to_array().iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }
    #[inline(always)]
    unsafe fn leaky(x: f32x8, slope: f32x8) -> f32x8 {
        x.simd_ge(f32x8::ZERO).select(x, x * slope)
    }
}
