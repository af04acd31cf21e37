//! A sliding window over one plane as a 1-D computation: the plane is copied into a padded
//! buffer and read as one long row, so that every vector of outputs is full whatever the
//! map's width (a 7x7 map fills 16-lane vectors as well as a 112x112 one).
//!
//! At stride 1, output `q = oh*wp + ow` reads tap (r, s) at `q + r*dh*wp + s*dw` of the
//! padded plane (`wp` its padded width). At stride 2 (dilation 1) the padded plane is split
//! into its four (row, column) parity planes as it is copied, so that output
//! `q = oh*wq + ow` reads tap (r, s) at `q + (r/2)*wq + s/2` of plane (r%2, s%2): the same
//! 1-D computation, with plain loads. The `pitch - out_w` columns per row past the output's
//! edge are computed into a wide buffer and dropped as its rows are written out.
//!
//! Depthwise convolution (taps multiplied and added, borders zero) and max pooling (taps
//! compared, borders -inf) both run on it.

use crate::arch::simd::Simd;
use crate::shape::Window2d;

/// The widest vector of any path: slack and the wide buffer are sized for it.
const MAX_LANES: usize = 16;

/// The geometry of a flattened plane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlatPlane {
    win: Window2d,
    /// 1, or 2 with the four parity planes.
    stride: usize,
    /// Row pitch of the (parity) planes.
    pitch: usize,
    /// One (parity) plane with the slack its last vectors read past its end: at most
    /// `lanes + (kw - 1) * dw` floats at stride 1 and `lanes + kw / 2` at stride 2; only
    /// dropped lanes use them.
    plane_len: usize,
}

impl FlatPlane {
    /// The flattened form, for stride 1 (any dilation) and stride 2 (dilation 1); `None`
    /// for other windows. The output size decides how far the padded plane extends down
    /// and right (ceil mode's windows may reach past the declared padding).
    pub(crate) fn new(win: &Window2d) -> Option<FlatPlane> {
        let (pt, pl) = (win.padding.top, win.padding.left);
        let stride = match (win.sh, win.sw, win.dh, win.dw) {
            (1, 1, ..) => 1,
            (2, 2, 1, 1) => 2,
            _ => return None,
        };
        // Every window's rows and columns, and the input itself.
        let hp = ((win.out_h - 1) * stride + (win.kh - 1) * win.dh + 1).max(pt + win.h);
        let wp = ((win.out_w - 1) * stride + (win.kw - 1) * win.dw + 1).max(pl + win.w);
        let round = crate::aligned::round_up;
        let (pitch, plane_len) = match stride {
            1 => (wp, round(hp * wp + MAX_LANES + (win.kw - 1) * win.dw)),
            _ => (wp.div_ceil(2), round(hp.div_ceil(2) * wp.div_ceil(2) + MAX_LANES + win.kw)),
        };
        Some(FlatPlane { win: *win, stride, pitch, plane_len })
    }

    fn padded_len(&self) -> usize {
        self.stride * self.stride * self.plane_len
    }

    /// Floats of scratch one thread needs: the padded plane(s) and the wide output rows.
    pub(crate) fn scratch_len(&self) -> usize {
        self.padded_len() + crate::aligned::round_up(self.win.out_h * self.pitch + MAX_LANES)
    }

    /// Wide output vectors of `lanes` floats.
    pub(crate) fn vectors(&self, lanes: usize) -> usize {
        (self.win.out_h * self.pitch).div_ceil(lanes)
    }

    /// Where tap (r, s) of output 0 is in the padded buffer.
    #[inline(always)]
    pub(crate) fn tap(&self, r: usize, s: usize) -> usize {
        match self.stride {
            1 => r * self.win.dh * self.pitch + s * self.win.dw,
            _ => ((r % 2) * 2 + s % 2) * self.plane_len + (r / 2) * self.pitch + s / 2,
        }
    }

    /// Whether `vectors` vectors from every tap of a kh x kw kernel stay inside their plane
    /// (for debug assertions: the slack's sizing argument, checked).
    pub(crate) fn reads_fit(&self, kernel: (usize, usize), lanes: usize) -> bool {
        let end = self.vectors(lanes) * lanes;
        (0..kernel.0 * kernel.1).all(|t| {
            let (r, s) = (t / kernel.1, t % kernel.1);
            let within = if self.stride == 1 { self.tap(r, s) } else { (r / 2) * self.pitch + s / 2 };
            within + end <= self.plane_len
        })
    }

    /// The wide output vectors, four in flight: each starts at `init` and takes in the
    /// vector at every tap of the window in row-major order, `combine(acc, x, tap)`. The
    /// window is exactly K x K: sizes known at compile time unroll the tap loop and keep
    /// per-tap values (a filter) in registers; read at run time, 3x3 depthwise measured
    /// 15-25% slower, and a tap count without its side 5-10% slower on 7x7 and 14x14 maps
    /// (a division per tap per plane).
    ///
    /// # Safety
    /// `S` is available; `padded` and `wide` are `fill`'s buffers.
    #[inline(always)]
    pub(crate) unsafe fn sweep<S: Simd, const K: usize>(
        &self,
        padded: &[f32],
        wide: &mut [f32],
        init: S::V,
        combine: impl Fn(S::V, S::V, usize) -> S::V,
    ) {
        let lanes = S::LANES;
        assert_eq!((self.win.kh, self.win.kw), (K, K), "the window's size");
        debug_assert!(self.reads_fit((K, K), lanes));
        let vectors = self.vectors(lanes);
        debug_assert!(vectors * lanes <= wide.len());
        // SAFETY: `S` is available. Vector v of tap t reads tap t's offset + v*lanes
        // .. + lanes, inside its plane (the slack's sizing, checked by `reads_fit` in debug
        // builds); writes stay below vectors*lanes <= wide's length.
        unsafe {
            let taps: [[*const f32; K]; K] =
                core::array::from_fn(|r| core::array::from_fn(|s| padded.as_ptr().add(self.tap(r, s))));
            let dst = wide.as_mut_ptr();
            let mut v = 0;
            // Groups of exactly four keep the accumulators in registers (a runtime group
            // size measured 8-15% slower on 3x3 depthwise); the rest one at a time.
            while v + 4 <= vectors {
                let mut acc = [init; 4];
                for (t, tap) in taps.as_flattened().iter().enumerate() {
                    let p = tap.add(v * lanes);
                    for (i, a) in acc.iter_mut().enumerate() {
                        *a = combine(*a, S::load(p.add(i * lanes)), t);
                    }
                }
                for (i, a) in acc.into_iter().enumerate() {
                    S::store(dst.add((v + i) * lanes), a);
                }
                v += 4;
            }
            while v < vectors {
                let mut acc = init;
                for (t, tap) in taps.as_flattened().iter().enumerate() {
                    acc = combine(acc, S::load(tap.add(v * lanes)), t);
                }
                S::store(dst.add(v * lanes), acc);
                v += 1;
            }
        }
    }

    /// Splits `scratch` into the padded buffer, filled from `input` (its border set to
    /// `border` when `fresh`: later planes of the same plan overwrite only the interior),
    /// and the wide output buffer.
    ///
    /// # Safety
    /// `S` is available.
    #[inline(always)]
    pub(crate) unsafe fn fill<'s, S: Simd>(
        &self,
        input: &[f32],
        scratch: &'s mut [f32],
        fresh: bool,
        border: f32,
    ) -> (&'s [f32], &'s mut [f32]) {
        let (padded, wide) = scratch[..self.scratch_len()].split_at_mut(self.padded_len());
        if fresh {
            padded.fill(border);
        }
        if self.stride == 1 {
            let (top, left, w) = (self.win.padding.top, self.win.padding.left, self.win.w);
            for (row, src) in padded.chunks_exact_mut(self.pitch).skip(top).zip(input.chunks_exact(w)) {
                // SAFETY: `S` is available.
                unsafe { copy_row::<S>(&mut row[left..left + w], src) };
            }
        } else {
            // SAFETY: `S` is available; the four planes fill `padded`.
            unsafe { self.split_parities::<S>(input, padded) };
        }
        (padded, wide)
    }

    /// Copies the input plane into the four parity planes: padded (row py, column px) goes
    /// to plane (py%2, px%2) at (py/2, px/2).
    ///
    /// # Safety
    /// `S` is available; `planes` holds the four planes.
    #[inline(always)]
    unsafe fn split_parities<S: Simd>(&self, input: &[f32], planes: &mut [f32]) {
        let (lanes, w) = (S::LANES, self.win.w);
        // Input column x lands at padded column x + pl: evens in parity pl%2 from column
        // pl/2, odds in parity (pl+1)%2 from column (pl+1)/2.
        let pl = self.win.padding.left;
        let (even_parity, even_col) = (pl % 2, pl / 2);
        let (odd_parity, odd_col) = ((pl + 1) % 2, pl.div_ceil(2));
        for (y, src) in input.chunks_exact(w).enumerate() {
            let py = y + self.win.padding.top;
            let row =
                |parity: usize, col: usize| ((py % 2) * 2 + parity) * self.plane_len + (py / 2) * self.pitch + col;
            let (even, odd) = (row(even_parity, even_col), row(odd_parity, odd_col));
            // SAFETY: `S` is available. Row `py / 2` of each parity plane holds the row's
            // ceil(w/2) evens from `even_col` and floor(w/2) odds from `odd_col`, within
            // `pitch`; every read is below `w`.
            unsafe {
                let (dst, s) = (planes.as_mut_ptr(), src.as_ptr());
                let mut x = 0;
                while x + 2 * lanes <= w {
                    let [e, o] = S::deinterleave::<2>([S::load(s.add(x)), S::load(s.add(x + lanes))]);
                    S::store(dst.add(even + x / 2), e);
                    S::store(dst.add(odd + x / 2), o);
                    x += 2 * lanes;
                }
                let rest = w - x;
                if rest > lanes {
                    // x is even here: the rest's evens and odds, with partial vectors. Up
                    // to one vector's worth, scalar moves measured faster (depthwise
                    // 96x112x112 s2: 178 us against 210 with this for its 16-float rest;
                    // 144x56x56 s2, a 24-float rest: 66 us against 105 scalar).
                    let first = S::load(s.add(x));
                    let second = S::load_partial(s.add(x + lanes), rest - lanes);
                    let [e, o] = S::deinterleave::<2>([first, second]);
                    S::store_partial(dst.add(even + x / 2), rest.div_ceil(2), e);
                    S::store_partial(dst.add(odd + x / 2), rest / 2, o);
                    x = w;
                }
                while x < w {
                    let at = if x % 2 == 0 { even } else { odd } + x / 2;
                    *dst.add(at) = *s.add(x);
                    x += 1;
                }
            }
        }
    }

    /// Writes the wide rows' first `out_w` columns into `output` (out_h x out_w), each
    /// vector through `finish(x, index in the output plane, valid lanes)`.
    ///
    /// # Safety
    /// `S` is available; `wide` holds `out_h` rows of `pitch`.
    #[inline(always)]
    pub(crate) unsafe fn write_out<S: Simd>(
        &self,
        wide: &[f32],
        output: &mut [f32],
        finish: impl Fn(S::V, usize, usize) -> S::V,
    ) {
        let lanes = S::LANES;
        for (oh, (out_row, wide_row)) in
            output.chunks_exact_mut(self.win.out_w).zip(wide.chunks(self.pitch)).enumerate()
        {
            let mut ow = 0;
            while ow < self.win.out_w {
                let n = lanes.min(self.win.out_w - ow);
                // SAFETY: `S` is available; `ow + n <= out_w <= pitch` within both rows.
                unsafe {
                    let (src, dst) = (wide_row.as_ptr().add(ow), out_row.as_mut_ptr().add(ow));
                    let y = finish(S::load_n(src, n), oh * self.win.out_w + ow, n);
                    S::store_n(dst, n, y)
                }
                ow += lanes;
            }
        }
    }
}

/// `dst = src` for a short run, in vectors.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn copy_row<S: Simd>(dst: &mut [f32], src: &[f32]) {
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
