//! Depthwise convolution on small maps with the channels across the vector's lanes.
//!
//! On a 7x7 map a plane is 49 floats: a kernel that keeps each plane in its own vectors
//! spends more on per-plane bookkeeping (the copy, the filter, the masks, the epilogue's
//! constants) than on its 36 multiply-adds. Here a vector holds one pixel of `LANES`
//! consecutive channels instead: each channel's filter tap becomes a lane of one weight
//! vector, and every output pixel of the group is `taps` full multiply-adds with no mask.
//!
//! A group of `LANES` channels is turned around on the way in and on the way out
//! ([`Simd::transpose`], `LANES` pixels at a time): the input planes into a pixel-major copy
//! with the padding around it (zeros written once per band), the output pixels back into
//! their planes, the epilogue applied on the way (scale, shift and, without a residual, the
//! activation per pixel vector; the residual and then the activation per channel run). Any
//! stride, padding and dilation is a table of offsets into the padded copy.
//!
//! The filters are packed tap-major (`[taps][channels]`) by the plan, so that a tap's weights
//! for a group of channels are one load.
//!
//! Against the per-plane kernels (`crate::conv::depthwise`), 1 thread (`ferrocnn conv --input
//! 1xCxHxW --out-channels C --kernel K --pad K/2 [--stride 2] --groups C --iters 1000`,
//! medians of 3-5 interleaved rounds, us, before / after): AVX-512 960x7x7 15.8 / 9.8, 5x5
//! 480x7x7 21.3 / 10.1, 576x14x14 22.5 / 22.0, 384x14x14 14.9 / 14.6, 576x14x14 s2 18.5 /
//! 9.8, 5x5 240x14x14 28.7 / 19.3, 5x5 672x14x14 s2 52.3 / 20.0, Xception's 728x19x19 68.6 /
//! 60.8; AVX2 960x7x7 36.2 / 14.8, 576x14x14 54.2 / 32.5, 728x19x19 126 / 83; the portable
//! path 960x7x7 146 / 52.
//!
//! The turn out is this file's own: through `crate::gemm::transposed_store` instead (an
//! interleave of 8 pixel rows, then a masked load and store per channel), 960x7x7 with
//! scale, shift, residual and ReLU6 ran 0.0164 -> 0.0332 ms (1 thread, 3 interleaved rounds).
//!
//! Two things mattered (960x7x7, AVX-512): the channel count and the pixel count as
//! constants in the full groups and blocks (a loop cut at a run-time count left its vectors
//! in memory and tested every lane: 14.4 -> 10.6 us), and the tap offsets in an array of
//! the window's size rather than read from the geometry's slice (14.7 -> 13.8).

use super::depthwise::DepthwiseBand;
use crate::Activation;
use crate::arch::simd::{MAX_LANES, Simd};
use crate::gemm::epilogue::activate;
use crate::shape::Window2d;

/// The largest padded map taken, in pixels: 32 KB of copy at 16 lanes, in L1 beside the
/// rest. Xception's 19x19 maps (441 padded) gain (above); MobileNetV2's 192x28x28 (900) ran
/// 25.3 -> 34.7 us, and a 37x37 map no faster (728 channels, 195 / 197).
const MAX_PADDED: usize = 512;

/// Output pixels computed together: eight chains of multiply-adds in flight.
const BLOCK: usize = 8;

/// The window's offsets into the padded pixel-major copy.
#[derive(Debug, Clone)]
pub(crate) struct ChannelLanes {
    /// Pixels in an output plane: OH * OW.
    outputs: usize,
    /// Pixels in the padded copy: (H + top + bottom) * (W + left + right).
    padded: usize,
    /// Per input pixel, its pixel in the padded copy.
    input_at: Box<[u32]>,
    /// Per output pixel, the padded pixel its window's first tap reads; rounded up to whole
    /// blocks of pixels with zeros (pixels computed and not stored).
    window_at: Box<[u32]>,
    /// Per tap, its offset in padded pixels from the window's first tap.
    tap_at: Box<[u32]>,
}

impl ChannelLanes {
    /// The form of a 3x3 or 5x5 window (any stride, padding, dilation) on a padded map of at
    /// most `MAX_PADDED` pixels; `None` for others.
    pub(crate) fn new(win: &Window2d) -> Option<ChannelLanes> {
        let (hp, wp) = win.padded();
        let outputs = win.out_h * win.out_w;
        let square = matches!((win.kh, win.kw), (3, 3) | (5, 5));
        if !square || outputs == 0 || hp * wp > MAX_PADDED {
            return None;
        }
        let p = win.padding;
        let input_at = (0..win.h * win.w).map(|i| ((i / win.w + p.top) * wp + i % win.w + p.left) as u32).collect();
        let mut window_at = vec![0u32; outputs.next_multiple_of(BLOCK)];
        for (q, at) in window_at.iter_mut().enumerate().take(outputs) {
            *at = ((q / win.out_w) * win.sh * wp + (q % win.out_w) * win.sw) as u32;
        }
        let tap_at =
            (0..win.kh * win.kw).map(|t| ((t / win.kw) * win.dh * wp + (t % win.kw) * win.dw) as u32).collect();
        Some(ChannelLanes { outputs, padded: hp * wp, input_at, window_at: window_at.into(), tap_at })
    }

    /// Taps in the window.
    fn taps(&self) -> usize {
        self.tap_at.len()
    }

    /// Pixels in an input plane.
    fn plane(&self) -> usize {
        self.input_at.len()
    }

    /// Floats of scratch one thread needs, at the widest path's lanes: the padded copy,
    /// and the output pixels before their turn (whole vectors of them: the last turn reads
    /// past the pixels computed, into lanes it does not store).
    pub(crate) fn scratch_len(&self) -> usize {
        (self.padded + self.outputs.next_multiple_of(MAX_LANES)) * MAX_LANES
    }

    /// `weights` (`[channels][taps]`) packed tap-major, `[taps][channels]`.
    pub(crate) fn pack_filters(&self, weights: &[f32]) -> Vec<f32> {
        let taps = self.taps();
        let channels = weights.len() / taps;
        (0..taps * channels).map(|i| weights[(i % channels) * taps + i / channels]).collect()
    }

    /// A band of output planes (`output`, whole planes), `band.filters` packed by
    /// `pack_filters`, with `activation` in place of the band's.
    ///
    /// # Safety
    /// `S` is available with at most `MAX_LANES` lanes; `scratch` holds `scratch_len()`
    /// floats; the band's planes, their input planes, filters, scale, shift and residual
    /// exist (`crate::conv::depthwise::depthwise_band`'s contract).
    #[inline(always)]
    pub(crate) unsafe fn band<S: Simd>(
        &self,
        band: &DepthwiseBand,
        activation: Activation,
        scratch: &mut [f32],
        output: &mut [f32],
    ) {
        // SAFETY: forwarded contract.
        unsafe {
            match self.taps() {
                9 => self.band_of::<S, 9>(band, activation, scratch, output),
                _ => self.band_of::<S, 25>(band, activation, scratch, output),
            }
        }
    }

    /// `band` with the window's taps, `T`, a constant.
    ///
    /// # Safety
    /// As `band`.
    #[inline(always)]
    unsafe fn band_of<S: Simd, const T: usize>(
        &self,
        band: &DepthwiseBand,
        activation: Activation,
        scratch: &mut [f32],
        output: &mut [f32],
    ) {
        // SAFETY: forwarded contract. The residual's channel `i` run of `n` pixels from `q0`
        // lies in the band's residual planes, laid out like `output`.
        unsafe {
            match band.residual {
                None => self.sweep::<S, T>(
                    band,
                    scratch,
                    output,
                    #[inline(always)]
                    |sum, scale, shift| activate::<S>(S::mul_add(sum, scale, shift), activation),
                    |run, _, _, _| run,
                ),
                Some(residual) => self.sweep::<S, T>(
                    band,
                    scratch,
                    output,
                    |sum, scale, shift| S::mul_add(sum, scale, shift),
                    #[inline(always)]
                    |run, i, q0, n| {
                        let r = S::load_n(residual.as_ptr().add(i * self.outputs + q0), n);
                        activate::<S>(S::add(run, r), activation)
                    },
                ),
            }
        }
    }

    /// `band`'s planes in groups of `LANES` channels: `pixel_op(sum, scale, shift)` on each
    /// output pixel vector, `channel_op(run, plane, first pixel, pixels)` on each channel's
    /// run of pixels after the turn.
    ///
    /// # Safety
    /// As `band`.
    #[inline(always)]
    unsafe fn sweep<S: Simd, const T: usize>(
        &self,
        band: &DepthwiseBand,
        scratch: &mut [f32],
        output: &mut [f32],
        pixel_op: impl Fn(S::V, S::V, S::V) -> S::V,
        channel_op: impl Fn(S::V, usize, usize, usize) -> S::V,
    ) {
        let lanes = S::LANES;
        assert!(T == self.taps() && lanes <= MAX_LANES, "the window's taps and the path's lanes");
        assert!(output.len().is_multiple_of(self.outputs), "whole output planes");
        assert!(scratch.len() >= self.scratch_len(), "the band's scratch");
        let planes = output.len() / self.outputs;
        let channels = band.filters.len() / T;
        let (copy, sums) = scratch.split_at_mut(self.padded * MAX_LANES);
        copy.fill(0.0);
        let (copy, sums, dst) = (copy.as_mut_ptr(), sums.as_mut_ptr(), output.as_mut_ptr());
        let taps: [usize; T] = core::array::from_fn(|t| self.tap_at[t] as usize * lanes);
        // SAFETY: `S` is available. Channel `k + l < channels` for `l < group` (the band's
        // planes exist): filters, scale and shift hold `group` floats from `k` at each tap.
        // Input reads are `n` pixels from `p0` of an existing input plane; copy writes land
        // at padded pixels below `padded`; window reads at a window pixel plus a tap offset,
        // inside the padded plane by the window's shape (rounded-up pixels read pixel 0's
        // window); sums hold the output pixels rounded up to vectors; output writes `n` pixels from
        // `q0` of plane `k0 + l < planes`.
        unsafe {
            for k0 in (0..planes).step_by(lanes) {
                let group = lanes.min(planes - k0);
                debug_assert!(band.first + k0 + group <= channels);
                // The common group (all lanes, an input channel an output channel) with its
                // counts constants: tested at run time inside, they cost a compare a lane.
                if group == lanes && band.multiplier == 1 {
                    self.group::<S, T>(band, k0, lanes, true, &taps, [copy, sums, dst], &pixel_op, &channel_op);
                } else {
                    self.group::<S, T>(band, k0, group, false, &taps, [copy, sums, dst], &pixel_op, &channel_op);
                }
            }
        }
    }

    /// Output planes `k0 .. k0 + group` of the band (`one_to_one`: each reads the input
    /// plane of its own index), through `buffers`: the padded copy, the output pixels before
    /// their turn, and the output.
    ///
    /// # Safety
    /// As `sweep`, with `taps` its offsets.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn group<S: Simd, const T: usize>(
        &self,
        band: &DepthwiseBand,
        k0: usize,
        group: usize,
        one_to_one: bool,
        taps: &[usize; T],
        [copy, sums, dst]: [*mut f32; 3],
        pixel_op: &impl Fn(S::V, S::V, S::V) -> S::V,
        channel_op: &impl Fn(S::V, usize, usize, usize) -> S::V,
    ) {
        let (lanes, k) = (S::LANES, band.first + k0);
        let channels = band.filters.len() / T;
        // SAFETY: as in `sweep`.
        unsafe {
            let mut w = [S::zero(); T];
            for (t, w) in w.iter_mut().enumerate() {
                *w = S::load_n(band.filters.as_ptr().add(t * channels + k), group);
            }
            let scale = band.scale.map_or(S::splat(1.0), |s| S::load_n(s.as_ptr().add(k), group));
            let shift = band.shift.map_or(S::zero(), |s| S::load_n(s.as_ptr().add(k), group));
            let plane = self.plane();
            let whole = plane - plane % lanes;
            for p0 in (0..whole).step_by(lanes) {
                self.turn_in::<S>(band, k, group, one_to_one, copy, p0, lanes);
            }
            if whole < plane {
                self.turn_in::<S>(band, k, group, one_to_one, copy, whole, plane - whole);
            }
            for (b, window) in self.window_at.chunks_exact(BLOCK).enumerate() {
                let at: [*const f32; BLOCK] =
                    core::array::from_fn(|j| copy.add(window[j] as usize * lanes).cast_const());
                let mut acc = [S::zero(); BLOCK];
                for (t, &tap) in taps.iter().enumerate() {
                    for (a, &p) in acc.iter_mut().zip(&at) {
                        *a = S::mul_add(w[t], S::load(p.add(tap)), *a);
                    }
                }
                for (j, &a) in acc.iter().enumerate() {
                    S::store(sums.add((b * BLOCK + j) * lanes), pixel_op(a, scale, shift));
                }
            }
            let whole = self.outputs - self.outputs % lanes;
            for q0 in (0..whole).step_by(lanes) {
                self.turn_out::<S>(k0, group, [sums, dst], q0, lanes, channel_op);
            }
            if whole < self.outputs {
                self.turn_out::<S>(k0, group, [sums, dst], whole, self.outputs - whole, channel_op);
            }
        }
    }

    /// Input pixels `p0 .. p0 + n` of the group's planes (channels `k ..`) into the copy,
    /// turned into pixel vectors.
    ///
    /// # Safety
    /// As `group`; `p0 + n` within the plane.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn turn_in<S: Simd>(
        &self,
        band: &DepthwiseBand,
        k: usize,
        group: usize,
        one_to_one: bool,
        copy: *mut f32,
        p0: usize,
        n: usize,
    ) {
        // Loops over whole arrays, the lanes past the counts skipped inside: a loop cut at
        // a run-time count leaves the arrays in memory.
        // SAFETY: as in `sweep`.
        unsafe {
            let mut rows = [S::zero(); MAX_LANES];
            for (l, row) in rows.iter_mut().enumerate() {
                if l < group {
                    let c = if one_to_one { k + l } else { band.input_channel(k + l) };
                    *row = S::load_n(band.input.as_ptr().add(c * self.plane() + p0), n);
                }
            }
            let pixels = S::transpose(rows);
            for (j, &x) in pixels.iter().enumerate() {
                if j < n {
                    S::store(copy.add(self.input_at[p0 + j] as usize * S::LANES), x);
                }
            }
        }
    }

    /// Output pixels `q0 .. q0 + n` of planes `k0 .. k0 + group`, turned from `sums` into
    /// channel runs, through `channel_op`, into the output.
    ///
    /// # Safety
    /// As `group`; `q0 + n` within the plane.
    #[inline(always)]
    unsafe fn turn_out<S: Simd>(
        &self,
        k0: usize,
        group: usize,
        [sums, dst]: [*mut f32; 2],
        q0: usize,
        n: usize,
        channel_op: &impl Fn(S::V, usize, usize, usize) -> S::V,
    ) {
        let lanes = S::LANES;
        // SAFETY: as in `sweep`.
        unsafe {
            let mut pixels = [S::zero(); MAX_LANES];
            for (j, p) in pixels.iter_mut().enumerate() {
                if j < lanes {
                    *p = S::load(sums.add((q0 + j) * lanes));
                }
            }
            let runs = S::transpose(pixels);
            for (l, &run) in runs.iter().enumerate() {
                if l < group {
                    let i = k0 + l;
                    S::store_n(dst.add(i * self.outputs + q0), n, channel_op(run, i, q0, n));
                }
            }
        }
    }
}
