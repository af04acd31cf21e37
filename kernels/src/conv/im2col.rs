//! Packing im2col panels straight from an image.
//!
//! The im2col matrix of one image and group has a row per kernel tap k = (c, r, s) and a
//! column per output pixel p = (oh, ow): `X[k][p] = image[c][oh*sh + r*dh - pt][ow*sw + s*dw - pl]`
//! (zero in the padding). A panel covers `width` consecutive pixels, which fall into runs
//! along output rows; for each tap a run is one input row segment — a contiguous copy at
//! stride 1 — with zeros where it hangs over the padding.

use crate::gemm::pack::{PanelSource, copy_run, zero_run};
use crate::shape::Conv2dDesc;

/// A run of consecutive output pixels on one output row.
#[derive(Clone, Copy, Default)]
struct Run {
    oh: usize,
    ow: usize,
    len: usize,
}

/// Runs a panel has at most: one per pixel when OW = 1.
pub(crate) const MAX_RUNS: usize = 64;

pub(crate) struct Im2colSource<'a> {
    /// This image's channels of this group: `C/g x H x W`.
    pub image: &'a [f32],
    pub desc: &'a Conv2dDesc,
    pub channels: usize,
    pub out_w: usize,
    pub out_pixels: usize,
}

impl Im2colSource<'_> {
    /// Writes tap (c, r, s) of `runs` into `row`.
    #[inline]
    fn fill_row(&self, row: &mut [f32], runs: &[Run], (c, r, s): (usize, usize, usize)) {
        let d = self.desc;
        let (h, w) = (d.in_h, d.in_w);
        let plane = &self.image[c * h * w..(c + 1) * h * w];
        let mut at = 0;
        for run in runs {
            let dst = &mut row[at..at + run.len];
            at += run.len;
            let ih = (run.oh * d.stride_h + r * d.dilation_h).wrapping_sub(d.padding.top);
            if ih >= h {
                zero_run(dst);
                continue;
            }
            let src = &plane[ih * w..(ih + 1) * w];
            // Input column of the run's first pixel, in padded coordinates.
            let iw0 = run.ow * d.stride_w + s * d.dilation_w;
            let (pl, sw) = (d.padding.left, d.stride_w);
            // Pixels t with pl <= iw0 + t*sw < pl + w are inside the row: [first, end).
            // Most runs lie wholly inside; only those at an edge pay for the divisions.
            let (first, end) = if iw0 >= pl && iw0 + (run.len - 1) * sw < pl + w {
                (0, run.len)
            } else {
                let first = pl.saturating_sub(iw0).div_ceil(sw).min(run.len);
                (first, (pl + w).saturating_sub(iw0).div_ceil(sw).min(run.len).max(first))
            };
            zero_run(&mut dst[..first]);
            // A run wholly in the right padding has first == end and an iw0 past the row.
            if first < end {
                let start = iw0 + first * sw - pl;
                let n = end - first;
                if sw == 1 {
                    copy_run(&mut dst[first..end], &src[start..start + n]);
                } else if sw == 2 {
                    // Indexed with exact lengths so the loop has no bounds checks and vectorises.
                    let (dst, src) = (&mut dst[first..end], &src[start..start + 2 * n - 1]);
                    for i in 0..n {
                        dst[i] = src[2 * i];
                    }
                } else {
                    let src = &src[start..start + (end - first - 1) * sw + 1];
                    for (v, x) in dst[first..end].iter_mut().zip(src.iter().step_by(sw)) {
                        *v = *x;
                    }
                }
            }
            zero_run(&mut dst[end..]);
        }
    }
}

impl PanelSource for Im2colSource<'_> {
    fn free_len(&self) -> usize {
        self.out_pixels
    }

    fn k_len(&self) -> usize {
        self.channels * self.desc.kernel_h * self.desc.kernel_w
    }

    fn pack(&self, dst: &mut [f32], width: usize, f0: usize, count: usize, k0: usize, kc: usize) {
        debug_assert!(width <= MAX_RUNS && f0 + count <= self.out_pixels);
        let (kh, kw) = (self.desc.kernel_h, self.desc.kernel_w);
        let mut runs = [Run::default(); MAX_RUNS];
        for (p, panel) in dst.chunks_exact_mut(kc * width).take(count.div_ceil(width)).enumerate() {
            let first = f0 + p * width;
            let cols = width.min(f0 + count - first);
            // Split the panel's pixels into runs along output rows, once for all taps.
            let (mut n_runs, mut pix, mut left) = (0, first, cols);
            while left > 0 {
                let (oh, ow) = (pix / self.out_w, pix % self.out_w);
                let len = (self.out_w - ow).min(left);
                runs[n_runs] = Run { oh, ow, len };
                n_runs += 1;
                pix += len;
                left -= len;
            }
            let (mut c, mut r, mut s) = (k0 / (kh * kw), (k0 / kw) % kh, k0 % kw);
            for row in panel.chunks_exact_mut(width) {
                self.fill_row(&mut row[..cols], &runs[..n_runs], (c, r, s));
                zero_run(&mut row[cols..]);
                s += 1;
                if s == kw {
                    s = 0;
                    r += 1;
                    if r == kh {
                        r = 0;
                        c += 1;
                    }
                }
            }
        }
    }
}
