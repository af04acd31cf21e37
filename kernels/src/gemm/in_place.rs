//! A B read where it lies instead of packed block by block: a row-major B
//! ([`InPlaceRows`]), or one whose k-rows start at offsets of their own ([`OffsetRows`]:
//! an im2col matrix in an image's phase planes, read by the phased microkernels).
//!
//! A 1x1 convolution's B is the image itself (C/g rows of H*W pixels), and a plain GEMM's
//! is k rows of n floats: each k-row of a panel is already a contiguous run, so the
//! microkernel can read it at the matrix's row stride instead of from a packed copy. What
//! that saves is the packing pass (one read of B from L3 and one write to L2 per block),
//! which the tiles of the block then amortise over the rows of A: a large share when A has
//! few rows (`ferrocnn conv --input 1x256x56x56 --out-channels 64 --kernel 1`, 1 thread:
//! 14% of the time in `perf`). What it costs is that every k step of a tile reads a line of
//! another row, pages apart, where a packed panel is one sequential run.

use super::microkernel::{Prefetch, StoreEpilogue, TileKernel};
use super::pack::{PanelSource, StridedSource};

/// A row-major B read in place: element (k, j) at `data[k * ld + j]`.
///
/// Whole panels are read where they lie. The last panel of a matrix whose width is not a
/// multiple of the panel's is copied, as a packed block would be: its vectors would read
/// past the end of the last row.
#[derive(Clone, Copy)]
pub(crate) struct InPlaceRows<'a> {
    source: StridedSource<'a>,
}

impl<'a> InPlaceRows<'a> {
    /// `None` unless `source` has unit stride along the free dimension (the columns of B)
    /// and its last row ends inside its data — which is what makes the microkernels' raw
    /// reads of whole panels sound.
    pub(crate) fn new(source: StridedSource<'a>) -> Option<Self> {
        let last_row = source.k_len.checked_sub(1)?.checked_mul(source.k_stride)?;
        let end = last_row.checked_add(source.free_len)?;
        (source.free_stride == 1 && source.free_len > 0 && end <= source.data.len()).then_some(InPlaceRows { source })
    }

    /// Element (k, j): the start of a panel's run in k-row `k`.
    pub(crate) fn at(&self, k: usize, j: usize) -> *const f32 {
        self.source.data.as_ptr().wrapping_add(k * self.source.k_stride + j)
    }

    /// Floats from one k-row to the next.
    pub(crate) fn ld(&self) -> usize {
        self.source.k_stride
    }

    /// The matrix as a packing source, for the last, partial panel.
    pub(crate) fn source(&self) -> &StridedSource<'a> {
        &self.source
    }
}

/// Whether a GEMM with `m` rows of A and depth `k` on `tile` reads its row-major B in
/// place rather than packing it.
///
/// Measured on AVX-512 (Zen 5): 1x1 convolutions with a folded batch-norm and ReLU, K in
/// {16, 32, 64, 160, 256, 512} x M in {24, 64, 96, 128, 192, 384}, at 56x56 and 28x28 on
/// 1 thread and 56x56 on 2, medians of three interleaved runs of `ferrocnn conv --input
/// 1xKxHxW --out-channels M --kernel 1 --epilogue scale,shift,relu --json`; time in place
/// over time packed (two 2-thread outliers, 1.33 and 1.73, ran again at 0.72 and 0.96):
///
/// | M | in place / packed |
/// |---|---|
/// | 24 | 0.69-0.82 |
/// | 64, 96, 128 | 0.85-0.97; 0.99-1.01 at K = 16, and twice at K = 512 |
/// | 192 | 0.96-0.97 at K >= 256; 0.95-1.01 below |
/// | 384 | 0.97-0.99 at K = 512; up to 1.05 at K <= 32 |
///
/// Packing pays when many rows of A reuse each packed block and the tiles are short (small
/// K). Beyond the convolutions, `Gemm` plans with A packed, 1 thread, medians of a timed
/// loop, in place / packed ms: 64 x n x 576 wins at every row length tried (n = 512 to
/// 4096, 0.12-0.35 less; 4 KiB rows included), 128 x 1024 x 1024 1.04-1.07 / 1.17-1.26,
/// 256^3 0.128-0.133 / 0.135-0.140, 512^3 even (1.03-1.07 / 1.04-1.07), and 1024^3 loses
/// (10.4-11.0 / 8.49, and 17.9-19.1 / 16.7 in a slower hour): so K >= M only up to the 384
/// rows measured. The 16- and 24-float panels of AVX2 were mixed on the same machine (M = 24
/// 0.73-1.00, K = 16 with M >= 64 1.05-1.10), so they keep packing: a k step of theirs
/// reads one line of a row, where a packed panel streams.
///
/// Measured again once the driver's tiles were inlined and a folded scale went into the
/// weights (2026-11-25, 1 thread, three interleaved runs, ms, packed / in place, shift and
/// ReLU6): MobileNetV2's expansions with K <= 32 now read in place faster, 24x56x56 -> 144
/// 0.1010-0.1022 / 0.0962-0.0981 and 32x28x28 -> 192 0.0426-0.0430 / 0.0412-0.0415; at
/// K = 64 and 96 the two are within 2% (64x14x14 -> 384 0.0425-0.0428 / 0.0417-0.0422,
/// 96x14x14 -> 576 0.0922-0.0929 / 0.0910-0.0920), and ResNet-50's 64x56x56 -> 256 with
/// a residual ran 0.428-0.457 / 0.453-0.462. With K <= 32 read in place, though, the
/// model did not move: mobilenet-v2 3.281 / 3.287 ms (1 thread) and 1.774 / 1.769 (2),
/// medians of seven interleaved rounds, and `--per-layer` showed no gain on those layers
/// inside it. So the rule stays as measured first.
pub(crate) fn reads_b_in_place(tile: &TileKernel, m: usize, k: usize) -> bool {
    tile.nr >= 48 && (m <= 128 || (k >= m && m <= 384))
}

/// Where each k-row of an [`OffsetRows`] matrix starts, with the largest found once, when a
/// plan is made, so that a run checks its reach with one comparison.
pub(crate) struct KRowOffsets {
    offsets: Vec<usize>,
    /// None for no k-rows.
    largest: Option<usize>,
}

impl KRowOffsets {
    pub(crate) fn new(offsets: Vec<usize>) -> Self {
        let largest = offsets.iter().copied().max();
        KRowOffsets { offsets, largest }
    }

    pub(crate) fn as_slice(&self) -> &[usize] {
        &self.offsets
    }
}

/// Where each vector of an [`OffsetRows`] matrix's columns starts, found when a plan is
/// made: the columns lie in rows of `row_len`, `row_stride` apart, so vector `v` (columns
/// `v * lanes ..`) starts at `(p / row_len) * row_stride + p % row_len`, `p = v * lanes`.
/// Found per tile instead, a division and a remainder per vector were in every tile of
/// the run: 1 thread, five interleaved rounds, ms, with shift and the activation: the
/// ResNet stem 0.943-0.963 -> 0.927-0.931, MobileNetV2's 0.123-0.126 -> 0.116-0.119,
/// 64x56x56 3x3 im2col 0.936-0.955 -> 0.932-0.941.
pub(crate) struct VectorBases {
    bases: Vec<usize>,
    lanes: usize,
}

impl VectorBases {
    /// `None` unless each row is whole vectors of `lanes` (so no vector crosses a row) and
    /// rows do not overlap (`row_stride >= row_len`).
    pub(crate) fn new(row_len: usize, row_stride: usize, n: usize, lanes: usize) -> Option<Self> {
        if !rows_of_whole_vectors(row_len, lanes) || row_stride < row_len || n == 0 {
            return None;
        }
        let bases = (0..n.div_ceil(lanes)).map(|v| v * lanes / row_len * row_stride + v * lanes % row_len).collect();
        Some(VectorBases { bases, lanes })
    }
}

/// A B read in place through offsets: element (k, j) at `data[offsets[k] + base(j)]`, its
/// columns' bases from a [`VectorBases`]. An im2col matrix in the image's phase planes is
/// one (`conv::phases`): tap k's plane and shift in `offsets[k]`, output pixel j's row and
/// column in `base(j)`.
///
/// Whole panels are read where they lie, each vector a run within one row; the last,
/// partial panel is packed from `source`, as an in-place B's is.
///
/// Tried (2026-11-25): ResNet's 1x1 stride-2 layers too, whose single phase plane holds
/// the output rows without gaps. No change: 256x56x56 -> 512 0.889-0.912 ms against
/// 0.898-0.909 packed (1 thread, three rounds); with K = 256 the packing is a small share.
#[derive(Clone, Copy)]
pub(crate) struct OffsetRows<'a> {
    data: &'a [f32],
    offsets: &'a [usize],
    bases: &'a [usize],
    source: &'a dyn PanelSource,
}

impl<'a> OffsetRows<'a> {
    /// `None` unless the largest index, the last vector's last float at the largest
    /// offset, lies inside `data` — which is what makes the phased microkernels' raw reads
    /// sound.
    pub(crate) fn new(
        data: &'a [f32],
        offsets: &'a KRowOffsets,
        bases: &'a VectorBases,
        source: &'a dyn PanelSource,
    ) -> Option<Self> {
        let reach = (bases.bases.last()? + bases.lanes - 1).checked_add(offsets.largest?)?;
        (reach < data.len()).then_some(OffsetRows { data, offsets: &offsets.offsets, bases: &bases.bases, source })
    }

    /// The matrix as a packing source, for the last, partial panel.
    pub(crate) fn source(&self) -> &'a dyn PanelSource {
        self.source
    }

    /// One full-width tile: rows of the A panel at `a` (`rows` of them), columns `j ..
    /// j + tile.nr`, k rows `k0 .. k0 + kc`, on `tile`'s phased microkernel.
    ///
    /// # Safety
    /// Columns `j .. j + tile.nr` are inside the matrix, `j` a multiple of `tile.lanes`
    /// (the lanes the bases were found for); `a` holds `kc` rows of an A panel of
    /// `tile.mr`; `c` (and `epilogue`) as the microkernel requires; `tile`'s ISA runs on
    /// this CPU.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn run_tile(
        &self,
        tile: &TileKernel,
        rows: usize,
        j: usize,
        (k0, kc): (usize, usize),
        a: *const f32,
        (c, rs_c, accumulate): (*mut f32, usize, bool),
        epilogue: Option<&StoreEpilogue>,
        prefetch: Prefetch,
    ) {
        let first = j / tile.lanes;
        let (bases, offsets) = (&self.bases[first..first + tile.nr / tile.lanes], &self.offsets[k0..k0 + kc]);
        // SAFETY: each vector starts on a multiple of `lanes` inside its row of whole
        // vectors, so its floats are the columns p .. p + lanes of that row, all inside the
        // matrix, whose largest index `new` checked against `data`; the slices hold every
        // base and offset the kernel reads; the rest is the caller's contract.
        unsafe {
            (tile.by_rows_phased[rows - 1])(
                kc,
                a,
                self.data.as_ptr(),
                offsets.as_ptr(),
                bases.as_ptr(),
                c,
                rs_c,
                accumulate,
                epilogue,
                prefetch,
            )
        }
    }
}

/// Whether rows of `row_len` columns are whole vectors of `lanes`, the layout
/// [`OffsetRows`] reads in place (and the layout model charges no packing).
pub(crate) fn rows_of_whole_vectors(row_len: usize, lanes: usize) -> bool {
    row_len > 0 && row_len.is_multiple_of(lanes)
}
