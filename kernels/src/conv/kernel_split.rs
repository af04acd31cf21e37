//! Kernels larger than 3x3 (stride 1, dilation 1) as one 3x3 Winograd layer.
//!
//! An R x S filter, padded with zeros to whole 3x3 pieces (5x5 -> 6x6, four pieces), is the
//! sum of its pieces, piece (a, b) seeing the input shifted by (3a, 3b):
//!
//! ```text
//! y[k, i, j] = sum_(a,b) sum_c sum_(s,t < 3) w[k, c, 3a + s, 3b + t] * x_p[c, i + 3a + s, j + 3b + t]
//! ```
//!
//! with x_p the zero-padded input. Stacking the shifted views z_(a,b)[c, i, j] = x_p[c,
//! i + 3a, j + 3b] (each (OH + 2) x (OW + 2)) as channels makes that one unpadded 3x3
//! convolution over pieces x C channels, which runs on Winograd: F(4x4) does 36 products
//! per piece for 16 outputs, 9 per output for a 5x5 kernel against 25 direct (2.78x fewer).
//! The stacked copy is pieces x C x (OH + 2) x (OW + 2) floats, written once per run.
//!
//! Where `Auto` chooses it, and the measurements: see [`super::algo::Algo::WinogradSplit`].

use super::algo::Algo;
use super::plan::{ChannelSlice, Conv2d};
use crate::aligned::{ALIGN_FLOATS, align_scratch, round_up};
use crate::dispatch::PlanOptions;
use crate::epilogue::Epilogue;
use crate::error::Result;
use crate::shape::{Conv2dDesc, Conv2dShape, Padding2d};
use rayon::prelude::*;

/// 3x3 pieces down and across a kernel of `side` taps, padded to whole pieces.
fn pieces_along(side: usize) -> usize {
    side.div_ceil(3)
}

/// The 3x3 layer that `desc` (of shape `s`) runs as: unpadded, over its stacked shifts.
pub(crate) fn inner_desc(desc: &Conv2dDesc, s: &Conv2dShape) -> Conv2dDesc {
    let pieces = pieces_along(desc.kernel_h) * pieces_along(desc.kernel_w);
    Conv2dDesc {
        in_channels: desc.groups * pieces * s.group_in_channels,
        in_h: s.out_h + 2,
        in_w: s.out_w + 2,
        kernel_h: 3,
        kernel_w: 3,
        padding: Padding2d::default(),
        ..*desc
    }
}

/// The 3x3 layer a larger kernel runs as: an unpadded convolution over the stacked shifts,
/// channels (group, piece, channel) in that order, each group's pieces x C/g together.
pub(crate) struct KernelSplit {
    inner: Box<Conv2d>,
}

impl KernelSplit {
    /// `desc` valid (its shape `s`), stride 1 and dilation 1
    /// (`Algo::WinogradSplit.applies_to`); `weights` OIHW of its shape. The 3x3 layer runs
    /// `Auto`'s Winograd variant for it, F(2x2) where `Auto` would not run Winograd there.
    pub(crate) fn new(
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        epilogue: &Epilogue,
        options: PlanOptions,
    ) -> Result<KernelSplit> {
        let inner_desc = inner_desc(desc, s);
        let (r, q, cg) = (desc.kernel_h, desc.kernel_w, s.group_in_channels);
        let (pieces_w, inner_cg) = (pieces_along(q), inner_desc.in_channels / desc.groups);
        // Piece (a, b) of filter k: its taps of rows 3a.. and columns 3b.., zero past R x S.
        let mut filters = vec![0.0f32; desc.out_channels * inner_cg * 9];
        for k in 0..desc.out_channels {
            for c in 0..cg {
                let filter = &weights[(k * cg + c) * r * q..][..r * q];
                for (u, row) in filter.chunks_exact(q).enumerate() {
                    for (v, &tap) in row.iter().enumerate() {
                        let piece = u / 3 * pieces_w + v / 3;
                        filters[((k * inner_cg + piece * cg + c) * 3 + u % 3) * 3 + v % 3] = tap;
                    }
                }
            }
        }
        let algo = match Algo::Auto.resolve(&inner_desc) {
            winograd if winograd.winograd().is_some() => winograd,
            _ => Algo::WinogradF2,
        };
        let inner = Box::new(Conv2d::with_options(&inner_desc, &filters, bias, epilogue, algo, options)?);
        Ok(KernelSplit { inner })
    }

    pub(crate) fn inner(&self) -> &Conv2d {
        &self.inner
    }

    /// Floats of the stacked input (all images), in whole cache lines.
    fn stacked_len(&self) -> usize {
        round_up(self.inner.shape().input_len)
    }

    pub(crate) fn scratch_len(&self) -> usize {
        ALIGN_FLOATS + self.stacked_len() + self.inner.scratch_len()
    }

    /// Stacks the shifted views of `input` and runs the 3x3 layer on them. The caller
    /// checked the buffers against `desc` (and `scratch` against `scratch_len`).
    pub(crate) fn run(
        &self,
        desc: &Conv2dDesc,
        input: &[f32],
        residual: Option<&[f32]>,
        output: &mut [f32],
        slice: ChannelSlice,
        scratch: &mut [f32],
    ) -> Result<()> {
        let (stacked, rest) = align_scratch(scratch).split_at_mut(self.stacked_len());
        let inner = self.inner.desc();
        let (zh, zw) = (inner.in_h, inner.in_w);
        let plane = zh * zw;
        let cg = desc.in_channels / desc.groups;
        let pieces_w = pieces_along(desc.kernel_w);
        let pieces = pieces_along(desc.kernel_h) * pieces_w;
        let (pad, h, w) = (desc.padding, desc.in_h, desc.in_w);
        let stacked = &mut stacked[..inner.batch * inner.in_channels * plane];
        let per_task = crate::tasks::units_per_task(plane);
        stacked.par_chunks_mut(plane).with_min_len(per_task).enumerate().for_each(|(index, z)| {
            // Plane `index` is (image, group, piece, channel).
            let (image_group, piece, c) = (index / (pieces * cg), index / cg % pieces, index % cg);
            let (n, g) = (image_group / desc.groups, image_group % desc.groups);
            let source = &input[((n * desc.in_channels) + g * cg + c) * h * w..][..h * w];
            let (dy, dx) = (piece / pieces_w * 3, piece % pieces_w * 3);
            // Row i of z is row i + dy - pad.top of the input; column j is column j + dx -
            // pad.left. Outside the input it is zero (padding, or taps past R x S that
            // the zero weights of the last pieces multiply).
            let first_col = pad.left.saturating_sub(dx).min(zw);
            let from_col = dx.saturating_sub(pad.left);
            let cols = w.saturating_sub(from_col).min(zw - first_col);
            for (i, row) in z.chunks_exact_mut(zw).enumerate() {
                let y = (i + dy).checked_sub(pad.top).filter(|&y| y < h);
                match y {
                    Some(y) if cols > 0 => {
                        row[..first_col].fill(0.0);
                        row[first_col..first_col + cols].copy_from_slice(&source[y * w + from_col..][..cols]);
                        row[first_col + cols..].fill(0.0);
                    }
                    _ => row.fill(0.0),
                }
            }
        });
        self.inner.run_into(stacked, residual, output, slice, rest)
    }
}
