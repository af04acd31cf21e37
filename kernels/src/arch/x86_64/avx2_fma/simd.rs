use crate::arch::simd::{MAX_LANES, Simd};
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
pub(crate) struct Avx2Fma;

/// Lane mask for `_mm256_maskload_ps`: lanes below `n` have the sign bit set.
#[inline(always)]
unsafe fn first_lanes(n: usize) -> __m256i {
    // SAFETY: AVX is available (trait contract).
    unsafe {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lane)
    }
}

// SAFETY: only called from `#[target_feature(enable = "avx2,fma")]` shells, which the
// dispatcher only selects when the CPU reports both; pointer validity is the caller's contract.
unsafe impl Simd for Avx2Fma {
    const LANES: usize = 8;
    /// No masked FMA or maximum: each is the operation and a blend. The shifted-plane
    /// depthwise of the time, built on lane shifts (two `vpermps` and a blend here) and
    /// masked FMAs, ran 1.2-1.55x slower than the flattened plane (144x56x56: 0.242 against
    /// 0.158 ms); its successor, masked taps at their offsets, was not timed on this path.
    const MASKED_OPS: bool = false;
    type V = __m256;

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        // SAFETY: 8 readable floats at `p`; loadu needs no alignment.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        // SAFETY: 8 writable floats at `p`.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> __m256 {
        // SAFETY: maskload does not access masked-off lanes (no fault past the `n` floats).
        unsafe { _mm256_maskload_ps(p, first_lanes(n)) }
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f32, n: usize, v: __m256) {
        // SAFETY: maskstore does not write masked-off lanes.
        unsafe { _mm256_maskstore_ps(p, first_lanes(n), v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: FMA is available.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn max(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn min(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_min_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn div(a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_div_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sqrt(x: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_sqrt_ps(x) }
    }
    #[inline(always)]
    unsafe fn round(x: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe { _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(x) }
    }
    #[inline(always)]
    unsafe fn pow2i(n: __m256) -> __m256 {
        // SAFETY: AVX2 is available; n + 127 in [1, 254] is a valid biased exponent.
        unsafe {
            let biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(biased))
        }
    }
    #[inline(always)]
    unsafe fn transpose(rows: [__m256; MAX_LANES]) -> [__m256; MAX_LANES] {
        // As AVX-512's over 8 rows: floats, then float pairs, interleaved within 128-bit
        // lanes (lane k of u[4g + j] holds column 4k + j of rows 4g .. 4g + 3), then the
        // two halves of column 4k + j taken from u[j] and u[4 + j].
        // SAFETY: AVX is available (trait contract).
        unsafe {
            let r = rows;
            let mut t = r;
            for i in 0..4 {
                t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            let mut u = t;
            let pd = _mm256_castps_pd;
            for g in 0..2 {
                let (a, b, c, d) = (pd(t[4 * g]), pd(t[4 * g + 1]), pd(t[4 * g + 2]), pd(t[4 * g + 3]));
                u[4 * g] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, c));
                u[4 * g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, c));
                u[4 * g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(b, d));
                u[4 * g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(b, d));
            }
            let mut out = u;
            for j in 0..4 {
                out[j] = _mm256_permute2f128_ps::<0x20>(u[j], u[4 + j]);
                out[4 + j] = _mm256_permute2f128_ps::<0x31>(u[j], u[4 + j]);
            }
            out
        }
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> __m256 {
        // SAFETY: 16 readable floats at `p` (trait contract); AVX2 is available.
        unsafe {
            // [a0 a2 b0 b2 | a4 a6 b4 b6], then 64-bit lanes in the order 0, 2, 1, 3.
            let mixed = _mm256_shuffle_ps::<0b10_00_10_00>(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
            _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(mixed)))
        }
    }
    #[inline(always)]
    unsafe fn reduce_add(x: __m256) -> f32 {
        let mut lanes = [0.0f32; 8];
        // SAFETY: 8 writable floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), x) };
        lanes.iter().sum()
    }
    #[inline(always)]
    unsafe fn reduce_max(x: __m256) -> f32 {
        let mut lanes = [0.0f32; 8];
        // SAFETY: 8 writable floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), x) };
        lanes.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }
    #[inline(always)]
    unsafe fn leaky(x: __m256, slope: __m256) -> __m256 {
        // SAFETY: AVX is available.
        unsafe {
            let negative = _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_setzero_ps());
            _mm256_blendv_ps(x, _mm256_mul_ps(x, slope), negative)
        }
    }
}
