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
//! At stride 1 the padded plane is read as one long row instead: output `q = oh*wp + ow`
//! is `sum filter[r][s] * padded[q + r*dh*wp + s*dw]`, a 1-D convolution in which every
//! vector is full whatever the map's width, four vectors in flight, the filter in registers
//! for 3x3 and 5x5. The `wp - out_w` columns per row that fall past the output's edge are
//! computed into a wide buffer and dropped as its rows are copied out. On a 7x7 map that
//! is 63 computed outputs for 49 instead of 112 (7 rows of a 16-lane vector).
//! At stride 2 (dilation 1) the padded plane is split into its four (row, column) parity
//! planes as it is copied, so that output `q = oh*wq + ow` reads tap (r, s) at
//! `q + (r/2)*wq + s/2` of plane (r%2, s%2): the same 1-D convolution, with plain loads.
//!
//! The epilogue (the channel's scale and shift, the activation, a residual) is applied in
//! registers as each output vector is stored: no second pass over the plane.

use crate::Activation;
use crate::arch::simd::Simd;
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

/// `dst = src` for a short run, in vectors.
///
/// # Safety
/// `S` is available.
#[inline(always)]
unsafe fn copy_row<S: Simd>(dst: &mut [f32], src: &[f32]) {
    let n = dst.len().min(src.len());
    let mut i = 0;
    // SAFETY: every access is below `n`, within both slices.
    unsafe {
        while i + S::LANES <= n {
            S::store(dst.as_mut_ptr().add(i), S::load(src.as_ptr().add(i)));
            i += S::LANES;
        }
        if i < n {
            S::store_partial(dst.as_mut_ptr().add(i), n - i, S::load_partial(src.as_ptr().add(i), n - i));
        }
    }
}

/// The widest vector of any path: the slack and the wide buffer are sized for it.
const MAX_LANES: usize = 16;

/// The flattened form of a plane (module docs): stride 1 reads one padded plane, stride 2
/// four parity planes, each `rows x pitch` plus slack.
#[derive(Debug, Clone, Copy)]
struct Flat {
    stride: usize,
    pitch: usize,
    /// One (parity) plane with the slack its last vectors read past its end: at most
    /// `lanes + (kw - 1) * dw` floats at stride 1 and `lanes + kw / 2` at stride 2; only
    /// dropped lanes use them.
    plane_len: usize,
}

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
    flat: Option<Flat>,
}

impl DepthwiseGeometry {
    pub(crate) fn new(d: &Conv2dDesc, s: &Conv2dShape) -> Self {
        let p = d.padding;
        let (hp, wp) = (d.in_h + p.top + p.bottom, d.in_w + p.left + p.right);
        let round = crate::aligned::round_up;
        let flat = match (d.stride_h, d.stride_w, d.dilation_h, d.dilation_w) {
            (1, 1, ..) => Some(Flat {
                stride: 1,
                pitch: wp,
                plane_len: round(hp * wp + MAX_LANES + (d.kernel_w - 1) * d.dilation_w),
            }),
            (2, 2, 1, 1) => {
                let (rows, pitch) = (hp.div_ceil(2), wp.div_ceil(2));
                Some(Flat { stride: 2, pitch, plane_len: round(rows * pitch + MAX_LANES + d.kernel_w) })
            }
            _ => None,
        };
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

    /// The padded plane(s) with their slack: a stride-2 row vector reads `2 * lanes`
    /// floats from its first column.
    fn padded_len(&self) -> usize {
        match self.flat {
            Some(f) => f.stride * f.stride * f.plane_len,
            None => crate::aligned::round_up(self.hp * self.wp + 2 * MAX_LANES + (self.kw - 1) * self.dw),
        }
    }

    /// The flattened path's output rows at the plane's pitch, rounded up to whole vectors.
    fn wide_len(&self) -> usize {
        self.flat.map_or(0, |f| crate::aligned::round_up(self.out_h * f.pitch + MAX_LANES))
    }

    /// Floats of scratch one thread needs: the padded plane(s) and the wide output rows.
    pub(crate) fn scratch_len(&self) -> usize {
        self.padded_len() + self.wide_len()
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
    let (padded, wide) = padded[..g.scratch_len()].split_at_mut(g.padded_len());
    if fresh {
        padded.fill(0.0);
    }
    if let Some(f) = g.flat.filter(|f| f.stride == 2) {
        // SAFETY: `S` is available; the four planes fill `padded`.
        unsafe { split_parities::<S>(g, f, input, padded) };
    } else {
        for (row, src) in padded.chunks_exact_mut(wp).skip(g.pt).zip(input.chunks_exact(g.w)) {
            // SAFETY: `S` is available.
            unsafe { copy_row::<S>(&mut row[g.pl..g.pl + g.w], src) };
        }
    }
    let padded = &*padded;
    if let Some(f) = g.flat {
        let base = padded.as_ptr();
        // Tap (r, s)'s first float: in the one plane at stride 1, in parity plane
        // (r%2, s%2) at stride 2.
        let tap = |r: usize, s: usize| -> *const f32 {
            let at = match f.stride {
                1 => r * g.dh * f.pitch + s * g.dw,
                _ => ((r % 2) * 2 + s % 2) * f.plane_len + (r / 2) * f.pitch + s / 2,
            };
            // SAFETY: `at` is inside `padded` for every tap (the plane layout above).
            unsafe { base.add(at) }
        };
        let vectors = (g.out_h * f.pitch).div_ceil(lanes);
        debug_assert!((0..g.kh * g.kw).all(|t| {
            let (r, s) = (t / g.kw, t % g.kw);
            let within = if f.stride == 1 { r * g.dh * f.pitch + s * g.dw } else { (r / 2) * f.pitch + s / 2 };
            within + vectors * lanes <= f.plane_len
        }));
        // SAFETY: `S` is available; vector v of tap (r, s) reads tap(r, s) + v*lanes ..
        // + lanes, at most rows*pitch + lanes + kw floats past its plane's start, within
        // its plane_len (for out_h + (kh-1)*dh = rows at stride 1 and out_h + (kh-1)/2 <=
        // rows at stride 2, with the column offset at most (kw-1)*dw or kw/2); `wide`
        // holds vectors*lanes floats.
        unsafe {
            match (g.kh, g.kw) {
                (3, 3) => flattened::<S, 3>(tap, filter, vectors, wide),
                (5, 5) => flattened::<S, 5>(tap, filter, vectors, wide),
                _ => flattened_any::<S>(g, tap, filter, vectors, wide),
            }
        }
        // The wide rows' first out_w columns, through the epilogue, into the output.
        for (oh, (out_row, wide_row)) in output.chunks_exact_mut(g.out_w).zip(wide.chunks(f.pitch)).enumerate() {
            let mut ow = 0;
            while ow < g.out_w {
                let n = lanes.min(g.out_w - ow);
                // SAFETY: `S` is available; `ow + n <= out_w` within both rows and the
                // plane's residual row.
                unsafe {
                    let (src, dst) = (wide_row.as_ptr().add(ow), out_row.as_mut_ptr().add(ow));
                    let x = if n == lanes { S::load(src) } else { S::load_partial(src, n) };
                    let y = epilogue.apply::<S>(x, oh * g.out_w + ow, n);
                    if n == lanes { S::store(dst, y) } else { S::store_partial(dst, n, y) }
                }
                ow += lanes;
            }
        }
        return;
    }
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

/// Copies the input plane into the four parity planes of the padded plane: padded
/// (row py, column px) goes to plane (py%2, px%2) at (py/2, px/2). Borders stay as they were
/// (zeroed on a band's first plane).
///
/// # Safety
/// `S` is available; `planes` holds four planes of `f.plane_len`.
#[inline(always)]
unsafe fn split_parities<S: Simd>(g: &DepthwiseGeometry, f: Flat, input: &[f32], planes: &mut [f32]) {
    let lanes = S::LANES;
    // Input column x lands at padded column x + pl: evens in parity pl%2 from column pl/2,
    // odds in parity (pl+1)%2 from column (pl+1)/2.
    let (even_parity, even_col) = (g.pl % 2, g.pl / 2);
    let (odd_parity, odd_col) = ((g.pl + 1) % 2, g.pl.div_ceil(2));
    for (y, src) in input.chunks_exact(g.w).enumerate() {
        let py = y + g.pt;
        let row = |parity: usize, col: usize| ((py % 2) * 2 + parity) * f.plane_len + (py / 2) * f.pitch + col;
        let (even, odd) = (row(even_parity, even_col), row(odd_parity, odd_col));
        // SAFETY: `S` is available. Row `py / 2 < rows` of each parity plane holds the row's
        // ceil(w/2) evens from `even_col` and floor(w/2) odds from `odd_col`, within
        // `pitch`; every read is below `w`.
        unsafe {
            let (dst, s) = (planes.as_mut_ptr(), src.as_ptr());
            let mut x = 0;
            while x + 2 * lanes <= g.w {
                let [e, o] = S::deinterleave::<2>([S::load(s.add(x)), S::load(s.add(x + lanes))]);
                S::store(dst.add(even + x / 2), e);
                S::store(dst.add(odd + x / 2), o);
                x += 2 * lanes;
            }
            let rest = g.w - x;
            if rest > lanes {
                // x is even here: the rest's evens and odds, with partial vectors. Up to
                // one vector's worth, scalar moves measured faster (96x112x112 s2: 178 us
                // against 210 with this for its 16-float rest; 144x56x56 s2, a 24-float
                // rest: 66 us against 105 scalar).
                let first = S::load(s.add(x));
                let second = S::load_partial(s.add(x + lanes), rest - lanes);
                let [e, o] = S::deinterleave::<2>([first, second]);
                S::store_partial(dst.add(even + x / 2), rest.div_ceil(2), e);
                S::store_partial(dst.add(odd + x / 2), rest / 2, o);
                x = g.w;
            }
            while x < g.w {
                let at = if x % 2 == 0 { even } else { odd } + x / 2;
                *dst.add(at) = *s.add(x);
                x += 1;
            }
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
