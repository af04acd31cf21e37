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
//! The epilogue runs on each finished plane while it is in cache.

use crate::arch::simd::Simd;
use crate::shape::{Conv2dDesc, Conv2dShape};

/// Floats of slack after a padded plane: a stride-2 vector of 16 lanes reads 32 floats
/// from its first column.
const SLACK: usize = 32;

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
}

impl DepthwiseGeometry {
    pub(crate) fn new(d: &Conv2dDesc, s: &Conv2dShape) -> Self {
        let p = d.padding;
        DepthwiseGeometry {
            w: d.in_w,
            hp: d.in_h + p.top + p.bottom,
            wp: d.in_w + p.left + p.right,
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
        }
    }

    /// Floats of scratch one thread needs: a padded plane and its slack.
    pub(crate) fn scratch_len(&self) -> usize {
        crate::aligned::round_up(self.hp * self.wp + SLACK)
    }
}

/// One output plane: `input` H x W, `filter` R x S, `output` OH x OW (no epilogue);
/// `padded` holds at least `scratch_len()` floats. `fresh`: the buffer's border must be
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
    output: &mut [f32],
) {
    let (wp, lanes) = (g.wp, S::LANES);
    let padded = &mut padded[..g.hp * wp + SLACK];
    if fresh {
        padded.fill(0.0);
    }
    for (row, src) in padded.chunks_exact_mut(wp).skip(g.pt).zip(input.chunks_exact(g.w)) {
        crate::gemm::pack::copy_run(&mut row[g.pl..g.pl + g.w], src);
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
                *out = acc;
            }
            continue;
        }
        let mut ow = 0;
        while ow < g.out_w {
            let valid = lanes.min(g.out_w - ow);
            // SAFETY: `S` is available. Reads start at (top + r*dh)*wp + ow*sw + s*dw, inside
            // the padded plane for every valid output; the furthest read, at most `2 * lanes`
            // floats past the last valid output's window (stride 2), lands in the next row or
            // in the SLACK floats after the plane. Only `valid` lanes are stored.
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
                if valid == lanes {
                    S::store(out_row.as_mut_ptr().add(ow), acc);
                } else {
                    S::store_partial(out_row.as_mut_ptr().add(ow), valid, acc);
                }
            }
            ow += lanes;
        }
    }
}
