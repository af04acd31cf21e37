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

/// The widest vector of any path: slack and the wide buffer are sized for it.
const MAX_LANES: usize = 16;

/// The geometry of a flattened plane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlatPlane {
    /// The input plane's width, and where it sits in the padded plane.
    w: usize,
    pt: usize,
    pl: usize,
    out_h: usize,
    out_w: usize,
    pub stride: usize,
    dh: usize,
    dw: usize,
    /// Row pitch of the (parity) planes.
    pub pitch: usize,
    /// One (parity) plane with the slack its last vectors read past its end: at most
    /// `lanes + (kw - 1) * dw` floats at stride 1 and `lanes + kw / 2` at stride 2; only
    /// dropped lanes use them.
    plane_len: usize,
}

/// A sliding window: kernel, stride and dilation as (rows, columns), padding as (top, left);
/// the output size decides how far the padded plane extends down and right (ceil mode's
/// windows may reach past the declared padding).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub input: (usize, usize),
    pub output: (usize, usize),
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub dilation: (usize, usize),
    pub pad_top_left: (usize, usize),
}

impl FlatPlane {
    /// The flattened form, for stride 1 (any dilation) and stride 2 (dilation 1); `None`
    /// for other windows.
    pub(crate) fn new(win: &Window) -> Option<FlatPlane> {
        let ((h, w), (out_h, out_w)) = (win.input, win.output);
        let ((kh, kw), (dh, dw), (pt, pl)) = (win.kernel, win.dilation, win.pad_top_left);
        let stride = match (win.stride, win.dilation) {
            ((1, 1), _) => 1,
            ((2, 2), (1, 1)) => 2,
            _ => return None,
        };
        // Every window's rows and columns, and the input itself.
        let hp = ((out_h - 1) * stride + (kh - 1) * dh + 1).max(pt + h);
        let wp = ((out_w - 1) * stride + (kw - 1) * dw + 1).max(pl + w);
        let round = crate::aligned::round_up;
        let (pitch, plane_len) = match stride {
            1 => (wp, round(hp * wp + MAX_LANES + (kw - 1) * dw)),
            _ => (wp.div_ceil(2), round(hp.div_ceil(2) * wp.div_ceil(2) + MAX_LANES + kw)),
        };
        Some(FlatPlane { w, pt, pl, out_h, out_w, stride, dh, dw, pitch, plane_len })
    }

    fn padded_len(&self) -> usize {
        self.stride * self.stride * self.plane_len
    }

    /// Floats of scratch one thread needs: the padded plane(s) and the wide output rows.
    pub(crate) fn scratch_len(&self) -> usize {
        self.padded_len() + crate::aligned::round_up(self.out_h * self.pitch + MAX_LANES)
    }

    /// Wide output vectors of `lanes` floats.
    pub(crate) fn vectors(&self, lanes: usize) -> usize {
        (self.out_h * self.pitch).div_ceil(lanes)
    }

    /// Where tap (r, s) of output 0 is in the padded buffer.
    #[inline(always)]
    pub(crate) fn tap(&self, r: usize, s: usize) -> usize {
        match self.stride {
            1 => r * self.dh * self.pitch + s * self.dw,
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
            for (row, src) in padded.chunks_exact_mut(self.pitch).skip(self.pt).zip(input.chunks_exact(self.w)) {
                // SAFETY: `S` is available.
                unsafe { copy_row::<S>(&mut row[self.pl..self.pl + self.w], src) };
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
        let (lanes, w) = (S::LANES, self.w);
        // Input column x lands at padded column x + pl: evens in parity pl%2 from column
        // pl/2, odds in parity (pl+1)%2 from column (pl+1)/2.
        let (even_parity, even_col) = (self.pl % 2, self.pl / 2);
        let (odd_parity, odd_col) = ((self.pl + 1) % 2, self.pl.div_ceil(2));
        for (y, src) in input.chunks_exact(w).enumerate() {
            let py = y + self.pt;
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
        for (oh, (out_row, wide_row)) in output.chunks_exact_mut(self.out_w).zip(wide.chunks(self.pitch)).enumerate() {
            let mut ow = 0;
            while ow < self.out_w {
                let n = lanes.min(self.out_w - ow);
                // SAFETY: `S` is available; `ow + n <= out_w <= pitch` within both rows.
                unsafe {
                    let (src, dst) = (wide_row.as_ptr().add(ow), out_row.as_mut_ptr().add(ow));
                    let x = if n == lanes { S::load(src) } else { S::load_partial(src, n) };
                    let y = finish(x, oh * self.out_w + ow, n);
                    if n == lanes { S::store(dst, y) } else { S::store_partial(dst, n, y) }
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
