//! The vector operations the generic kernels are written in.
//!
//! Implementations are zero-sized markers whose methods are `#[inline(always)]` wrappers
//! around one ISA's intrinsics. A generic kernel body is `#[inline(always)]` too and is
//! instantiated inside a `#[target_feature]` function (the "shell"), so everything inlines into
//! code compiled for that ISA — `#[inline(always)]` cannot sit on the shell itself.

/// The most lanes any path has (AVX-512's 16 floats).
pub(crate) const MAX_LANES: usize = 16;

/// One ISA's f32 vector.
///
/// # Safety
/// Every method requires the implementing ISA to be available on the running CPU (the
/// dispatcher guarantees it by only calling shells of detected ISAs); pointer arguments must
/// be valid for the lanes read or written.
pub(crate) unsafe trait Simd: Copy + 'static {
    const LANES: usize;
    /// Whether [`Simd::keep_masked`], [`Simd::mul_add_masked`] and [`Simd::max_masked`] are
    /// one instruction each: the kernels that mask a tap off in every step
    /// (`crate::shifted_plane`) are chosen only on such paths.
    const MASKED_OPS: bool;
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
    /// The first `n <= LANES` floats, the other lanes zero: a plain load when `n` is the
    /// whole vector.
    #[inline(always)]
    unsafe fn load_n(p: *const f32, n: usize) -> Self::V {
        // SAFETY: `n` floats readable at `p` (the caller's contract).
        unsafe { if n == Self::LANES { Self::load(p) } else { Self::load_partial(p, n) } }
    }
    /// Stores the first `n <= LANES` lanes: a plain store when `n` is the whole vector.
    #[inline(always)]
    unsafe fn store_n(p: *mut f32, n: usize, v: Self::V) {
        // SAFETY: `n` floats writable at `p` (the caller's contract).
        unsafe { if n == Self::LANES { Self::store(p, v) } else { Self::store_partial(p, n, v) } }
    }
    /// a * b + c, fused where the ISA has it.
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn min(a: Self::V, b: Self::V) -> Self::V;
    /// Lanewise `if x >= 0 { x } else { x * slope }`.
    unsafe fn leaky(x: Self::V, slope: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn div(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sqrt(x: Self::V) -> Self::V;
    /// Round to the nearest integer, ties to even.
    unsafe fn round(x: Self::V) -> Self::V;
    /// 2^n for integer-valued `n` in [-126, 127], built from the exponent bits.
    unsafe fn pow2i(n: Self::V) -> Self::V;
    /// `p[0], p[2], .., p[2*(LANES-1)]`: reads `2 * LANES` floats (stride-2 pooling).
    unsafe fn load_even(p: *const f32) -> Self::V;
    /// Sum of the lanes.
    unsafe fn reduce_add(x: Self::V) -> f32;
    /// Largest lane.
    unsafe fn reduce_max(x: Self::V) -> f32;

    /// The lanes set in `mask` loaded, lane l from `p + l`, and zero in the others: only
    /// the set lanes are read, so `p` may lie before the data by as many floats as the
    /// lowest set lane. This default goes through memory; paths with `MASKED_OPS` override
    /// it.
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, mask: u32) -> Self::V {
        // SAFETY: `Self` is available; the buffer holds LANES <= 16 floats (asserted); only
        // the set lanes of `p` are read (the caller's contract).
        unsafe {
            assert!(Self::LANES <= 16);
            let mut lanes = [0.0f32; 16];
            for (lane, v) in lanes.iter_mut().enumerate().take(Self::LANES) {
                if mask >> lane & 1 == 1 {
                    *v = *p.wrapping_add(lane);
                }
            }
            Self::load(lanes.as_ptr())
        }
    }

    /// The lanes of `x` set in `mask`, zero in the others. This default goes through
    /// memory; paths with `MASKED_OPS` override it.
    #[inline(always)]
    unsafe fn keep_masked(x: Self::V, mask: u32) -> Self::V {
        // SAFETY: `Self` is available; the buffer holds LANES <= 16 floats (asserted).
        unsafe {
            assert!(Self::LANES <= 16);
            let mut lanes = [0.0f32; 16];
            Self::store(lanes.as_mut_ptr(), x);
            for (lane, v) in lanes.iter_mut().enumerate().take(Self::LANES) {
                if mask >> lane & 1 == 0 {
                    *v = 0.0;
                }
            }
            Self::load(lanes.as_ptr())
        }
    }

    /// `a * b + c` in the lanes set in `mask`, `c` in the others. This default goes through
    /// memory; paths with `MASKED_OPS` override it.
    #[inline(always)]
    unsafe fn mul_add_masked(a: Self::V, b: Self::V, c: Self::V, mask: u32) -> Self::V {
        // SAFETY: `Self` is available; the buffers hold LANES <= 16 floats (asserted).
        unsafe {
            assert!(Self::LANES <= 16);
            let (mut sum, mut kept) = ([0.0f32; 16], [0.0f32; 16]);
            Self::store(sum.as_mut_ptr(), Self::mul_add(a, b, c));
            Self::store(kept.as_mut_ptr(), c);
            for (lane, s) in sum.iter_mut().enumerate().take(Self::LANES) {
                if mask >> lane & 1 == 0 {
                    *s = kept[lane];
                }
            }
            Self::load(sum.as_ptr())
        }
    }

    /// `max(a, b)` in the lanes set in `mask`, `a` in the others. This default goes
    /// through memory; paths with `MASKED_OPS` override it.
    #[inline(always)]
    unsafe fn max_masked(a: Self::V, b: Self::V, mask: u32) -> Self::V {
        // SAFETY: `Self` is available; the buffers hold LANES <= 16 floats (asserted).
        unsafe {
            assert!(Self::LANES <= 16);
            let (mut max, mut kept) = ([0.0f32; 16], [0.0f32; 16]);
            Self::store(max.as_mut_ptr(), Self::max(a, b));
            Self::store(kept.as_mut_ptr(), a);
            for (lane, m) in max.iter_mut().enumerate().take(Self::LANES) {
                if mask >> lane & 1 == 0 {
                    *m = kept[lane];
                }
            }
            Self::load(max.as_ptr())
        }
    }

    /// Interleaves `M` vectors: the result, read as `M * LANES` consecutive floats, holds
    /// `v[j][l]` at `l * M + j` (Winograd's output tiles back into image rows). This default
    /// goes through memory; paths with a two-source permute override it.
    #[inline(always)]
    unsafe fn interleave<const M: usize>(v: [Self::V; M]) -> [Self::V; M] {
        // SAFETY: `Self` is available; the buffers hold M * LANES <= 128 floats (M <= 8,
        // LANES <= 16, asserted).
        unsafe {
            assert!(M * Self::LANES <= 128);
            let (mut lanes, mut out) = ([0.0f32; 128], [0.0f32; 128]);
            for (j, &x) in v.iter().enumerate() {
                Self::store(lanes.as_mut_ptr().add(j * Self::LANES), x);
            }
            for l in 0..Self::LANES {
                for j in 0..M {
                    out[l * M + j] = lanes[j * Self::LANES + l];
                }
            }
            core::array::from_fn(|q| Self::load(out.as_ptr().add(q * Self::LANES)))
        }
    }

    /// The inverse of [`Simd::interleave`]: `M` vectors read as `M * LANES` floats, split
    /// into their `M` phases (`result[j][l]` = float `l * M + j`).
    #[inline(always)]
    unsafe fn deinterleave<const M: usize>(v: [Self::V; M]) -> [Self::V; M] {
        // SAFETY: as in `interleave`.
        unsafe {
            assert!(M * Self::LANES <= 128);
            let (mut flat, mut out) = ([0.0f32; 128], [0.0f32; 128]);
            for (q, &x) in v.iter().enumerate() {
                Self::store(flat.as_mut_ptr().add(q * Self::LANES), x);
            }
            for l in 0..Self::LANES {
                for j in 0..M {
                    out[j * Self::LANES + l] = flat[l * M + j];
                }
            }
            core::array::from_fn(|j| Self::load(out.as_ptr().add(j * Self::LANES)))
        }
    }

    /// The square of the first `LANES` vectors turned around: `result[i]` lane `l` is
    /// `rows[l]` lane `i`, for `i, l < LANES` (channel rows into pixel vectors and back,
    /// `crate::conv::channel_lanes`). Vectors from `LANES` on are left as they are. This is
    /// `interleave::<LANES>`, which cannot be named for an array of a path's lane count, and
    /// whose two-source permutes on AVX-512 would take 256 instructions where the
    /// override's lane shuffles take 64. This default goes through memory; the x86 paths
    /// override it with shuffles.
    #[inline(always)]
    unsafe fn transpose(rows: [Self::V; MAX_LANES]) -> [Self::V; MAX_LANES] {
        // SAFETY: `Self` is available; the buffers hold MAX_LANES^2 >= LANES^2 floats.
        unsafe {
            assert!(Self::LANES <= MAX_LANES);
            let (mut flat, mut out) = ([0.0f32; MAX_LANES * MAX_LANES], rows);
            for (l, &x) in rows.iter().enumerate().take(Self::LANES) {
                Self::store(flat.as_mut_ptr().add(l * Self::LANES), x);
            }
            let mut column = [0.0f32; MAX_LANES];
            for (i, o) in out.iter_mut().enumerate().take(Self::LANES) {
                for (l, c) in column.iter_mut().enumerate().take(Self::LANES) {
                    *c = flat[l * Self::LANES + i];
                }
                *o = Self::load(column.as_ptr());
            }
            out
        }
    }

    /// e^x for x in [-87.3, 88] (clamped there: below, the smallest normal e^-87.3;
    /// above, e^88 instead of overflowing), within 2 ulp relative.
    ///
    /// Cody & Waite's reduction x = n*ln2 + r, |r| <= ln2/2, with ln2 split in a part exact
    /// in f32 and a remainder so n*ln2 stays exact; e^r by its Taylor polynomial to degree 7,
    /// whose truncation error at |r| = 0.347 is r^8/8! = 5e-9 relative, a tenth of an ulp.
    #[inline(always)]
    unsafe fn exp(x: Self::V) -> Self::V {
        const LN2_HI: f32 = 0.693_145_75; // ln 2 rounded to 17 bits: n*LN2_HI is exact.
        const LN2_LO: f32 = 1.428_606_8e-6; // ln 2 - LN2_HI.
        // SAFETY: `Self` is available (trait contract).
        unsafe {
            let x = Self::min(Self::max(x, Self::splat(-87.3)), Self::splat(88.0));
            let n = Self::round(Self::mul(x, Self::splat(core::f32::consts::LOG2_E)));
            let r = Self::mul_add(n, Self::splat(-LN2_HI), x);
            let r = Self::mul_add(n, Self::splat(-LN2_LO), r);
            let mut p = Self::splat(1.0 / 5040.0);
            for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
                p = Self::mul_add(p, r, Self::splat(c));
            }
            Self::mul(p, Self::pow2i(n))
        }
    }

    /// 1 / (1 + e^-x).
    #[inline(always)]
    unsafe fn sigmoid(x: Self::V) -> Self::V {
        // SAFETY: `Self` is available (trait contract).
        unsafe {
            let one = Self::splat(1.0);
            Self::div(one, Self::add(one, Self::exp(Self::sub(Self::zero(), x))))
        }
    }
}

/// `keep_masked`, `mul_add_masked` and `max_masked` against their definitions, on one
/// path: a mask of every other lane.
///
/// # Safety
/// `S` is available.
#[cfg(test)]
unsafe fn check_masked_ops<S: Simd>() {
    let lanes = S::LANES;
    let (lo, hi): (Vec<f32>, Vec<f32>) =
        ((0..lanes).map(|i| i as f32).collect(), (0..lanes).map(|i| 100.0 + i as f32).collect());
    let mut got = vec![0.0f32; lanes];
    // SAFETY: `S` is available; every vector is `lanes` floats of a Vec of that length.
    unsafe {
        let (l, h) = (S::load(lo.as_ptr()), S::load(hi.as_ptr()));
        let mask = 0b0101_0101_0101_0101u32 & ((1 << lanes) - 1);
        S::store(got.as_mut_ptr(), S::keep_masked(h, mask));
        let want: Vec<f32> = (0..lanes).map(|i| if i % 2 == 0 { hi[i] } else { 0.0 }).collect();
        assert_eq!(got, want, "keep_masked");
        S::store(got.as_mut_ptr(), S::mul_add_masked(l, S::splat(2.0), h, mask));
        let want: Vec<f32> = (0..lanes).map(|i| if i % 2 == 0 { lo[i] * 2.0 + hi[i] } else { hi[i] }).collect();
        assert_eq!(got, want, "mul_add_masked");
        S::store(got.as_mut_ptr(), S::max_masked(h, l, mask));
        let want: Vec<f32> = (0..lanes).map(|i| if i % 2 == 0 { hi[i].max(lo[i]) } else { hi[i] }).collect();
        assert_eq!(got, want, "max_masked on the larger");
        S::store(got.as_mut_ptr(), S::max_masked(l, h, mask));
        let want: Vec<f32> = (0..lanes).map(|i| if i % 2 == 0 { hi[i] } else { lo[i] }).collect();
        assert_eq!(got, want, "max_masked on the smaller");
        // A window whose set lanes 3 .. lanes-1 are the whole of `hi` but its last 3
        // floats: `p` lies 3 floats before the data, the lanes outside read nothing.
        let window = ((1u32 << (lanes - 1)) - 1) & !0b111;
        S::store(got.as_mut_ptr(), S::load_masked(hi.as_ptr().wrapping_sub(3), window));
        let want: Vec<f32> = (0..lanes).map(|i| if (3..lanes - 1).contains(&i) { hi[i - 3] } else { 0.0 }).collect();
        assert_eq!(got, want, "load_masked");
    }
}

/// `transpose` against its definition, on one path: distinct values in every lane.
///
/// # Safety
/// `S` is available.
#[cfg(test)]
unsafe fn check_transpose<S: Simd>() {
    let lanes = S::LANES;
    let rows: Vec<f32> = (0..lanes * lanes).map(|i| i as f32).collect();
    let mut got = vec![0.0f32; lanes * lanes];
    // SAFETY: `S` is available; every vector is `lanes` floats of a Vec of `lanes^2`.
    unsafe {
        let mut v = [S::zero(); MAX_LANES];
        for (l, x) in v.iter_mut().enumerate().take(lanes) {
            *x = S::load(rows.as_ptr().add(l * lanes));
        }
        let turned = S::transpose(v);
        for (i, x) in turned.iter().enumerate().take(lanes) {
            S::store(got.as_mut_ptr().add(i * lanes), *x);
        }
        let mut rest = vec![1.0f32; lanes];
        for x in &turned[lanes..] {
            S::store(rest.as_mut_ptr(), *x);
            assert!(rest.iter().all(|&r| r == 0.0), "transpose of {lanes} lanes changed a vector past them");
        }
    }
    let want: Vec<f32> = (0..lanes * lanes).map(|q| rows[(q % lanes) * lanes + q / lanes]).collect();
    assert_eq!(got, want, "transpose of {lanes} lanes");
}

#[cfg(test)]
mod tests {
    /// The masked operations and the transpose on every path this CPU runs: overridden with one instruction
    /// on AVX-512, through memory on AVX2 and the portable path.
    #[test]
    fn overridable_ops_match_their_definitions_on_every_path() {
        // SAFETY: the portable path always runs; the others only where the CPU has them
        // (checked).
        unsafe {
            super::check_masked_ops::<crate::arch::generic::Portable>();
            super::check_transpose::<crate::arch::generic::Portable>();
            #[cfg(target_arch = "x86_64")]
            {
                use crate::arch::x86_64::{avx2_fma::Avx2Fma, avx512f::Avx512};
                if crate::Isa::Avx2Fma.is_supported() {
                    super::check_masked_ops::<Avx2Fma>();
                    super::check_transpose::<Avx2Fma>();
                }
                if crate::Isa::Avx512f.is_supported() {
                    super::check_masked_ops::<Avx512>();
                    super::check_transpose::<Avx512>();
                }
            }
        }
    }
}
