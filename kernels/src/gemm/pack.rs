//! Packing operands into micro-panels.
//!
//! A packed operand is a sequence of panels, each covering `width` consecutive indices of the
//! operand's free dimension (rows of A, columns of B) and stored as rows of `width` floats,
//! one row per k:
//!
//! ```text
//! panel p, k-row kk:  dst[(p * kc + kk) * width .. + width] = op[f0 + p*width .. + width][k0 + kk]
//! ```
//!
//! The last panel's missing columns are zero, so microkernels always see whole tiles. Whether
//! the operand is a weight matrix packed once at plan time ([`PackedPanels`]) or activations
//! packed block by block as the GEMM runs, the layout is the same.

use crate::aligned::{AlignedVec, zeroed};
use rayon::prelude::*;

/// Something that can be packed into panels: a strided matrix, or an image read through
/// im2col indexing without ever materialising the im2col matrix.
pub(crate) trait PanelSource: Sync {
    /// Extent of the free dimension.
    fn free_len(&self) -> usize;
    /// Extent of the reduction dimension.
    fn k_len(&self) -> usize;
    /// Packs free indices `f0 .. f0 + count` and k rows `k0 .. k0 + kc` into `dst`, which
    /// holds at least `count.div_ceil(width) * kc * width` floats.
    fn pack(&self, dst: &mut [f32], width: usize, f0: usize, count: usize, k0: usize, kc: usize);
}

/// A matrix in memory: element (f, k) at `data[f * free_stride + k * k_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct StridedSource<'a> {
    pub data: &'a [f32],
    pub free_len: usize,
    pub k_len: usize,
    pub free_stride: usize,
    pub k_stride: usize,
}

impl PanelSource for StridedSource<'_> {
    fn free_len(&self) -> usize {
        self.free_len
    }
    fn k_len(&self) -> usize {
        self.k_len
    }
    fn pack(&self, dst: &mut [f32], width: usize, f0: usize, count: usize, k0: usize, kc: usize) {
        debug_assert!(f0 + count <= self.free_len && k0 + kc <= self.k_len);
        for (p, panel) in dst.chunks_exact_mut(kc * width).take(count.div_ceil(width)).enumerate() {
            let first = f0 + p * width;
            let cols = width.min(f0 + count - first);
            if self.free_stride == 1 {
                // Each k-row of the panel is a contiguous run of the source.
                for (kk, row) in panel.chunks_exact_mut(width).enumerate() {
                    let start = (k0 + kk) * self.k_stride + first;
                    copy_run(&mut row[..cols], &self.data[start..start + cols]);
                    zero_run(&mut row[cols..]);
                }
            } else if self.k_stride == 1 {
                self.pack_transposing(panel, width, first, cols, k0, kc);
            } else {
                for (kk, row) in panel.chunks_exact_mut(width).enumerate() {
                    for (i, v) in row.iter_mut().enumerate() {
                        *v = if i < cols {
                            self.data[(first + i) * self.free_stride + (k0 + kk) * self.k_stride]
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }
}

impl StridedSource<'_> {
    /// Free indices are rows along k (a row-major A): the panel is the transpose of a
    /// `cols x kc` block. Moving 8 k at a time through a small block keeps both the reads
    /// (8 consecutive floats of each row) and the writes (whole panel rows) contiguous.
    fn pack_transposing(&self, panel: &mut [f32], width: usize, first: usize, cols: usize, k0: usize, kc: usize) {
        const K_STEP: usize = 8;
        let mut kk = 0;
        while kk + K_STEP <= kc {
            let mut block = [[0.0f32; K_STEP]; 64];
            for (i, b) in block.iter_mut().enumerate().take(cols) {
                let start = (first + i) * self.free_stride + k0 + kk;
                b.copy_from_slice(&self.data[start..start + K_STEP]);
            }
            for t in 0..K_STEP {
                let row = &mut panel[(kk + t) * width..(kk + t + 1) * width];
                for (i, v) in row.iter_mut().enumerate() {
                    *v = block[i][t];
                }
            }
            kk += K_STEP;
        }
        for kk in kk..kc {
            let row = &mut panel[kk * width..(kk + 1) * width];
            for (i, v) in row.iter_mut().enumerate() {
                *v = if i < cols { self.data[(first + i) * self.free_stride + k0 + kk] } else { 0.0 };
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for the short runs of packing (a panel row is 8 to 64
/// floats). Fixed-size pieces compile to inline vector moves; a copy or a loop of variable
/// length becomes a call to `memmove` per row, which profiling showed at 10% of a conv. So
/// do the 16-float pieces if written as a loop: LLVM recognises the loop as a copy and calls
/// `memcpy` (7% of the ResNet stem under `perf`), so up to 64 floats they are written out.
#[inline(always)]
pub(crate) fn copy_run(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len());
    if dst.len() > 64 {
        return dst.copy_from_slice(src);
    }
    let (mut d, mut s) = (dst, src);
    piece::<16>(&mut d, &mut s);
    piece::<16>(&mut d, &mut s);
    piece::<16>(&mut d, &mut s);
    piece::<16>(&mut d, &mut s);
    piece::<8>(&mut d, &mut s);
    piece::<4>(&mut d, &mut s);
    piece::<2>(&mut d, &mut s);
    piece::<1>(&mut d, &mut s);
}

/// Copies the first `N` floats of `s` to `d` and steps both past them, if both hold `N`.
#[inline(always)]
fn piece<const N: usize>(d: &mut &mut [f32], s: &mut &[f32]) {
    if d.len() >= N {
        let (dh, dt) = std::mem::take(d).split_at_mut(N);
        let (sh, st) = s.split_at(N);
        copy_fixed::<N>(dh, sh);
        (*d, *s) = (dt, st);
    }
}

#[inline(always)]
fn copy_fixed<const N: usize>(dst: &mut [f32], src: &[f32]) {
    let d: &mut [f32; N] = dst.try_into().expect("N floats");
    *d = *<&[f32; N]>::try_from(src).expect("N floats");
}

/// `dst.fill(0.0)` for short runs, without a call to `memset`.
#[inline(always)]
pub(crate) fn zero_run(dst: &mut [f32]) {
    let mut d = dst;
    while d.len() >= 16 {
        let (h, t) = d.split_at_mut(16);
        *<&mut [f32; 16]>::try_from(h).expect("16 floats") = [0.0; 16];
        d = t;
    }
    for v in d {
        *v = 0.0;
    }
}

/// Panels of `width`, each holding all of K (`k_len` rows of `width` floats), borrowed: from
/// a [`PackedPanels`], or from a buffer a producer wrote in that layout (the Winograd input
/// transform, when a block is one panel wide), so the GEMM packs nothing.
#[derive(Clone, Copy)]
pub(crate) struct PanelView<'a> {
    data: &'a [f32],
    width: usize,
    k_len: usize,
}

impl<'a> PanelView<'a> {
    /// `data` holds whole panels of `k_len` rows of `width` floats: the microkernels read a
    /// panel's rows through raw pointers, so a short buffer would be read past its end.
    pub(crate) fn new(data: &'a [f32], width: usize, k_len: usize) -> Self {
        assert!(
            data.len().is_multiple_of(width * k_len),
            "whole panels: {} floats, panels of {width}x{k_len}",
            data.len()
        );
        PanelView { data, width, k_len }
    }

    /// Floats from one panel to the next.
    pub(crate) fn panel_stride(&self) -> usize {
        self.k_len * self.width
    }

    /// Start of k-row `k0` of panel `panel`.
    pub(crate) fn ptr(&self, panel: usize, k0: usize) -> *const f32 {
        debug_assert!((panel * self.k_len + k0) * self.width <= self.data.len());
        self.data[(panel * self.k_len + k0) * self.width..].as_ptr()
    }
}

/// An operand packed whole, once: panels of `width`, each holding all of K.
pub(crate) struct PackedPanels {
    data: AlignedVec,
    width: usize,
    k_len: usize,
}

impl PackedPanels {
    /// Packs all of `source`, panels in parallel on the current rayon pool.
    pub(crate) fn new(source: &dyn PanelSource, width: usize) -> Self {
        let (free, k) = (source.free_len(), source.k_len());
        let mut data = zeroed(free.div_ceil(width) * width * k);
        let per_task = crate::tasks::units_per_task(k * width);
        data.par_chunks_mut(k * width).with_min_len(per_task).enumerate().for_each(|(p, panel)| {
            let first = p * width;
            source.pack(panel, width, first, width.min(free - first), 0, k);
        });
        PackedPanels { data, width, k_len: k }
    }

    /// Multiplies every k-row of free index `f` by `scale[f]`: a per-output-channel scale
    /// folded into packed weights, so the epilogue no longer multiplies.
    pub(crate) fn scale_free(&mut self, scale: &[f32]) {
        let width = self.width;
        assert_eq!(
            self.data.len() / (self.k_len * width).max(1),
            scale.len().div_ceil(width),
            "a scale per free index"
        );
        for (p, panel) in self.data.chunks_exact_mut(self.k_len * width).enumerate() {
            let first = p * width;
            let factors = &scale[first..(first + width).min(scale.len())];
            for row in panel.chunks_exact_mut(width) {
                for (x, f) in row.iter_mut().zip(factors) {
                    *x *= f;
                }
            }
        }
    }

    /// The panels as a GEMM operand.
    pub(crate) fn view(&self) -> PanelView<'_> {
        PanelView { data: &self.data, width: self.width, k_len: self.k_len }
    }

    /// Bytes held, for memory reports.
    pub(crate) fn bytes(&self) -> usize {
        self.data.len() * size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length through the written-out pieces and past them, from unaligned starts.
    #[test]
    fn short_runs_copy_and_zero_exactly() {
        let src: Vec<f32> = (0..100).map(|v| v as f32 + 1.0).collect();
        for len in 0..=80 {
            for offset in [0, 3] {
                let mut dst = vec![f32::NAN; len + 2];
                copy_run(&mut dst[1..=len], &src[offset..offset + len]);
                assert_eq!(&dst[1..=len], &src[offset..offset + len], "length {len}");
                assert!(dst[0].is_nan() && dst[len + 1].is_nan(), "length {len} wrote outside");
                zero_run(&mut dst[1..=len]);
                assert!(dst[1..=len].iter().all(|&v| v == 0.0) && dst[len + 1].is_nan(), "length {len}");
            }
        }
    }

    #[test]
    fn both_source_orientations_pack_the_same_panels() {
        // A 5x3 matrix (free x k), stored free-major and k-major.
        let m: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let free_major = StridedSource { data: &m, free_len: 5, k_len: 3, free_stride: 3, k_stride: 1 };
        let t: Vec<f32> = (0..15).map(|i| m[(i % 5) * 3 + i / 5]).collect();
        let k_major = StridedSource { data: &t, free_len: 5, k_len: 3, free_stride: 1, k_stride: 5 };
        let (mut a, mut b) = (vec![f32::NAN; 2 * 3 * 4], vec![f32::NAN; 2 * 3 * 4]);
        free_major.pack(&mut a, 4, 0, 5, 0, 3);
        k_major.pack(&mut b, 4, 0, 5, 0, 3);
        assert_eq!(a, b);
        // Panel 0, k-row 1 holds free 0..4 at k=1; panel 1 holds free 4 then zeros.
        assert_eq!(&a[4..8], &[1.0, 4.0, 7.0, 10.0]);
        assert_eq!(&a[12..16], &[12.0, 0.0, 0.0, 0.0]);
    }
}
