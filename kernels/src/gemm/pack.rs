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
        for (p, panel) in dst
            .chunks_exact_mut(kc * width)
            .take(count.div_ceil(width))
            .enumerate()
        {
            let first = f0 + p * width;
            let cols = width.min(f0 + count - first);
            if self.free_stride == 1 {
                // Each k-row of the panel is a contiguous run of the source.
                for (kk, row) in panel.chunks_exact_mut(width).enumerate() {
                    let start = (k0 + kk) * self.k_stride + first;
                    row[..cols].copy_from_slice(&self.data[start..start + cols]);
                    row[cols..].fill(0.0);
                }
            } else {
                // Each free index is a run along k (row-major A): read runs, write columns.
                if cols < width {
                    panel.fill(0.0);
                }
                for i in 0..cols {
                    let src = &self.data[(first + i) * self.free_stride + k0 * self.k_stride..];
                    for kk in 0..kc {
                        panel[kk * width + i] = src[kk * self.k_stride];
                    }
                }
            }
        }
    }
}

/// An operand packed whole, once: panels of `width`, each holding all of K.
pub(crate) struct PackedPanels {
    data: AlignedVec,
    width: usize,
    k_len: usize,
}

impl PackedPanels {
    pub(crate) fn new(source: &dyn PanelSource, width: usize) -> Self {
        let (free, k) = (source.free_len(), source.k_len());
        let mut data = zeroed(free.div_ceil(width) * width * k);
        source.pack(&mut data, width, 0, free, 0, k);
        PackedPanels {
            data,
            width,
            k_len: k,
        }
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

    /// Bytes held, for memory reports.
    pub(crate) fn bytes(&self) -> usize {
        self.data.len() * size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_source_orientations_pack_the_same_panels() {
        // A 5x3 matrix (free x k), stored free-major and k-major.
        let m: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let free_major = StridedSource {
            data: &m,
            free_len: 5,
            k_len: 3,
            free_stride: 3,
            k_stride: 1,
        };
        let t: Vec<f32> = (0..15).map(|i| m[(i % 5) * 3 + i / 5]).collect();
        let k_major = StridedSource {
            data: &t,
            free_len: 5,
            k_len: 3,
            free_stride: 1,
            k_stride: 5,
        };
        let (mut a, mut b) = (vec![f32::NAN; 2 * 3 * 4], vec![f32::NAN; 2 * 3 * 4]);
        free_major.pack(&mut a, 4, 0, 5, 0, 3);
        k_major.pack(&mut b, 4, 0, 5, 0, 3);
        assert_eq!(a, b);
        // Panel 0, k-row 1 holds free 0..4 at k=1; panel 1 holds free 4 then zeros.
        assert_eq!(&a[4..8], &[1.0, 4.0, 7.0, 10.0]);
        assert_eq!(&a[12..16], &[12.0, 0.0, 0.0, 0.0]);
    }
}
