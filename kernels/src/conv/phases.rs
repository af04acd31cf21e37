//! im2col panels packed from the image split into its stride phases.
//!
//! Packed straight from the image, each panel row is a gather with bounds checks against
//! the padding, strided when the conv is — at the ResNet stem (7x7, stride 2, 1.8M im2col
//! elements per run) half the run went there. Instead, each run first copies
//! the image, zero-padded, into S_h x S_w phase planes ("space to depth"):
//!
//! ```text
//! phase (a, b) of channel c:  P[c][a][b][i][j] = padded[c][S_h*i + a][S_w*j + b]
//! ```
//!
//! Only the phases some tap reads are stored: a 1x1 stride-2 layer reads one of four.
//!
//! Tap k = (c, r, s) of output pixel (oh, ow) reads padded row S_h*oh + r*d_h, i.e. phase
//! a = (r*d_h) mod S_h, row oh + (r*d_h) div S_h — and likewise for columns — so
//!
//! ```text
//! im2col[k][(oh, ow)] = P[offsets[k] + oh*wq + ow]
//! ```
//!
//! contiguous along ow: every panel row is one or two plain copies, and the gather runs once
//! per input element (150K at the stem) instead of once per im2col element. With stride 1
//! there is one phase, and the split is just the zero-padded copy (VGG conv1_2: +15%).

use crate::aligned::round_up;
use crate::gemm::in_place::{KRowOffsets, VectorBases};
use crate::gemm::pack::{PanelSource, copy_run, zero_run};
use crate::shape::{Conv2dDesc, Conv2dShape};
use rayon::prelude::*;

/// Runs a panel has at most: one per pixel when OW = 1, and panels are at most 64 wide.
pub(crate) const MAX_RUNS: usize = 64;

/// The phase layout of one conv: tap offsets and plane sizes.
pub(crate) struct Phases {
    offsets: KRowOffsets,
    /// The phases (a, b) some tap reads, in the order their planes are stored: only those
    /// are copied. A 1x1 stride-2 layer (ResNet's downsampling) reads one of four: 1 thread,
    /// 5 interleaved rounds, 256x56x56 -> 512 1.124 -> 0.906 ms, 64x56x56 -> 128 0.124 ->
    /// 0.072.
    read: Vec<(usize, usize)>,
    /// Rows and columns of one phase plane: ceil(padded extent / stride).
    hq: usize,
    wq: usize,
    /// Where each vector of output pixels starts in a plane, where the output rows are
    /// whole vectors of the plan's lanes (`gemm::in_place::OffsetRows`).
    vector_bases: Option<VectorBases>,
}

impl Phases {
    /// `lanes`: the plan's vector width.
    pub(crate) fn new(d: &Conv2dDesc, s: &Conv2dShape, lanes: usize) -> Phases {
        let p = d.padding;
        let (sh, sw) = (d.stride_h, d.stride_w);
        let hq = (d.in_h + p.top + p.bottom).div_ceil(sh);
        let wq = (d.in_w + p.left + p.right).div_ceil(sw);
        // Taps form a grid, so the phases read are the row phases read by the column ones.
        let used = |stride: usize, taps: usize, dilation: usize| {
            (0..stride).filter(move |&phase| (0..taps).any(|t| t * dilation % stride == phase))
        };
        let read: Vec<(usize, usize)> = used(sh, d.kernel_h, d.dilation_h)
            .flat_map(|a| used(sw, d.kernel_w, d.dilation_w).map(move |b| (a, b)))
            .collect();
        let slot = |a: usize, b: usize| read.iter().position(|&p| p == (a, b)).expect("a phase a tap reads");
        let mut offsets = Vec::with_capacity(s.reduction);
        for c in 0..s.group_in_channels {
            for r in 0..d.kernel_h {
                let (a, row) = ((r * d.dilation_h) % sh, (r * d.dilation_h) / sh);
                for q in 0..d.kernel_w {
                    let (b, col) = ((q * d.dilation_w) % sw, (q * d.dilation_w) / sw);
                    offsets.push(((c * read.len() + slot(a, b)) * hq + row) * wq + col);
                }
            }
        }
        let vector_bases = VectorBases::new(s.out_w, wq, s.out_h * s.out_w, lanes);
        Phases { offsets: KRowOffsets::new(offsets), read, hq, wq, vector_bases }
    }

    /// Where each tap k = (c, r, s) starts reading: `im2col[k][(oh, ow)] = P[offsets[k] +
    /// oh * row_stride + ow]`.
    pub(crate) fn offsets(&self) -> &KRowOffsets {
        &self.offsets
    }

    pub(crate) fn vector_bases(&self) -> Option<&VectorBases> {
        self.vector_bases.as_ref()
    }

    /// Floats of scratch for `channels` channels of phase planes.
    pub(crate) fn scratch_len(&self, channels: usize) -> usize {
        round_up(channels * self.read.len() * self.hq * self.wq)
    }

    /// Splits `image` (C/g x H x W) into `dst`, channel planes in parallel on the current
    /// pool, each by `split_channel` (`KernelTable::phase_split`: [`split_channel`] compiled
    /// for the plan's path).
    pub(crate) fn split<'a>(
        &self,
        d: &Conv2dDesc,
        image: &[f32],
        dst: &'a mut [f32],
        split_channel: PhaseSplitFn,
    ) -> &'a [f32] {
        let (h, w) = (d.in_h, d.in_w);
        let per_channel = self.read.len() * self.hq * self.wq;
        let dst = &mut dst[..image.len() / (h * w) * per_channel];
        let per_task = crate::tasks::units_per_task(per_channel);
        dst.par_chunks_mut(per_channel).zip(image.par_chunks(h * w)).with_min_len(per_task).for_each(
            // SAFETY: the table's function belongs to a path this CPU runs; `planes` holds
            // one channel's phase planes and `src` its H x W plane.
            |(planes, src)| unsafe { split_channel(self, d, src, planes) },
        );
        dst
    }
}

/// `(phases, desc, one channel's plane, its phase planes)`: [`split_channel`].
pub(crate) type PhaseSplitFn = unsafe fn(&Phases, &Conv2dDesc, &[f32], &mut [f32]);

/// One channel's phase planes. Compiled into each path's shell (`phase_split`): in the
/// crate's baseline build its stride-2 gather moved 16 bytes at a time. 1 thread, five
/// interleaved rounds, ms: MobileNetV2's stem (3x224x224 -> 32, 3x3 s2, shift and ReLU6)
/// 0.132-0.134 -> 0.124-0.126; the ResNet stem (7x7 s2) 0.947-0.969 -> 0.944-0.963 and
/// AlexNet's conv1 (11x11 s4, the general loop) 0.592-0.610 / 0.594-0.609, the same.
#[inline(always)]
pub(crate) fn split_channel(phases: &Phases, d: &Conv2dDesc, src: &[f32], planes: &mut [f32]) {
    let (h, w, sh, sw, hq, wq) = (d.in_h, d.in_w, d.stride_h, d.stride_w, phases.hq, phases.wq);
    let (pt, pl) = (d.padding.top, d.padding.left);
    for (plane, &(a, b)) in planes.chunks_exact_mut(hq * wq).zip(&phases.read) {
        for (i, out) in plane.chunks_exact_mut(wq).enumerate() {
            // Padded row sh*i + a is input row sh*i + a - pt, if that exists.
            match (sh * i + a).checked_sub(pt).filter(|&ih| ih < h) {
                None => zero_run(out),
                Some(ih) => split_row(&src[ih * w..(ih + 1) * w], out, sw, b, pl),
            }
        }
    }
}

/// Column phase `b` of a padded row: `out[j] = padded[sw*j + b]`, the padded row being
/// `pad` zeros, `row`, then zeros. The columns inside `row` are found once, not tested per
/// element: per element, the test and the gather took a third of MobileNetV2's stem
/// (3x224x224 -> 32, 3x3 stride 2).
#[inline(always)]
fn split_row(row: &[f32], out: &mut [f32], sw: usize, b: usize, pad: usize) {
    // Phase columns `inside` read row columns `sw*j + b - pad`, which lie within the row.
    let start = pad.saturating_sub(b).div_ceil(sw).min(out.len());
    let end = (row.len() + pad).saturating_sub(b).div_ceil(sw).clamp(start, out.len());
    zero_run(&mut out[..start]);
    zero_run(&mut out[end..]);
    if start == end {
        return;
    }
    let (inside, first) = (&mut out[start..end], (sw * start + b).saturating_sub(pad));
    match sw {
        1 => inside.copy_from_slice(&row[first..first + inside.len()]),
        2 => every_second(&row[first..], inside),
        _ => {
            for (v, &x) in inside.iter_mut().zip(row[first..].iter().step_by(sw)) {
                *v = x;
            }
        }
    }
}

/// `out[j] = row[2 * j]`: with the stride a constant, the compiler loads whole vectors and
/// shuffles; read at run time, it gathered float by float (MobileNetV2's stem, 1 thread,
/// medians of 5 interleaved rounds: 0.175 ms against 0.161). Stride 4 (AlexNet's conv1)
/// gained nothing from the same (0.558 ms either way), so it takes the general loop.
#[inline(always)]
fn every_second(row: &[f32], out: &mut [f32]) {
    // Whole pairs, then the last element (its pair may have no second float).
    let whole = (row.len() / 2).min(out.len());
    let (body, tail) = out.split_at_mut(whole);
    debug_assert!(tail.len() <= 1 && tail.len() <= row.len() - 2 * whole, "more outputs than the row has pairs");
    for (v, pair) in body.iter_mut().zip(row.chunks_exact(2)) {
        *v = pair[0];
    }
    for (v, &x) in tail.iter_mut().zip(&row[2 * whole..]) {
        *v = x;
    }
}

/// im2col panels packed from phase planes: every row a copy per output-row run.
pub(crate) struct PhasedSource<'a> {
    pub planes: &'a [f32],
    pub phases: &'a Phases,
    pub out_w: usize,
    pub out_pixels: usize,
    /// [`pack_phased`] compiled for the plan's path (`KernelTable::phased_pack`).
    pub pack: PhasedPackFn,
}

/// `(source, dst, width, f0, count, k0, kc)`: [`PanelSource::pack`] for phase planes.
pub(crate) type PhasedPackFn = unsafe fn(&PhasedSource, &mut [f32], usize, usize, usize, usize, usize);

impl PanelSource for PhasedSource<'_> {
    fn free_len(&self) -> usize {
        self.out_pixels
    }

    fn k_len(&self) -> usize {
        self.phases.offsets.as_slice().len()
    }

    fn pack(&self, dst: &mut [f32], width: usize, f0: usize, count: usize, k0: usize, kc: usize) {
        // SAFETY: `pack` is the plan's path's, which the dispatcher checked this CPU runs.
        unsafe { (self.pack)(self, dst, width, f0, count, k0, kc) }
    }
}

/// The body of [`PhasedSource`]'s packing, inlined into each path's shell so that its runs
/// are copied with that path's vectors.
///
/// Compiled for the baseline x86-64 target the copies moved 16 bytes at a time: 15% of the
/// ResNet stem under `perf`, 4-12% of the im2col layers.
#[inline(always)]
pub(crate) fn pack_phased(
    src: &PhasedSource,
    dst: &mut [f32],
    width: usize,
    f0: usize,
    count: usize,
    k0: usize,
    kc: usize,
) {
    // (start in the planes, start in the panel row, length) of each output-row run.
    let mut runs = [(0usize, 0usize, 0usize); MAX_RUNS];
    let wq = src.phases.wq;
    for (p, panel) in dst.chunks_exact_mut(kc * width).take(count.div_ceil(width)).enumerate() {
        let first = f0 + p * width;
        let cols = width.min(f0 + count - first);
        let (mut n_runs, mut pix, mut at) = (0, first, 0);
        while at < cols {
            let (oh, ow) = (pix / src.out_w, pix % src.out_w);
            let len = (src.out_w - ow).min(cols - at);
            runs[n_runs] = (oh * wq + ow, at, len);
            n_runs += 1;
            pix += len;
            at += len;
        }
        for (row, &offset) in panel.chunks_exact_mut(width).zip(&src.phases.offsets.as_slice()[k0..k0 + kc]) {
            for &(start, at, len) in &runs[..n_runs] {
                copy_run(&mut row[at..at + len], &src.planes[offset + start..offset + start + len]);
            }
            zero_run(&mut row[cols..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_row;

    /// Every row length, stride, phase and padding up to small bounds (the strides with
    /// their own code, 1 and 2, and 3 to 5 on the general path), against the
    /// definition: column `j` of phase `b` is padded column `sw*j + b`, zero outside the row.
    #[test]
    fn split_row_matches_its_definition() {
        for len in 1usize..=19 {
            let row: Vec<f32> = (0..len).map(|x| x as f32 + 1.0).collect();
            for sw in 1usize..=5 {
                for pad in 0usize..=4 {
                    for b in 0..sw {
                        let wq = (len + 2 * pad).div_ceil(sw);
                        let expected: Vec<f32> = (0..wq)
                            .map(|j| (sw * j + b).checked_sub(pad).and_then(|i| row.get(i)).copied().unwrap_or(0.0))
                            .collect();
                        let mut out = vec![f32::NAN; wq];
                        split_row(&row, &mut out, sw, b, pad);
                        assert_eq!(out, expected, "row of {len}, stride {sw}, phase {b}, padding {pad}");
                    }
                }
            }
        }
    }
}
