use crate::arch::simd::{MAX_LANES, Simd};
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
pub(crate) struct Avx512;

/// The two-source permutes of an interleave (or deinterleave) of `M` even vectors, for
/// each output vector and each pair of sources: index vector and the mask of the lanes the
/// pair supplies. Output lane `i` of vector `q` is lane `lane` of source `source`, with
/// (interleave) float `x = 16q + i` at source `x % M`, lane `x / M`, or (deinterleave)
/// float `x = i*M + q` at source `x / 16`, lane `x % 16`. Built at compile time.
///
/// Against the trait's memory-based default, F(4x4) 1 thread, three interleaved rounds,
/// medians (GFLOP/s): 64x56x56 438 / 432, 128x28x28 507 / 496, 256x14x14 419 / 404,
/// 64x224x224 437 / 432 — 1-4% faster, kept.
struct Permutes<const M: usize>;

type PairTable = [[([i32; 16], u16); 4]; 8];

const fn permute_table(m: usize, interleave: bool) -> PairTable {
    let mut table = [[([0i32; 16], 0u16); 4]; 8];
    let mut q = 0;
    while q < m {
        let mut i = 0;
        while i < 16 {
            let (source, lane) =
                if interleave { ((16 * q + i) % m, (16 * q + i) / m) } else { ((i * m + q) / 16, (i * m + q) % 16) };
            let entry = &mut table[q][source / 2];
            entry.0[i] = (lane | ((source % 2) << 4)) as i32;
            entry.1 |= 1 << i;
            i += 1;
        }
        q += 1;
    }
    table
}

impl<const M: usize> Permutes<M> {
    const INTERLEAVE: PairTable = permute_table(M, true);
    const DEINTERLEAVE: PairTable = permute_table(M, false);
}

/// Output vector `q` of the permutation in `table`.
#[inline(always)]
unsafe fn permute_pairs<const M: usize>(v: &[__m512; M], table: &PairTable, q: usize) -> __m512 {
    // SAFETY: AVX-512F is available (caller's contract); index lanes are below 32.
    unsafe {
        let mut out = _mm512_setzero_ps();
        for pair in 0..M / 2 {
            let (index, mask) = &table[q][pair];
            let picked =
                _mm512_permutex2var_ps(v[2 * pair], _mm512_loadu_si512(index.as_ptr().cast()), v[2 * pair + 1]);
            out = _mm512_mask_blend_ps(*mask, out, picked);
        }
        out
    }
}

/// Mask of the first `n` lanes, `n < 16`.
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

// SAFETY: only called from `#[target_feature(enable = "avx512f")]` shells, which the
// dispatcher only selects when the CPU reports AVX-512F; pointer validity is the caller's
// contract as stated on the trait.
unsafe impl Simd for Avx512 {
    const LANES: usize = 16;
    /// `vfmadd{k}` and `vmaxps{k}`, one instruction each.
    const MASKED_OPS: bool = true;
    type V = __m512;

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        // SAFETY: AVX-512F is available (trait contract).
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        // SAFETY: as above.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        // SAFETY: 16 readable floats at `p` (trait contract); loadu needs no alignment.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        // SAFETY: 16 writable floats at `p` (trait contract).
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn load_partial(p: *const f32, n: usize) -> __m512 {
        // SAFETY: masked-off lanes are not accessed, so only the `n` readable floats are read.
        unsafe { _mm512_maskz_loadu_ps(first_lanes(n), p) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: u32) -> __m512 {
        // SAFETY: masked-off lanes are not accessed, so only the set lanes, readable by the
        // caller's contract, are read.
        unsafe { _mm512_maskz_loadu_ps(mask as __mmask16, p) }
    }
    #[inline(always)]
    unsafe fn keep_masked(x: __m512, mask: u32) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_maskz_mov_ps(mask as __mmask16, x) }
    }
    #[inline(always)]
    unsafe fn mul_add_masked(a: __m512, b: __m512, c: __m512, mask: u32) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_mask3_fmadd_ps(a, b, c, mask as __mmask16) }
    }
    #[inline(always)]
    unsafe fn max_masked(a: __m512, b: __m512, mask: u32) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_mask_max_ps(a, mask as __mmask16, a, b) }
    }
    #[inline(always)]
    unsafe fn store_partial(p: *mut f32, n: usize, v: __m512) {
        // SAFETY: masked-off lanes are not written.
        unsafe { _mm512_mask_storeu_ps(p, first_lanes(n), v) }
    }
    #[inline(always)]
    unsafe fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn max(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn min(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_min_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn div(a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_div_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sqrt(x: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_sqrt_ps(x) }
    }
    #[inline(always)]
    unsafe fn round(x: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(x) }
    }
    #[inline(always)]
    unsafe fn pow2i(n: __m512) -> __m512 {
        // SAFETY: AVX-512F is available; n + 127 in [1, 254] is a valid biased exponent.
        unsafe {
            let biased = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(biased))
        }
    }
    #[inline(always)]
    unsafe fn interleave<const M: usize>(v: [__m512; M]) -> [__m512; M] {
        // Sources are permuted in pairs: Winograd's tiles (2, 4, 6); up to 8 (the
        // transposed store's blocks of 8 pixels took it once).
        assert!(M.is_multiple_of(2) && M <= 8, "interleave of an odd count, or more than 8");
        // A loop, not `core::array::from_fn`, which LLVM may leave out of line, calling
        // the intrinsics through memory (measured: the transposed store, which used it then, 3x slower).
        let mut out = v;
        for (q, o) in out.iter_mut().enumerate() {
            // SAFETY: AVX-512F is available.
            *o = unsafe { permute_pairs(&v, &Permutes::<M>::INTERLEAVE, q) };
        }
        out
    }
    #[inline(always)]
    unsafe fn deinterleave<const M: usize>(v: [__m512; M]) -> [__m512; M] {
        // Sources are permuted in pairs.
        assert!(M.is_multiple_of(2) && M <= 8, "deinterleave of an odd count, or more than 8");
        // A loop, for the reason given in `interleave`.
        let mut out = v;
        for (j, o) in out.iter_mut().enumerate() {
            // SAFETY: AVX-512F is available.
            *o = unsafe { permute_pairs(&v, &Permutes::<M>::DEINTERLEAVE, j) };
        }
        out
    }
    #[inline(always)]
    unsafe fn transpose(rows: [__m512; MAX_LANES]) -> [__m512; MAX_LANES] {
        // Four rounds of 16 one-source-lane shuffles: pairs of rows interleaved by floats,
        // then by float pairs (each 128-bit lane k of u[4g + j] now holds column 4k + j of
        // rows 4g .. 4g + 3), then two rounds of 128-bit lane shuffles gather column
        // 4k + j's four lanes from u[j], u[4 + j], u[8 + j], u[12 + j].
        // SAFETY: AVX-512F is available (trait contract).
        unsafe {
            let r = rows;
            let mut t = r;
            for i in 0..8 {
                t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            let mut u = t;
            let pd = _mm512_castps_pd;
            for g in 0..4 {
                let (a, b, c, d) = (pd(t[4 * g]), pd(t[4 * g + 1]), pd(t[4 * g + 2]), pd(t[4 * g + 3]));
                u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
                u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
                u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
                u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
            }
            let mut out = u;
            for j in 0..4 {
                let (a, b, c, d) = (u[j], u[4 + j], u[8 + j], u[12 + j]);
                // Lanes (0, 2) and (1, 3) of a and b, then of c and d.
                let v0 = _mm512_shuffle_f32x4::<0x88>(a, b);
                let v1 = _mm512_shuffle_f32x4::<0xdd>(a, b);
                let v2 = _mm512_shuffle_f32x4::<0x88>(c, d);
                let v3 = _mm512_shuffle_f32x4::<0xdd>(c, d);
                out[j] = _mm512_shuffle_f32x4::<0x88>(v0, v2);
                out[8 + j] = _mm512_shuffle_f32x4::<0xdd>(v0, v2);
                out[4 + j] = _mm512_shuffle_f32x4::<0x88>(v1, v3);
                out[12 + j] = _mm512_shuffle_f32x4::<0xdd>(v1, v3);
            }
            out
        }
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> __m512 {
        // SAFETY: 32 readable floats at `p` (trait contract).
        unsafe {
            let evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            _mm512_permutex2var_ps(_mm512_loadu_ps(p), evens, _mm512_loadu_ps(p.add(16)))
        }
    }
    #[inline(always)]
    unsafe fn reduce_add(x: __m512) -> f32 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_reduce_add_ps(x) }
    }
    #[inline(always)]
    unsafe fn reduce_max(x: __m512) -> f32 {
        // SAFETY: AVX-512F is available.
        unsafe { _mm512_reduce_max_ps(x) }
    }
    #[inline(always)]
    unsafe fn leaky(x: __m512, slope: __m512) -> __m512 {
        // SAFETY: AVX-512F is available.
        unsafe {
            let negative = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, _mm512_setzero_ps());
            _mm512_mask_mul_ps(x, negative, x, slope)
        }
    }
}
