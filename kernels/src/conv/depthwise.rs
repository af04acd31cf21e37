//! Depthwise convolution (groups == input channels, MobileNetV2 and Xception): each output
//! channel convolves one input plane with its own R x S filter.
//!
//! 3x3 and 5x5 windows on maps padded to at most 512 pixels (7x7, 14x14, 19x19) take
//! `crate::conv::channel_lanes`: the channels across the lanes, on every path. What follows
//! is the per-plane kernels the larger maps take.
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
//! centred across, no dilation (MobileNetV2's and Xception's layers), read the plane
//! unpadded (`crate::shifted_plane`; AVX2 and the portable path have no one-instruction
//! masked multiply-add, `Simd::MASKED_OPS`, and keep the flattened plane below): every
//! tap is a load at its offset, shared by the four output vectors stacked below each other
//! that read it, with the taps outside the row masked off the multiply-add. A band of
//! planes runs in one call, its activation a constant, through two alternating copies
//! (see `depthwise_band`). Against the shifted plane before (three loads a vector and its
//! left and right taps lane-shifted from them, a call per plane, the plane convolved
//! straight after its copy), 1 thread (`ferrocnn conv --input 1xCxHxW --out-channels C
//! --kernel 3 --pad 1 --groups C --iters 1000`, medians of five interleaved runs, us):
//! 144x56x56 102 / 84, 32x112x112 87 / 76, 576x14x14 35 / 25, 960x7x7 29 / 16.5.
//! The same windows at stride 2 on an even width (all of MobileNetV2's stride-2 layers)
//! take it too, the copy split into the input's even and odd columns; against the
//! flattened plane's parity planes (same command with `--stride 2`, 5 interleaved runs,
//! us): 144x56x56 69 / 45, 96x112x112 180 / 152, 192x28x28 26.6 / 15.6, 576x14x14 71 / 21.
//!
//! Other 3x3 and 5x5 filters at stride 1, or at stride 2 without dilation, read the plane
//! as one long row (`crate::flat_plane`), so every vector is full whatever the map's width,
//! four vectors in flight, the filter in registers. On a 7x7 map that is 63 computed
//! outputs for 49 instead of 112 (7 rows of a 16-lane vector). Measured, 1 thread, AVX-512
//! (`ferrocnn conv ... --groups C --iters 200`, medians, before / after): 144x56x56 s1
//! 226 / 137 us, s2 104 / 71, 576x14x14 85 / 48, 960x7x7 61 / 44, 96x112x112 s2 284 / 194.
//!
//! Tried (2026-11-25): MobileNetV2's features.2 (1x1 16 -> 96 on 112x112, then this
//! layer at stride 2) run band by band of output rows, each band's expanded rows made into
//! a buffer that stays in L2 and swept from there, composed from plans on the bands' shapes
//! with the bands copied in and out. 1 thread, ms: 0.370 either way. The expansion took
//! 0.235 into the small buffer as into the 4.8 MB map (it is bound by its multiply-adds
//! and stores, not by memory); the depthwise layer read from L2 in 0.108 against 0.139
//! from L3, and the two copies took the 0.025 back. Fused without copies, the most it
//! offers is those 0.03 ms, a per cent of the model.
//!
//! The epilogue (the channel's scale and shift, the activation, a residual) is applied in
//! registers as each output vector is stored, not in a second pass over the plane
//! (144x56x56 s1, 1 thread: 155 -> 133 us; 576x14x14 56 -> 48). The loop shared with
//! pooling (`FlatPlane::sweep`) measured 3-4% slower on 14x14 and 7x7 maps than this file's
//! own copy of it (576x14x14 45.3 -> 46.9 us, 960x7x7 50.0 -> 52.3, medians of five
//! interleaved runs); one loop for both kernels was kept over the 2 us.

use super::channel_lanes::ChannelLanes;
use crate::Activation;
use crate::arch::simd::Simd;
use crate::flat_plane::{FlatPlane, copy_row};
use crate::gemm::epilogue::finish;
use crate::shape::{Conv2dDesc, Conv2dShape, Window2d};
use crate::shifted_plane::ShiftedPlane;
use std::borrow::Cow;

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

/// One thread's band of consecutive output planes, and everything they read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DepthwiseBand<'a> {
    /// The image's input planes, all of them.
    pub input: &'a [f32],
    /// Every output channel's R x S filter.
    pub filters: &'a [f32],
    /// The band's first output channel.
    pub first: usize,
    /// Output channels per input channel.
    pub multiplier: usize,
    /// Per output channel (all of them), when the epilogue has them.
    pub scale: Option<&'a [f32]>,
    pub shift: Option<&'a [f32]>,
    /// The band's residual planes, laid out like its output.
    pub residual: Option<&'a [f32]>,
    pub activation: Activation,
}

impl DepthwiseBand<'_> {
    /// The input channel output channel `k` reads.
    #[inline(always)]
    pub(crate) fn input_channel(&self, k: usize) -> usize {
        // Not a division where the multiplier is 1 (every zoo model's): 1 thread, medians of
        // 7 interleaved rounds, 960x7x7 0.0154 -> 0.0151 ms, 576x14x14 0.0228 -> 0.0222.
        if self.multiplier == 1 { k } else { k / self.multiplier }
    }

    /// Output plane `i` of the band (of `pixels` floats): its input plane (of `plane`
    /// floats), its filter (of `taps`) and its epilogue.
    #[inline(always)]
    fn plane(&self, i: usize, plane: usize, pixels: usize, taps: usize) -> (&[f32], &[f32], PlaneEpilogue<'_>) {
        let k = self.first + i;
        let c = self.input_channel(k);
        let epilogue = PlaneEpilogue {
            scale: self.scale.map_or(1.0, |s| s[k]),
            shift: self.shift.map_or(0.0, |s| s[k]),
            residual: self.residual.map(|r| &r[i * pixels..(i + 1) * pixels]),
            activation: self.activation,
        };
        (&self.input[c * plane..(c + 1) * plane], &self.filters[k * taps..(k + 1) * taps], epilogue)
    }
}

/// The sweeps a geometry takes, each compiled into a shell of its own
/// (`KernelTable::depthwise`). In one shell with all three, the sweeps' loops shared a
/// 5.6 KiB stack frame and reloaded their addresses from it, and the stride-2 sweep's speed
/// moved with unrelated changes elsewhere in the crate (once 144x56x56 s2 0.044 -> 0.053
/// ms for a change to the GEMM driver, not reproduced an hour later). Split, 1 thread,
/// five interleaved rounds, ms, with shift and ReLU6: 144x56x56 s2 0.0435 -> 0.0412,
/// 192x28x28 s2 0.0151 -> 0.0140, 96x112x112 s2 0.142 -> 0.137, 144x56x56 s1 0.0822 ->
/// 0.0809; MobileNetV2 3.78 -> 3.67 (seven rounds, on a slow hour of the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sweep {
    Lanes,
    Shifted,
    /// The flattened plane and the row-by-row kernel, one plane at a time.
    Planes,
}

/// A band of output planes (`output`, whole planes): in groups of channels on small maps
/// (`ChannelLanes`), else each through `depthwise_plane`, or on the shifted path through
/// `ShiftedPlane::each_plane`. `scratch` holds `scratch_len()` floats. `SWEEP` is the
/// geometry's `Sweep` as a number: only that sweep is compiled.
///
/// # Safety
/// `S` is available on this CPU, with at most 16 lanes; `SWEEP` is `g.sweep()`.
#[inline(always)]
pub(crate) unsafe fn depthwise_band<S: Simd, const SWEEP: usize>(
    g: &DepthwiseGeometry,
    band: &DepthwiseBand,
    scratch: &mut [f32],
    output: &mut [f32],
) {
    let win = &g.win;
    let (plane, pixels, taps) = (win.h * win.w, win.out_h * win.out_w, win.kh * win.kw);
    debug_assert_eq!(SWEEP, g.sweep() as usize);
    match &g.path {
        Path::Lanes(lanes) if SWEEP == Sweep::Lanes as usize => band.activation.as_constant(
            #[inline(always)]
            |activation| {
                // SAFETY: forwarded contract; the plan packed the filters for this path.
                unsafe { lanes.band::<S>(band, activation, scratch, output) }
            },
        ),
        // One copy of the loop per activation, each with its activation a constant:
        // matched per vector, it was an indirect jump in the innermost loop. With the
        // activation read from the band instead, 1 thread (`ferrocnn conv ... --groups C
        // --iters 1000`, five interleaved runs, us): 144x56x56 95.5 against 87.4,
        // 576x14x14 28.5 / 25.9, 960x7x7 18.7 / 16.7. Only paths with the masked
        // multiply-add have shifted geometries (`sweep`).
        Path::Shifted(shifted) if SWEEP == Sweep::Shifted as usize && S::MASKED_OPS => band.activation.as_constant(
            #[inline(always)]
            |activation| {
                // SAFETY: forwarded contract.
                unsafe { shifted_band::<S>(shifted, band, activation, scratch, output) }
            },
        ),
        Path::Flat(_) | Path::Rows if SWEEP == Sweep::Planes as usize => {
            for (i, out) in output.chunks_exact_mut(pixels).enumerate() {
                let (input, filter, epilogue) = band.plane(i, plane, pixels, taps);
                // SAFETY: `S` is available with at most 16 lanes; `scratch` holds the
                // geometry's scratch.
                unsafe { depthwise_plane::<S>(g, input, filter, scratch, i == 0, &epilogue, out) };
            }
        }
        _ => unreachable!("a depthwise plan calls the shell of its geometry's sweep"),
    }
}

/// `depthwise_band` on the shifted path, with `activation` in place of the band's.
///
/// # Safety
/// As `depthwise_band`.
#[inline(always)]
unsafe fn shifted_band<S: Simd>(
    shifted: &ShiftedPlane,
    band: &DepthwiseBand,
    activation: Activation,
    scratch: &mut [f32],
    output: &mut [f32],
) {
    let (plane, pixels, taps) = shifted.sizes();
    let planes = output.len() / pixels;
    // SAFETY: `S` is available; `scratch` holds the geometry's scratch; each copy is its
    // plane's.
    unsafe {
        shifted.each_plane::<S>(
            planes,
            #[inline(always)]
            |i| band.plane(i, plane, pixels, taps).0,
            scratch,
            0.0,
            #[inline(always)]
            |i, copy| {
                let (_, filter, epilogue) = band.plane(i, plane, pixels, taps);
                let epilogue = PlaneEpilogue { activation, ..epilogue };
                let out = &mut output[i * pixels..(i + 1) * pixels];
                match taps {
                    9 => sweep_shifted::<S, 3>(shifted, copy, filter, &epilogue, out),
                    _ => sweep_shifted::<S, 5>(shifted, copy, filter, &epilogue, out),
                }
            },
        );
    }
}

/// Floats a stride-2 row vector reads past its first column's window: `2 * lanes`.
const ROW_SLACK: usize = 32;

/// How a plane is swept.
#[derive(Debug, Clone)]
enum Path {
    /// 3x3 and 5x5 windows on small maps: the channels across the lanes.
    Lanes(ChannelLanes),
    /// 3x3 and 5x5 centred across, at stride 1 or at stride 2 on an even width, on paths
    /// with a masked multiply-add.
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
    /// `masked_ops`: the plan's path has a one-instruction masked multiply-add
    /// (`Simd::MASKED_OPS`).
    pub(crate) fn new(d: &Conv2dDesc, s: &Conv2dShape, masked_ops: bool) -> Self {
        let win = d.window(s);
        // The shifted and flattened forms hold the 3x3 and 5x5 filters in registers.
        let square = matches!((win.kh, win.kw), (3, 3) | (5, 5));
        let path = if let Some(lanes) = ChannelLanes::new(&win) {
            Path::Lanes(lanes)
        } else {
            let shifted = if square { ShiftedPlane::new(&win, masked_ops) } else { None };
            match (shifted, square.then(|| FlatPlane::new(&win)).flatten()) {
                (Some(plane), _) => Path::Shifted(plane),
                (None, Some(flat)) => Path::Flat(flat),
                (None, None) => Path::Rows,
            }
        };
        DepthwiseGeometry { win, path }
    }

    /// How many planes longer the first thread's band is than an even share
    /// (`crate::tasks::head_start_planes`): the kernels move about 10 floats a ns on one
    /// core (960x7x7 9.3, 576x14x14 10.4), and on the channels-across-lanes path a band
    /// is best whole vectors of channels (the widest path's).
    pub(crate) fn head_start_planes(&self) -> usize {
        let w = &self.win;
        let group = if let Path::Lanes(_) = self.path { crate::arch::simd::MAX_LANES } else { 1 };
        crate::tasks::head_start_planes(w.h * w.w + w.out_h * w.out_w, 10, group)
    }

    /// Which shell sweeps this geometry's planes.
    pub(crate) fn sweep(&self) -> Sweep {
        match self.path {
            Path::Lanes(_) => Sweep::Lanes,
            Path::Shifted(_) => Sweep::Shifted,
            Path::Flat(_) | Path::Rows => Sweep::Planes,
        }
    }

    /// How planes are swept, for the plan's kernel name.
    pub(crate) fn form(&self) -> &'static str {
        match self.path {
            Path::Lanes(_) => "channels across lanes",
            Path::Shifted(_) => "shifted plane",
            Path::Flat(_) => "flattened plane",
            Path::Rows => "rows",
        }
    }

    /// The filters (`[channels][kh * kw]`) in the order this geometry's kernel reads them:
    /// `weights` themselves but on the channels-across-lanes path.
    pub(crate) fn pack_filters<'w>(&self, weights: &'w [f32]) -> Cow<'w, [f32]> {
        match &self.path {
            Path::Lanes(lanes) => Cow::Owned(lanes.pack_filters(weights)),
            _ => Cow::Borrowed(weights),
        }
    }

    /// Floats of scratch one thread needs: the shifted plane's copy, the flattened
    /// plane's, or the padded plane and its slack for the row path.
    pub(crate) fn scratch_len(&self) -> usize {
        let (hp, wp) = self.win.padded();
        match &self.path {
            Path::Lanes(lanes) => lanes.scratch_len(),
            Path::Shifted(plane) => plane.scratch_len(),
            Path::Flat(flat) => flat.scratch_len(),
            Path::Rows => crate::aligned::round_up(hp * wp + ROW_SLACK + (self.win.kw - 1) * self.win.dw),
        }
    }
}

/// One output plane on the flattened or row path: `input` H x W, `filter` R x S, `output`
/// OH x OW with `epilogue` applied; `padded` holds at least `scratch_len()` floats. `fresh`: the buffer's border must be
/// zeroed (the first plane of a thread's band); later planes overwrite only the interior
/// (144x56x56: 245 -> 228 us; 14x14 and 7x7 maps unchanged within noise).
///
/// # Safety
/// `S` is available on this CPU, with at most 16 lanes.
#[inline(always)]
unsafe fn depthwise_plane<S: Simd>(
    g: &DepthwiseGeometry,
    input: &[f32],
    filter: &[f32],
    padded: &mut [f32],
    fresh: bool,
    epilogue: &PlaneEpilogue,
    output: &mut [f32],
) {
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
/// the vector at each tap, summed. The splats stay `core::array::from_fn` here, unlike
/// `splat_filter`'s loops on the shifted path: with `splat_filter`, 1 thread, five
/// interleaved runs, 5x5 480x7x7 at stride 2 (AVX-512) ran 42.5 -> 64.7 us, and on AVX2
/// 144x56x56 169.5 -> 177.1 and 576x14x14 55.6 -> 60.0.
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
        let w = splat_filter::<S, K>(filter);
        let dst = output.as_mut_ptr();
        debug_assert!(output.len() >= plane.sizes().1);
        plane.sweep_taps::<S, K, true>(
            input,
            S::zero(),
            // The centre column is inside the row wherever the output is.
            #[inline(always)]
            |sum, x, r, s, mask| {
                if s == K / 2 { S::mul_add(w[r][s], x, sum) } else { S::mul_add_masked(w[r][s], x, sum, mask) }
            },
            #[inline(always)]
            |sum, x, r, s| S::mul_add(w[r][s], x, sum),
            #[inline(always)]
            |sum, at, n| {
                let y = epilogue.apply::<S>(sum, at, n);
                S::store_n(dst.add(at), n, y)
            },
        );
    }
}

/// The K x K `filter`'s taps, each splatted across a vector. Loops rather than
/// `core::array::from_fn`, which with the 5x5 filter was left out of line, its splats
/// called through memory once a plane: 480x7x7 5x5, 1 thread, 49.0 us against 22.1.
///
/// # Safety
/// `S` is available; `filter` holds K x K taps.
#[inline(always)]
unsafe fn splat_filter<S: Simd, const K: usize>(filter: &[f32]) -> [[S::V; K]; K] {
    let filter = &filter[..K * K];
    // SAFETY: `S` is available.
    unsafe {
        let mut w = [[S::zero(); K]; K];
        for (r, row) in w.iter_mut().enumerate() {
            for (s, tap) in row.iter_mut().enumerate() {
                *tap = S::splat(filter[r * K + s]);
            }
        }
        w
    }
}
