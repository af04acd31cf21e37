//! Max and average pooling (NCHW), and global pooling.
//!
//! Per output row, the columns whose window lies wholly inside the input row (the interior)
//! are computed a vector of outputs at a time: at stride 1 each tap is one plain load, at
//! stride 2 one `load_even` (two loads and a deinterleave). The few columns at each border,
//! and the interior's tail, take the scalar path with PyTorch's window rules, so borders
//! cost O(kernel) per row, not a slower kernel; the interior's last vector overlaps the one
//! before it so the tail stays short. Planes are spread over the plan's threads.
//!
//! Max pooling with a NaN in a window: the vector path follows the ISA's `max`, which may
//! drop it; the reference (and PyTorch) propagate it.
//!
//! Max pooling at stride 1, and at stride 2 without dilation, instead reads the plane as
//! one long row (`crate::flat_plane`, borders -inf), so small maps fill whole vectors too:
//! on 14x14 maps, whose 12 interior columns fit no 16-lane vector, every output had taken
//! the scalar path (GoogLeNet's 3x3 s1 pools over 480-528 x 14x14: 0.9 ms each before,
//! 0.05-0.07 ms after, 1 thread, `ferrocnn bench googlenet --threads 1 --per-layer`). On
//! wide maps it is neither faster nor slower: ResNet's 3x3 s2 p1 pool over 64x112x112,
//! 0.23 ms before and after (three interleaved runs of `ferrocnn bench resnet18 --threads 1
//! --per-layer`). Average pooling keeps the row path.
//!
//! On AVX-512, 3x3 max pooling padded 1 across, at stride 1 or at stride 2 on an even
//! width (ResNet's stem pool, GoogLeNet's), takes the shifted plane before that
//! (`crate::shifted_plane`, the depthwise kernel's: each tap one load at its offset from a
//! copy between -inf rows, the columns outside masked off the maximum, the copy split
//! into even and odd columns at stride 2), a band of planes per call through two
//! alternating copies. Against the flattened plane, 1 thread (`ferrocnn pool --input 1xCxHxW
//! --kind max --kernel 3 --stride S --pad 1 --iters 1000`, medians of five interleaved
//! runs, us): 64x112x112 s2 108 / 93 (2 threads 57 / 49), 480x14x14 s1 27.4 / 20.0,
//! 192x28x28 s1 38.0 / 27.7; the band loop alone took VGG's 2x2 s2 over 64x224x224 from
//! 399 to 371.
//!
//! The row path, measured before the flattened one took max pooling's wide maps
//! (64x112x112, 3x3 s2 p1 max, AVX-512, a throwaway timing loop, median of 200): 15.9 GB/s
//! on 1 thread, 31.8 on 2 (input + output bytes); before the overlapped last vector and the
//! arithmetic scalar path, 3.7. Global average over 2048x7x7: 89 GB/s (`global_band`).

use crate::arch::simd::{MAX_LANES, Simd};
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::error::{Result, check_len, checked_product, invalid};
use crate::flat_plane::FlatPlane;
use crate::shape::{Pool2dDesc, Pool2dShape, PoolKind, Window2d};
use crate::shifted_plane::ShiftedPlane;
use crate::tasks::plane_bands;
use rayon::prelude::*;

/// Everything the per-plane kernel needs, derived once.
#[derive(Debug, Clone)]
pub(crate) struct PoolGeometry {
    kind: PoolKind,
    count_include_pad: bool,
    win: Window2d,
    /// Columns `interior.0 .. interior.1` read only inside the row.
    interior: (usize, usize),
    /// Max pooling's flattened form, for the 2x2 and 3x3 windows of the zoo where the
    /// stride allows it.
    flat: Option<FlatPlane>,
    /// Max pooling's shifted form, before the flattened one, on paths with masked maxima.
    shifted: Option<ShiftedPlane>,
}

impl PoolGeometry {
    /// `masked_ops`: the plan's path has one-instruction masked maxima (`Simd::MASKED_OPS`).
    fn new(d: &Pool2dDesc, s: &Pool2dShape, masked_ops: bool) -> Self {
        let win = d.window(s);
        // ow*sw - pl >= 0  and  ow*sw - pl + (kw-1)*dw <= w-1.
        let pl = win.padding.left;
        let lo = pl.div_ceil(win.sw);
        let span = (win.kw - 1) * win.dw;
        let hi = if win.w + pl > span { (win.w - 1 + pl - span) / win.sw + 1 } else { 0 };
        let hi = hi.min(win.out_w);
        let max3 = d.kind == PoolKind::Max && (win.kh, win.kw) == (3, 3);
        PoolGeometry {
            kind: d.kind,
            count_include_pad: d.count_include_pad,
            win,
            interior: (lo.min(hi), hi),
            flat: if d.kind == PoolKind::Max && matches!((win.kh, win.kw), (2, 2) | (3, 3)) {
                FlatPlane::new(&win)
            } else {
                None
            },
            shifted: if max3 { ShiftedPlane::new(&win, masked_ops) } else { None },
        }
    }

    /// Floats of scratch one thread needs: the shifted form's copies, or the flattened
    /// form's buffers (the row path reads the input in place).
    fn scratch_len(&self) -> usize {
        match (&self.shifted, self.flat) {
            (Some(shifted), _) => shifted.scratch_len(),
            (None, flat) => flat.map_or(0, |f| f.scratch_len()),
        }
    }

    /// Output row `oh`'s window: its first padded row and the taps `r0..r1` inside the input.
    #[inline(always)]
    fn row_window(&self, oh: usize) -> (isize, usize, usize) {
        let h0 = (oh * self.win.sh) as isize - self.win.padding.top as isize;
        let (r0, r1) = Self::taps(h0, self.win.dh, self.win.kh, self.win.h);
        (h0, r0, r1)
    }

    /// Output column `ow`'s window, as [`PoolGeometry::row_window`].
    #[inline(always)]
    fn col_window(&self, ow: usize) -> (isize, usize, usize) {
        let w0 = (ow * self.win.sw) as isize - self.win.padding.left as isize;
        let (s0, s1) = Self::taps(w0, self.win.dw, self.win.kw, self.win.w);
        (w0, s0, s1)
    }

    /// What an average divides by along one axis: the window clipped to the padded input
    /// (`count_include_pad`, PyTorch's default) or the taps inside the input.
    #[inline(always)]
    fn counted(&self, start: isize, kernel: usize, extent_padded: usize, inside: (usize, usize)) -> usize {
        if self.count_include_pad {
            ((start + kernel as isize).min(extent_padded as isize) - start).max(0) as usize
        } else {
            inside.1 - inside.0
        }
    }

    /// Taps `t` of a window starting at padded position `start` (stride `step`) that land
    /// inside `0..extent`: the range `first..end` of `t`, computed, not searched.
    #[inline(always)]
    fn taps(start: isize, step: usize, taps: usize, extent: usize) -> (usize, usize) {
        let first = if start >= 0 { 0 } else { ((-start) as usize).div_ceil(step) };
        let last_in = extent as isize - 1 - start; // the largest t*step that stays inside
        let end = if last_in < 0 { 0 } else { (last_in as usize / step + 1).min(taps) };
        (first.min(end), end)
    }

    /// One output by the definition (borders and tails).
    #[inline(always)]
    fn scalar(&self, plane: &[f32], oh: usize, ow: usize) -> f32 {
        let (h0, r0, r1) = self.row_window(oh);
        let (w0, s0, s1) = self.col_window(ow);
        let at = |r: usize, s: usize| {
            plane[(h0 + (r * self.win.dh) as isize) as usize * self.win.w + (w0 + (s * self.win.dw) as isize) as usize]
        };
        match self.kind {
            PoolKind::Max => {
                let mut m = f32::NEG_INFINITY;
                for r in r0..r1 {
                    for s in s0..s1 {
                        let v = at(r, s);
                        if v > m || v.is_nan() {
                            m = v;
                        }
                    }
                }
                m
            }
            PoolKind::Avg => {
                let mut sum = 0.0f32;
                for r in r0..r1 {
                    for s in s0..s1 {
                        sum += at(r, s);
                    }
                }
                let rows = self.counted(h0, self.win.kh, self.win.h + self.win.padding.bottom, (r0, r1));
                let cols = self.counted(w0, self.win.kw, self.win.w + self.win.padding.right, (s0, s1));
                sum / (rows * cols).max(1) as f32
            }
        }
    }
}

/// A band of planes: `input` the band's input planes, `output` its output planes. On the
/// shifted form through `ShiftedPlane::each_plane`; else plane by plane. `scratch` holds the geometry's `scratch_len()`.
///
/// # Safety
/// `S` is available on this CPU.
#[inline(always)]
pub(crate) unsafe fn pool_band<S: Simd>(g: &PoolGeometry, input: &[f32], scratch: &mut [f32], output: &mut [f32]) {
    let (plane, pixels) = (g.win.h * g.win.w, g.win.out_h * g.win.out_w);
    let inputs = input.chunks_exact(plane);
    // Only paths with masked maxima have shifted geometries; on the others the test is a
    // constant and their shells lose that loop.
    let (Some(shifted), true) = (&g.shifted, S::MASKED_OPS) else {
        for (i, (inp, out)) in inputs.zip(output.chunks_exact_mut(pixels)).enumerate() {
            // SAFETY: `S` is available; one whole plane each, and the geometry's scratch.
            unsafe { pool_plane::<S>(g, inp, scratch, i == 0, out) };
        }
        return;
    };
    let low = f32::NEG_INFINITY;
    // SAFETY: `S` is available; `scratch` holds the geometry's scratch; each copy is its
    // plane's, and the sweep hands out `at + n` within the plane's outputs.
    unsafe {
        shifted.each_plane::<S>(
            output.len() / pixels,
            #[inline(always)]
            |i| &input[i * plane..(i + 1) * plane],
            scratch,
            low,
            #[inline(always)]
            |i, copy| {
                let dst = output[i * pixels..(i + 1) * pixels].as_mut_ptr();
                shifted.sweep_taps::<S, 3, false>(
                    copy,
                    S::splat(low),
                    #[inline(always)]
                    |max, x, _, _, mask| S::max_masked(max, x, mask),
                    // Never called (`ZERO_OUTSIDE` false): zeroed lanes would be maxima.
                    #[inline(always)]
                    |_, _, _, _| unreachable!("max pooling masks each maximum"),
                    #[inline(always)]
                    |max, at, n| S::store_n(dst.add(at), n, max),
                );
            },
        );
    }
}

/// One plane: `input` is H x W, `output` OH x OW; `scratch` holds the geometry's
/// `scratch_len()`, `fresh` on a thread's first plane (its borders get set).
///
/// # Safety
/// `S` is available on this CPU.
#[inline(always)]
unsafe fn pool_plane<S: Simd>(g: &PoolGeometry, input: &[f32], scratch: &mut [f32], fresh: bool, output: &mut [f32]) {
    let lanes = S::LANES;
    if let Some(f) = g.flat {
        // SAFETY: `S` is available; `scratch` holds the flat plane's scratch.
        unsafe {
            let max = |acc, x, _| S::max(acc, x);
            let (padded, wide) = f.fill::<S>(input, scratch, fresh, f32::NEG_INFINITY);
            let init = S::splat(f32::NEG_INFINITY);
            match g.win.kh {
                2 => f.sweep::<S, 2>(padded, wide, init, max),
                _ => f.sweep::<S, 3>(padded, wide, init, max),
            }
            f.write_out::<S>(wide, output, |x, _, _| x);
        }
        return;
    }
    let (lo, hi) = g.interior;
    // A vector of outputs from column `ow` reads up to (not including) this input column.
    let extra = if g.win.sw == 2 { 2 * lanes } else { lanes };
    let reads_to = |ow: usize| ow * g.win.sw + (g.win.kw - 1) * g.win.dw + extra - g.win.padding.left;
    let fits = |ow: usize| g.win.sw <= 2 && ow >= lo && ow + lanes <= hi && reads_to(ow) <= g.win.w;
    // The rightmost vector start whose reads stay inside the row.
    let last = ((g.win.w + g.win.padding.left).saturating_sub((g.win.kw - 1) * g.win.dw + extra) / g.win.sw)
        .min(hi.saturating_sub(lanes));
    for oh in 0..g.win.out_h {
        let out_row = &mut output[oh * g.win.out_w..(oh + 1) * g.win.out_w];
        let window = g.row_window(oh);
        // Interior columns have all kw taps inside the input and the padded input alike.
        let reciprocal = 1.0
            / (g.counted(window.0, g.win.kh, g.win.h + g.win.padding.bottom, (window.1, window.2)) * g.win.kw).max(1)
                as f32;
        let mut ow = lo;
        while fits(ow) {
            // SAFETY: `S` is available; `fits` keeps every read inside the row.
            unsafe { pool_vector::<S>(g, input, window, reciprocal, out_row, ow) };
            ow += lanes;
        }
        // One more vector, overlapping the last (it rewrites equal values), so the scalar
        // tail is a column or two rather than up to a vector's worth.
        if ow > lo && last + lanes > ow && fits(last) {
            // SAFETY: as above.
            unsafe { pool_vector::<S>(g, input, window, reciprocal, out_row, last) };
            ow = last + lanes;
        }
        for c in (0..lo).chain(ow..g.win.out_w) {
            out_row[c] = g.scalar(input, oh, c);
        }
    }
}

/// Outputs `ow .. ow + LANES` of one row.
///
/// # Safety
/// `S` is available; the window of every output lies inside the row (`ow >= interior.0`),
/// and the reads from column `ow*sw - pl` stay below `w` (at stride 2, `2 * LANES` floats).
#[inline(always)]
unsafe fn pool_vector<S: Simd>(
    g: &PoolGeometry,
    input: &[f32],
    (h0, r0, r1): (isize, usize, usize),
    reciprocal: f32,
    out_row: &mut [f32],
    ow: usize,
) {
    // SAFETY: the caller's contract bounds every load; taps r0..r1 are rows inside the plane.
    unsafe {
        let mut acc = match g.kind {
            PoolKind::Max => S::splat(f32::NEG_INFINITY),
            PoolKind::Avg => S::zero(),
        };
        for r in r0..r1 {
            let ih = (h0 + (r * g.win.dh) as isize) as usize;
            let row = input[ih * g.win.w..(ih + 1) * g.win.w].as_ptr();
            for s in 0..g.win.kw {
                let p = row.add(ow * g.win.sw - g.win.padding.left + s * g.win.dw);
                let v = if g.win.sw == 1 { S::load(p) } else { S::load_even(p) };
                acc = match g.kind {
                    PoolKind::Max => S::max(acc, v),
                    PoolKind::Avg => S::add(acc, v),
                };
            }
        }
        if g.kind == PoolKind::Avg {
            acc = S::mul(acc, S::splat(reciprocal));
        }
        S::store(out_row[ow..ow + S::LANES].as_mut_ptr(), acc);
    }
}

/// Global average or max of consecutive planes of `hw` floats: `output[p]` of
/// `input[p * hw..(p + 1) * hw]`. Planes `LANES` at a time: each plane's vectors folded
/// into one, the `LANES` vectors turned around (`Simd::transpose`) and folded again, so
/// the result is one vector of `LANES` planes' values, stored at once. 2048x7x7 on 1
/// thread: 4.6 us (89 GB/s from L2) against 5.8-6.1 one plane at a time, each ended by a
/// reduction across its vector's lanes and called through the dispatch table.
///
/// # Safety
/// `S` is available on this CPU; `input` holds `output.len() * hw` floats.
#[inline(always)]
pub(crate) unsafe fn global_band<S: Simd>(kind: PoolKind, input: &[f32], hw: usize, output: &mut [f32]) {
    let (lanes, planes) = (S::LANES, output.len());
    assert!(lanes <= MAX_LANES && input.len() >= planes * hw, "the band's planes");
    let mut p = 0;
    if hw >= lanes {
        // SAFETY: `S` is available; plane `p + l < planes` lies within `input` (asserted)
        // and holds a whole vector; the store writes `lanes` outputs from `p`, `p + lanes
        // <= planes`.
        unsafe {
            while p + lanes <= planes {
                let mut folded = [S::zero(); MAX_LANES];
                for (l, v) in folded.iter_mut().enumerate().take(lanes) {
                    *v = plane_vector::<S>(kind, input.as_ptr().add((p + l) * hw), hw);
                }
                let turned = S::transpose(folded);
                let mut acc = turned[0];
                for &t in &turned[1..lanes] {
                    acc = fold::<S>(kind, acc, t);
                }
                if kind == PoolKind::Avg {
                    acc = S::div(acc, S::splat(hw as f32));
                }
                S::store(output.as_mut_ptr().add(p), acc);
                p += lanes;
            }
        }
    }
    for (q, out) in output.iter_mut().enumerate().skip(p) {
        // SAFETY: `S` is available.
        *out = unsafe { global_plane::<S>(kind, &input[q * hw..(q + 1) * hw]) };
    }
}

/// Global average or max of one plane.
///
/// # Safety
/// `S` is available on this CPU.
#[inline(always)]
pub(crate) unsafe fn global_plane<S: Simd>(kind: PoolKind, plane: &[f32]) -> f32 {
    if plane.len() < S::LANES {
        return match kind {
            PoolKind::Max => plane.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            PoolKind::Avg => plane.iter().sum::<f32>() / plane.len() as f32,
        };
    }
    // SAFETY: `S` is available; the plane holds a whole vector.
    unsafe {
        let v = plane_vector::<S>(kind, plane.as_ptr(), plane.len());
        match kind {
            PoolKind::Max => S::reduce_max(v),
            PoolKind::Avg => S::reduce_add(v) / plane.len() as f32,
        }
    }
}

/// The plane of `hw >= S::LANES` floats at `at0` folded into one vector: the lanes' maxima
/// or sums. A maximum's last vector may overlap the one before it (lanes counted twice
/// change nothing); a sum's is a partial load. A pointer, not a slice: with a slice per
/// plane (its bounds checked in the loop over a group's planes) 2048x7x7 ran 5.1-5.2 us
/// against 4.5-4.6 (1 thread).
///
/// # Safety
/// `S` is available; `at0` is readable for `hw >= S::LANES` floats.
#[inline(always)]
unsafe fn plane_vector<S: Simd>(kind: PoolKind, at0: *const f32, hw: usize) -> S::V {
    let lanes = S::LANES;
    debug_assert!(hw >= lanes);
    // SAFETY: every load lies inside the plane, which holds a whole vector.
    unsafe {
        let mut acc = S::load(at0);
        let mut at = lanes;
        while at + lanes <= hw {
            acc = fold::<S>(kind, acc, S::load(at0.add(at)));
            at += lanes;
        }
        if at < hw {
            let last = match kind {
                PoolKind::Max => S::load(at0.add(hw - lanes)),
                PoolKind::Avg => S::load_partial(at0.add(at), hw - at),
            };
            acc = fold::<S>(kind, acc, last);
        }
        acc
    }
}

/// The larger, or the sum, of two vectors.
///
/// # Safety
/// `S` is available.
#[inline(always)]
unsafe fn fold<S: Simd>(kind: PoolKind, a: S::V, b: S::V) -> S::V {
    // SAFETY: `S` is available (this function's contract).
    unsafe {
        match kind {
            PoolKind::Max => S::max(a, b),
            PoolKind::Avg => S::add(a, b),
        }
    }
}

/// Max or average pooling, planned once.
pub struct Pool2d {
    desc: Pool2dDesc,
    shape: Pool2dShape,
    geometry: PoolGeometry,
    threads: usize,
    kernels: &'static KernelTable,
}

impl Pool2d {
    pub fn new(desc: &Pool2dDesc, options: PlanOptions) -> Result<Pool2d> {
        let shape = desc.validate()?;
        let kernels = table(options.isa)?;
        let geometry = PoolGeometry::new(desc, &shape, kernels.masked_ops);
        Ok(Pool2d { desc: *desc, shape, geometry, threads: options.threads.max(1), kernels })
    }

    /// Floats of scratch `run` needs (0 for the paths that read the input in place).
    pub fn scratch_len(&self) -> usize {
        match self.geometry.scratch_len() {
            0 => 0,
            per_thread => crate::aligned::ALIGN_FLOATS + self.threads * per_thread,
        }
    }

    pub fn shape(&self) -> &Pool2dShape {
        &self.shape
    }

    /// Pools `input` (N x C x H x W) into `output` (N x C x OH x OW), with at least
    /// `scratch_len()` floats of `scratch`. Allocates nothing.
    pub fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut [f32]) -> Result<()> {
        check_len("input", input.len(), self.shape.input_len)?;
        check_len("output", output.len(), self.shape.output_len)?;
        if scratch.len() < self.scratch_len() {
            return invalid!("pool2d: `scratch` has {} floats, the plan needs {}", scratch.len(), self.scratch_len());
        }
        let (in_plane, out_plane) = (self.desc.in_h * self.desc.in_w, self.shape.out_h * self.shape.out_w);
        let (kernel, g) = (self.kernels.pool_band, &self.geometry);
        let scratch = crate::aligned::align_scratch(scratch);
        // Max pooling 3x3 s2 moves about 11 floats a ns on one core (64x112x112: 87 us).
        let lead = crate::tasks::head_start_planes(in_plane + out_plane, 11, 1);
        plane_bands(output, out_plane, self.threads, scratch, g.scratch_len(), lead, |first, planes, buffer| {
            let inp = &input[first * in_plane..(first + planes.len() / out_plane) * in_plane];
            // SAFETY: the table passed the CPU check; the band's whole planes, in and out,
            // and its scratch of the geometry's length.
            unsafe { kernel(g, inp, buffer, planes) };
        });
        Ok(())
    }
}

/// Global average or max pooling: N x C x H x W -> N x C.
pub struct GlobalPool2d {
    kind: PoolKind,
    planes: usize,
    hw: usize,
    kernels: &'static KernelTable,
    /// Threads the planes are split over: the plan's, fewer where a thread would get less
    /// than a task's worth (`crate::tasks::MIN_TASK_FLOATS`).
    threads: usize,
}

impl GlobalPool2d {
    pub fn new(kind: PoolKind, batch: usize, channels: usize, hw: usize, options: PlanOptions) -> Result<Self> {
        if hw == 0 {
            return invalid!("global_pool2d: `hw` is 0, the spatial size must be at least 1");
        }
        let planes = checked_product("global_pool2d N*C", &[batch, channels])?;
        let floats = checked_product("global_pool2d input N*C*H*W", &[planes, hw])?;
        let threads = options.threads.min(floats.div_ceil(crate::tasks::MIN_TASK_FLOATS)).max(1);
        Ok(GlobalPool2d { kind, planes, hw, kernels: table(options.isa)?, threads })
    }

    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<()> {
        check_len("input", input.len(), self.planes * self.hw)?;
        check_len("output", output.len(), self.planes)?;
        let (kernel, kind, hw) = (self.kernels.global_pool, self.kind, self.hw);
        // Each output is a plane of one float. Global averages and maxima run at about 22
        // floats a ns on one core (2048x7x7: 4.6 us), so the first of two bands takes about
        // 220 planes more.
        let lead = crate::tasks::head_start_planes(hw + 1, 22, 1);
        plane_bands(output, 1, self.threads, &mut [], 0, lead, |first, band, _| {
            let planes = &input[first * hw..(first + band.len()) * hw];
            // SAFETY: the table passed the CPU check; `planes` holds the band's planes.
            unsafe { kernel(kind, planes, hw, band) };
        });
        Ok(())
    }
}

/// PyTorch's adaptive average pooling: output cell (i, j) averages input rows
/// floor(i*H/OH) .. ceil((i+1)*H/OH) and the same for columns. Windows differ from cell to
/// cell, so no vector spans outputs; each window's rows are contiguous slice sums the
/// compiler vectorises (baseline SIMD, no runtime dispatch), and planes run in parallel.
/// It runs once per network, before the classifier (AlexNet 7x7 -> 6x6, VGG 7x7 -> 7x7).
pub struct AdaptiveAvgPool2d {
    planes: usize,
    input: (usize, usize),
    output: (usize, usize),
}

impl AdaptiveAvgPool2d {
    pub fn new(batch: usize, channels: usize, input: (usize, usize), output: (usize, usize)) -> Result<Self> {
        for (field, v) in [("in_h", input.0), ("in_w", input.1), ("out_h", output.0), ("out_w", output.1)] {
            if v == 0 {
                return invalid!("adaptive_avg_pool2d: `{field}` is 0, it must be at least 1");
            }
        }
        let planes = checked_product("adaptive_avg_pool2d N*C", &[batch, channels])?;
        checked_product("adaptive_avg_pool2d input", &[planes, input.0, input.1])?;
        checked_product("adaptive_avg_pool2d output", &[planes, output.0, output.1])?;
        Ok(AdaptiveAvgPool2d { planes, input, output })
    }

    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<()> {
        let ((h, w), (oh, ow)) = (self.input, self.output);
        check_len("input", input.len(), self.planes * h * w)?;
        check_len("output", output.len(), self.planes * oh * ow)?;
        output
            .par_chunks_mut(oh * ow)
            .zip(input.par_chunks(h * w))
            .with_min_len(crate::tasks::units_per_task(h * w))
            .for_each(|(out, plane)| {
                for i in 0..oh {
                    let (h0, h1) = (i * h / oh, ((i + 1) * h).div_ceil(oh));
                    for j in 0..ow {
                        let (w0, w1) = (j * w / ow, ((j + 1) * w).div_ceil(ow));
                        let sum: f32 = (h0..h1).map(|r| plane[r * w + w0..r * w + w1].iter().sum::<f32>()).sum();
                        out[i * ow + j] = sum / ((h1 - h0) * (w1 - w0)) as f32;
                    }
                }
            });
        Ok(())
    }
}
