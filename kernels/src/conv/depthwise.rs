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
//! This row-by-row path is what other strides, stride 2 with dilation, and filters other
//! than 3x3 and 5x5 take.
//!
//! On AVX-512, 3x3 and 5x5 filters at stride 1 with the output as wide as the input,
//! centred across (MobileNetV2's and Xception's layers), read the plane unpadded
//! (`crate::shifted_plane`; AVX2 and the portable path lack the one-instruction shifts it
//! needs and keep the flattened plane, `Simd::LANE_SHIFTS`):
//! each tap row's vectors are loaded once and the left and right taps are lane shifts of
//! them, so a vector costs three loads instead of nine and there is no wide buffer to write
//! out. Against the flattened plane below, 1 thread, AVX-512 (`ferrocnn conv --input
//! 1xCxHxW --out-channels C --kernel 3 --pad 1 --groups C --iters 500`, medians of three
//! interleaved runs, us): 144x56x56 132 / 101, 32x112x112 113 / 86, 192x28x28 46 / 35.5,
//! 384x14x14 28.0 / 21.5, 576x14x14 43.6 / 33.4, 960x7x7 47.7 / 27.9.
//!
//! Other 3x3 and 5x5 filters at stride 1, or at stride 2 without dilation, read the plane
//! as one long row (`crate::flat_plane`), so every vector is full whatever the map's width,
//! four vectors in flight, the filter in registers. On a 7x7 map that is 63 computed
//! outputs for 49 instead of 112 (7 rows of a 16-lane vector). Measured, 1 thread, AVX-512
//! (`ferrocnn conv ... --groups C --iters 200`, medians, before / after): 144x56x56 s1
//! 226 / 137 us, s2 104 / 71, 576x14x14 85 / 48, 960x7x7 61 / 44, 96x112x112 s2 284 / 194.
//!
//! The epilogue (the channel's scale and shift, the activation, a residual) is applied in
//! registers as each output vector is stored, not in a second pass over the plane
//! (144x56x56 s1, 1 thread: 155 -> 133 us; 576x14x14 56 -> 48). The loop shared with
//! pooling (`FlatPlane::sweep`) measured 3-4% slower on 14x14 and 7x7 maps than this file's
//! own copy of it (576x14x14 45.3 -> 46.9 us, 960x7x7 50.0 -> 52.3, medians of five
//! interleaved runs); one loop for both kernels was kept over the 2 us.

use crate::Activation;
use crate::arch::simd::Simd;
use crate::flat_plane::{FlatPlane, copy_row};
use crate::gemm::epilogue::finish;
use crate::shape::{Conv2dDesc, Conv2dShape, Window2d};
use crate::shifted_plane::ShiftedPlane;

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
            let residual = self.residual.map_or(core::ptr::null(), |r| {
                debug_assert!(at + n <= r.len());
                r.as_ptr().add(at)
            });
            finish::<S>(x, S::splat(self.scale), S::splat(self.shift), residual, n, self.activation)
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

/// How a plane is swept.
#[derive(Debug, Clone)]
enum Path {
    /// 3x3 and 5x5 at stride 1, centred across, on paths with cheap lane shifts.
    Shifted(ShiftedPlane),
    /// Other 3x3 and 5x5 windows at stride 1, or at stride 2 without dilation.
    Flat(FlatPlane),
    /// Row by row: other filters and strides, stride 2 with dilation.
    Rows,
}

/// Everything the per-plane kernel needs, derived once.
#[derive(Debug, Clone)]
pub(crate) struct DepthwiseGeometry {
    win: Window2d,
    path: Path,
}

impl DepthwiseGeometry {
    /// `lane_shifts`: the plan's path has cheap lane shifts (`Simd::LANE_SHIFTS`).
    pub(crate) fn new(d: &Conv2dDesc, s: &Conv2dShape, lane_shifts: bool) -> Self {
        let win = d.window(s);
        // The shifted and flattened forms hold the 3x3 and 5x5 filters in registers.
        let square = matches!((win.kh, win.kw), (3, 3) | (5, 5));
        let shifted = if square && lane_shifts { ShiftedPlane::new(&win) } else { None };
        let path = match (shifted, square.then(|| FlatPlane::new(&win)).flatten()) {
            (Some(plane), _) => Path::Shifted(plane),
            (None, Some(flat)) => Path::Flat(flat),
            (None, None) => Path::Rows,
        };
        DepthwiseGeometry { win, path }
    }

    /// Floats of scratch one thread needs: the shifted plane's copy, the flattened
    /// plane's, or the padded plane and its slack for the row path.
    pub(crate) fn scratch_len(&self) -> usize {
        let (hp, wp) = self.win.padded();
        match &self.path {
            Path::Shifted(plane) => plane.scratch_len(),
            Path::Flat(flat) => flat.scratch_len(),
            Path::Rows => crate::aligned::round_up(hp * wp + ROW_SLACK + (self.win.kw - 1) * self.win.dw),
        }
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
    if let Path::Shifted(plane) = &g.path {
        // The copy is made before the filter is splatted into registers: copied between the
        // splats and the sweep, 144x56x56 ran 99.8 -> 118 us and 960x7x7 28.3 -> 32.1
        // (1 thread, interleaved medians).
        // SAFETY: `S` is available with at most 16 lanes (this function's contract);
        // `input` is the window's plane and `padded` holds the plane's scratch.
        unsafe {
            match g.win.kh {
                3 => sweep_shifted::<S, 3>(plane, plane.fill::<S>(input, padded, fresh), filter, epilogue, output),
                _ => sweep_shifted::<S, 5>(plane, plane.fill::<S>(input, padded, fresh), filter, epilogue, output),
            }
        }
        return;
    }
    let flat = if let Path::Flat(flat) = g.path { Some(flat) } else { None };
    let (scratch_len, g) = (g.scratch_len(), &g.win);
    let ((_, wp), lanes) = (g.padded(), S::LANES);
    if let Some(f) = flat {
        // SAFETY: `S` is available (this function's contract); `padded` holds the flat
        // plane's scratch.
        unsafe {
            let (padded, wide) = f.fill::<S>(input, padded, fresh, 0.0);
            match g.kh {
                3 => sweep_filter::<S, 3>(&f, padded, filter, wide),
                _ => sweep_filter::<S, 5>(&f, padded, filter, wide),
            }
            f.write_out::<S>(wide, output, |x, at, n| epilogue.apply::<S>(x, at, n));
        }
        return;
    }
    let padded = &mut padded[..scratch_len];
    if fresh {
        padded.fill(0.0);
    }
    for (row, src) in padded.chunks_exact_mut(wp).skip(g.padding.top).zip(input.chunks_exact(g.w)) {
        // SAFETY: `S` is available.
        unsafe { copy_row::<S>(&mut row[g.padding.left..g.padding.left + g.w], src) };
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

/// The flattened plane's depthwise convolution: the filter's taps, splatted once, times
/// the vector at each tap, summed.
///
/// # Safety
/// `S` is available; `padded` and `wide` are `f.fill`'s buffers; the window and `filter`
/// are K x K.
#[inline(always)]
unsafe fn sweep_filter<S: Simd, const K: usize>(f: &FlatPlane, padded: &[f32], filter: &[f32], wide: &mut [f32]) {
    // SAFETY: `S` is available; the buffers are the caller's contract.
    unsafe {
        let w: [[S::V; K]; K] = core::array::from_fn(|r| core::array::from_fn(|s| S::splat(filter[r * K + s])));
        f.sweep::<S, K>(padded, wide, S::zero(), |acc, x, t| S::mul_add(w.as_flattened()[t], x, acc));
    }
}

/// The shifted plane's depthwise convolution, each output vector finished and stored as it
/// leaves the registers.
///
/// # Safety
/// `S` is available with at most 16 lanes; `input` is the plane's input, `output` its output
/// and `filter` K x K.
#[inline(always)]
unsafe fn sweep_shifted<S: Simd, const K: usize>(
    plane: &ShiftedPlane,
    input: &[f32],
    filter: &[f32],
    epilogue: &PlaneEpilogue,
    output: &mut [f32],
) {
    // SAFETY: `S` is available; `input` is the plane's (the caller's contract). The sweep
    // hands out `at + n` within the plane's outputs, which `output` holds.
    unsafe {
        let w: [[S::V; K]; K] = core::array::from_fn(|r| core::array::from_fn(|s| S::splat(filter[r * K + s])));
        let dst = output.as_mut_ptr();
        debug_assert!(output.len() >= plane.outputs());
        plane.convolve::<S, K>(
            input,
            &w,
            #[inline(always)]
            |sum, at, n| {
                let y = epilogue.apply::<S>(sum, at, n);
                if n == S::LANES { S::store(dst.add(at), y) } else { S::store_partial(dst.add(at), n, y) }
            },
        );
    }
}
