//! Depthwise convolution (groups == input channels, MobileNetV2 and Xception): each output
//! channel convolves one input plane with its own R x S filter.
//!
//! A GEMM per group would be a 1-row product per channel; instead each input plane is first
//! copied into a zero-padded buffer (with slack after it), so that every output column is
//! "interior": per output row, each tap is one fused multiply-add across a vector of output
//! columns (plain loads at stride 1, `load_even` at stride 2), and the row's last vector is
//! a masked store. Loads past a row's end read the next row or the slack and only feed
//! masked-off lanes. Without the padded copy, 14- and 7-wide maps had no room for a single
//! 16-lane vector and ran at a third of the GEMM path's speed. Other strides are scalar.
//! This row-by-row path is what other strides, and stride 2 with dilation, take.
//!
//! At stride 1, and at stride 2 without dilation, the plane is instead read as one long
//! row (`crate::flat_plane`), so every vector is full whatever the map's width, four vectors
//! in flight, the filter in registers for 3x3 and 5x5. On a 7x7 map that is 63 computed
//! outputs for 49 instead of 112 (7 rows of a 16-lane vector). Measured, 1 thread, AVX-512
//! (`ferrocnn conv ... --groups C --iters 200`, medians, before / after): 144x56x56 s1
//! 226 / 137 us, s2 104 / 71, 576x14x14 85 / 48, 960x7x7 61 / 44, 96x112x112 s2 284 / 194.
//!
//! The epilogue (the channel's scale and shift, the activation, a residual) is applied in
//! registers as each output vector is stored: no second pass over the plane.

use crate::Activation;
use crate::arch::simd::Simd;
use crate::flat_plane::{FlatPlane, Window, copy_row};
use crate::gemm::epilogue::activate;
use crate::shape::{Conv2dDesc, Conv2dShape};

/// The epilogue of one output plane: `activation(x * scale + shift + residual)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaneEpilogue<'a> {
    pub scale: f32,
    pub shift: f32,
    /// The plane's residual, laid out like the output plane.
    pub residual: Option<&'a [f32]>,
    pub activation: Activation,
}

impl PlaneEpilogue<'_> {
    /// The epilogue of the `n` values of `x` that land at `at` in the plane (all lanes
    /// when `n` is the vector's width).
    ///
    /// # Safety
    /// `S` is available; `at + n` is within the plane.
    #[inline(always)]
    unsafe fn apply<S: Simd>(&self, x: S::V, at: usize, n: usize) -> S::V {
        // SAFETY: `S` is available; the residual has the plane's length, which `at + n`
        // does not exceed.
        unsafe {
            let mut y = S::mul_add(x, S::splat(self.scale), S::splat(self.shift));
            if let Some(r) = self.residual {
                debug_assert!(at + n <= r.len());
                let r =
                    if n == S::LANES { S::load(r.as_ptr().add(at)) } else { S::load_partial(r.as_ptr().add(at), n) };
                y = S::add(y, r);
            }
            activate::<S>(y, self.activation)
        }
    }
}

impl PlaneEpilogue<'_> {
    /// `apply` on one value, for the scalar strides.
    fn apply_one(&self, x: f32, at: usize) -> f32 {
        let y = x.mul_add(self.scale, self.shift) + self.residual.map_or(0.0, |r| r[at]);
        self.activation.apply(y)
    }
}

/// Floats a stride-2 row vector reads past its first column's window: `2 * lanes`.
const ROW_SLACK: usize = 32;

/// Everything the per-plane kernel needs, derived once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DepthwiseGeometry {
    w: usize,
    /// The padded plane.
    hp: usize,
    wp: usize,
    pt: usize,
    pl: usize,
    out_h: usize,
    out_w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    /// `None`: the row-by-row path (other strides, or stride 2 with dilation).
    flat: Option<FlatPlane>,
}

impl DepthwiseGeometry {
    pub(crate) fn new(d: &Conv2dDesc, s: &Conv2dShape) -> Self {
        let p = d.padding;
        let (hp, wp) = (d.in_h + p.top + p.bottom, d.in_w + p.left + p.right);
        let flat = FlatPlane::new(&Window {
            input: (d.in_h, d.in_w),
            output: (s.out_h, s.out_w),
            kernel: (d.kernel_h, d.kernel_w),
            stride: (d.stride_h, d.stride_w),
            dilation: (d.dilation_h, d.dilation_w),
            pad_top_left: (p.top, p.left),
        });
        DepthwiseGeometry {
            w: d.in_w,
            hp,
            wp,
            pt: p.top,
            pl: p.left,
            out_h: s.out_h,
            out_w: s.out_w,
            kh: d.kernel_h,
            kw: d.kernel_w,
            sh: d.stride_h,
            sw: d.stride_w,
            dh: d.dilation_h,
            dw: d.dilation_w,
            flat,
        }
    }

    /// Floats of scratch one thread needs: the flattened plane's, or the padded plane and
    /// its slack for the row path.
    pub(crate) fn scratch_len(&self) -> usize {
        self.flat.map_or(crate::aligned::round_up(self.hp * self.wp + ROW_SLACK + (self.kw - 1) * self.dw), |f| {
            f.scratch_len()
        })
    }
}

/// One output plane: `input` H x W, `filter` R x S, `output` OH x OW with `epilogue`
/// applied; `padded` holds at least `scratch_len()` floats. `fresh`: the buffer's border must be
/// zeroed (the first plane of a thread's band); later planes overwrite only the interior
/// (144x56x56: 245 -> 228 us; 14x14 and 7x7 maps unchanged within noise).
///
/// # Safety
/// `S` is available on this CPU, with at most 16 lanes.
#[inline(always)]
pub(crate) unsafe fn depthwise_plane<S: Simd>(
    g: &DepthwiseGeometry,
    input: &[f32],
    filter: &[f32],
    padded: &mut [f32],
    fresh: bool,
    epilogue: &PlaneEpilogue,
    output: &mut [f32],
) {
    let (wp, lanes) = (g.wp, S::LANES);
    if let Some(f) = g.flat {
        // SAFETY: `S` is available (this function's contract); `padded` holds the flat
        // plane's scratch. Vector v of tap (r, s) reads f.tap(r, s) + v*lanes .. + lanes,
        // inside its plane (FlatPlane's slack, checked by `reads_fit` in debug builds);
        // `wide` holds vectors*lanes floats.
        unsafe {
            let (padded, wide) = f.fill::<S>(input, padded, fresh, 0.0);
            debug_assert!(f.reads_fit((g.kh, g.kw), lanes));
            let tap = |r: usize, s: usize| padded.as_ptr().add(f.tap(r, s));
            let vectors = f.vectors(lanes);
            match (g.kh, g.kw) {
                (3, 3) => flattened::<S, 3>(tap, filter, vectors, wide),
                (5, 5) => flattened::<S, 5>(tap, filter, vectors, wide),
                _ => flattened_any::<S>(g, tap, filter, vectors, wide),
            }
            f.write_out::<S>(wide, output, |x, at, n| epilogue.apply::<S>(x, at, n));
        }
        return;
    }
    let padded = &mut padded[..g.scratch_len()];
    if fresh {
        padded.fill(0.0);
    }
    for (row, src) in padded.chunks_exact_mut(wp).skip(g.pt).zip(input.chunks_exact(g.w)) {
        // SAFETY: `S` is available.
        unsafe { copy_row::<S>(&mut row[g.pl..g.pl + g.w], src) };
    }
    let padded = &*padded;
    for oh in 0..g.out_h {
        let out_row = &mut output[oh * g.out_w..(oh + 1) * g.out_w];
        let top = oh * g.sh;
        if g.sw > 2 {
            for (ow, out) in out_row.iter_mut().enumerate() {
                let mut acc = 0.0f32;
                for r in 0..g.kh {
                    let row = &padded[(top + r * g.dh) * wp..];
                    for s in 0..g.kw {
                        acc = filter[r * g.kw + s].mul_add(row[ow * g.sw + s * g.dw], acc);
                    }
                }
                *out = epilogue.apply_one(acc, oh * g.out_w + ow);
            }
            continue;
        }
        let mut ow = 0;
        while ow < g.out_w {
            let valid = lanes.min(g.out_w - ow);
            // SAFETY: `S` is available. Reads start at (top + r*dh)*wp + ow*sw + s*dw, inside
            // the padded plane for every valid output; the furthest read, at most `2 * lanes`
            // floats past the last valid output's window (stride 2), lands in the next row or
            // in the slack after the plane. Only `valid` lanes are stored.
            unsafe {
                let mut acc = S::zero();
                for r in 0..g.kh {
                    let row = padded.as_ptr().add((top + r * g.dh) * wp + ow * g.sw);
                    for s in 0..g.kw {
                        let p = row.add(s * g.dw);
                        let x = if g.sw == 1 { S::load(p) } else { S::load_even(p) };
                        acc = S::mul_add(S::splat(filter[r * g.kw + s]), x, acc);
                    }
                }
                let y = epilogue.apply::<S>(acc, oh * g.out_w + ow, valid);
                if valid == lanes {
                    S::store(out_row.as_mut_ptr().add(ow), y);
                } else {
                    S::store_partial(out_row.as_mut_ptr().add(ow), valid, y);
                }
            }
            ow += lanes;
        }
    }
}

/// The flattened plane as a 1-D convolution (module docs), for a K x K filter held in
/// registers, four vectors in flight: `vectors` wide output vectors into `wide`.
///
/// # Safety
/// `S` is available; `tap(r, s) + vectors * lanes` floats are readable for every tap;
/// `wide` holds `vectors * lanes` floats.
#[inline(always)]
unsafe fn flattened<S: Simd, const K: usize>(
    tap: impl Fn(usize, usize) -> *const f32,
    filter: &[f32],
    vectors: usize,
    wide: &mut [f32],
) {
    let lanes = S::LANES;
    debug_assert!(vectors * lanes <= wide.len());
    // SAFETY: `S` is available; reads and writes within the extents of the contract.
    unsafe {
        let mut f = [[S::zero(); K]; K];
        let mut taps = [[core::ptr::null::<f32>(); K]; K];
        for r in 0..K {
            for s in 0..K {
                f[r][s] = S::splat(filter[r * K + s]);
                taps[r][s] = tap(r, s);
            }
        }
        let dst = wide.as_mut_ptr();
        let mut v = 0;
        while v + 4 <= vectors {
            let mut acc = [S::zero(); 4];
            for r in 0..K {
                for s in 0..K {
                    let p = taps[r][s].add(v * lanes);
                    for (i, a) in acc.iter_mut().enumerate() {
                        *a = S::mul_add(f[r][s], S::load(p.add(i * lanes)), *a);
                    }
                }
            }
            for (i, a) in acc.into_iter().enumerate() {
                S::store(dst.add((v + i) * lanes), a);
            }
            v += 4;
        }
        while v < vectors {
            let mut acc = S::zero();
            for r in 0..K {
                for s in 0..K {
                    acc = S::mul_add(f[r][s], S::load(taps[r][s].add(v * lanes)), acc);
                }
            }
            S::store(dst.add(v * lanes), acc);
            v += 1;
        }
    }
}

/// `flattened` for any kernel size: the taps from memory, one vector at a time.
///
/// # Safety
/// As `flattened`, for the geometry's kh x kw kernel.
#[inline(always)]
unsafe fn flattened_any<S: Simd>(
    g: &DepthwiseGeometry,
    tap: impl Fn(usize, usize) -> *const f32,
    filter: &[f32],
    vectors: usize,
    wide: &mut [f32],
) {
    let lanes = S::LANES;
    debug_assert!(vectors * lanes <= wide.len());
    // SAFETY: as in `flattened`.
    unsafe {
        for v in 0..vectors {
            let mut acc = S::zero();
            for r in 0..g.kh {
                for s in 0..g.kw {
                    let x = S::load(tap(r, s).add(v * lanes));
                    acc = S::mul_add(S::splat(filter[r * g.kw + s]), x, acc);
                }
            }
            S::store(wide.as_mut_ptr().add(v * lanes), acc);
        }
    }
}
