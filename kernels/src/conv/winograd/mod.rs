//! Winograd convolution F(m x m, 3 x 3) for 3x3, stride-1, dilation-1 layers (Lavin & Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2016).
//!
//! The output is cut into m x m tiles; each needs an `alpha x alpha` input tile
//! (alpha = m + 2). Per tile and channel pair the convolution becomes alpha^2 products
//! instead of 9 m^2: 2.25x fewer for F(2x2), 4x for F(4x4), 5.06x for F(6x6). Grouped by
//! transform element `xi`, those products are alpha^2 independent GEMMs:
//!
//! ```text
//! U[xi] (K x C)   = G g G^T       per filter, at plan creation, packed as GEMM panels
//! V[xi] (C x T)   = B^T d B       per input tile                  (transform.rs)
//! M[xi] (K x T)   = U[xi] V[xi]   alpha^2 GEMMs on the packed microkernels
//! y               = A^T M A       per output tile, then the epilogue (transform.rs)
//! ```
//!
//! Work is cut into blocks of whole tile rows, sized so that a block's V and M (alpha^2 *
//! (C + K) * tiles floats) stay within L2 while its GEMMs run, but of at least 64 tiles, so
//! that the transformed filters each block's GEMMs stream are used often enough. Threads take
//! blocks; where a map has fewer blocks than threads (28x28 maps and smaller), they split K
//! instead, after transforming a share of the block's channels each into a V they share.
//! The GEMMs run as rows = K, columns = tiles, or transposed (rows = tiles, for maps with few
//! tiles), whichever pads less; either way M is laid out K x T, which is what the output
//! transform reads. A block one panel wide is already in the GEMM's packed layout, and is
//! read in place.

pub(crate) mod matrices;
mod per_run;
pub(crate) mod transform;

use crate::aligned::{ALIGN_FLOATS, align_scratch, round_up};
use crate::dispatch::KernelTable;
use crate::epilogue::Activation;
use crate::gemm::blocking::{Blocking, blocking, cache_sizes};
use crate::gemm::driver::{Feed, GemmTask, IndirectIndex, IndirectSource, Operand, TaskEpilogue, part_scratch_len};
use crate::gemm::microkernel::TileKernel;
use crate::gemm::pack::{PackedPanels, PanelView, StridedSource};
use crate::shape::{Conv2dDesc, Conv2dShape};
use per_run::{PerRunFilters, Products};
use rayon::prelude::*;
use std::ops::Range;
use transform::{InputJob, OutputJob};

/// Output tile size: F(2x2, 3x3), F(4x4, 3x3) or F(6x6, 3x3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    F2,
    F4,
    F6,
}

impl Variant {
    /// Output tile side.
    pub(crate) fn m(self) -> usize {
        match self {
            Variant::F2 => 2,
            Variant::F4 => 4,
            Variant::F6 => 6,
        }
    }

    /// Input tile side, m + 2.
    pub(crate) fn alpha(self) -> usize {
        self.m() + 2
    }

    /// Index into the kernel table's transform arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Variant::F2 => 0,
            Variant::F4 => 1,
            Variant::F6 => 2,
        }
    }

    /// Transforms `filter` (3x3) into `out`, `alpha^2` floats in `xi` order.
    fn transform_filter(self, filter: &[f32], out: &mut [f32]) {
        fn into<const A: usize>(g: &[[f64; 3]; A], filter: &[f32], out: &mut [f32]) {
            let mut u = [[0.0f32; A]; A];
            matrices::transform_filter(g, filter, &mut u);
            out.copy_from_slice(u.as_flattened());
        }
        match self {
            Variant::F2 => into(&matrices::F2_G, filter, out),
            Variant::F4 => into(&matrices::F4_G, filter, out),
            Variant::F6 => into(&matrices::F6_G, filter, out),
        }
    }
}

/// A Winograd plan's layout: transformed weights, GEMM shape and work split.
pub(crate) struct Winograd {
    variant: Variant,
    tile: &'static TileKernel,
    /// GEMM rows are tiles (and columns channels), not the other way round.
    transposed: bool,
    blocking: Blocking,
    filters: Filters,
    split: WorkSplit,
    tiles_w: usize,
    /// Floats of one worker's scratch, in order: phase-split rows, one padded line, V, M,
    /// GEMM packing.
    q_len: usize,
    line_len: usize,
    v_len: usize,
    m_len: usize,
    gemm_len: usize,
    /// Row stride of V and M: a block's tiles, rounded to whole cache lines.
    stride: usize,
    /// Stride between the `xi` of V and of M: their rows plus one cache line, so that the
    /// alpha^2 rows a tile's transform touches fall in different L1 sets. Without the line,
    /// 64 rows of 48 tiles put every xi 12 KiB apart, all in one set. Measured, F(4x4),
    /// 1 thread, GFLOP/s without / with the line (`ferrocnn conv ... --algo winograd-f4
    /// --threads 1 --iters 30`, two rounds): 64x56x56 288 / 451, 128x28x28 327 / 515,
    /// 256x14x14 290 / 428, 64x224x224 367 / 464.
    v_xi: usize,
    m_xi: usize,
}

/// The filters as a plan keeps them, and so how its GEMMs run.
enum Filters {
    /// U of group g and element xi at `g * alpha^2 + xi`, panels of the GEMM's U operand,
    /// multiplied by V read as `VRead` says.
    Transformed(Vec<PackedPanels>, VRead),
    /// The 3x3 filters, transformed as each run needs them (`per_run`; F(2x2) or F(4x4),
    /// transposed, V indexed, one block of tiles).
    PerRun(PerRunFilters),
}

/// A block holds at least this many tiles (or the whole map), even where its V and M then
/// outgrow L2. Each block's GEMMs read all of U, alpha^2 K x C floats, and use each one
/// once per tile: with L2-sized blocks of 8 tiles (512 -> 512 channels, F(4x4)) that is 4
/// flops per byte of a 37.7 MB U that streams from DRAM for every block. V and M spilling
/// to L3 cost less. Measured inside VGG-16 (`ferrocnn bench vgg16 --per-layer --algo
/// winograd-f4 --threads 1`, medians of two interleaved rounds, ms, L2 blocks / at least 32
/// / 64 / 96 tiles): 512x28x28 10.11 / 6.92 / 5.90 / 6.01, 512x14x14 3.30 / 2.41 / 2.45 /
/// 2.46, 256x28x28 -> 512 3.93 / 3.57 / 3.32 / 3.41; the large maps within the noise up to
/// 64 (128x56x56 -> 256 2.59 / 2.48 / 2.52) and slower at 96 (2.98).
const MIN_BLOCK_TILES: usize = 64;

/// How a map's tiles (row-major, all tile rows in one sequence) are cut into blocks, and
/// K into parts, for the threads.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WorkSplit {
    tiles: usize,
    /// Tiles per block (the last may have fewer): whole GEMM panels.
    block: usize,
    blocks: usize,
    k_parts: usize,
    workers: usize,
}

impl WorkSplit {
    /// Of the splits into blocks of whole `tile_width` panels (as many tiles as fit `budget`
    /// floats at `per_tile` each but at least `MIN_BLOCK_TILES`, or fewer; at least one
    /// panel), with K split in `k_width` panels where blocks are fewer than threads so that
    /// every thread has a part: the one whose busiest thread has the least work.
    ///
    /// A smaller block must cut that work by more than a twentieth, because each block has
    /// costs the count leaves out (alpha^2 GEMM calls, the halo rows its input staging
    /// copies): 3x224x224 F(2x2) on 2 threads with 48-tile blocks instead of 240 does 3% less
    /// work by the count, and measured 1.07x and 1.31x the time in two sets of interleaved
    /// runs. Against the rule before, which kept the largest block and only evened the block
    /// count, 2 threads, medians of five interleaved rounds (`ferrocnn conv --input 1xCxHxW
    /// --out-channels C --kernel 3 --pad 1 --algo winograd-f2 --threads 2`):
    /// - 512x7x7: 0.461 -> 0.399 ms; two blocks of 8 tiles with all of K each (8 x 528 a
    ///   thread) instead of one block with K split 6:5 in panels of 48 (16 x 288).
    /// - 128x28x28: 0.504 -> 0.396 ms; blocks of 48 tiles give the threads 102 and 96 tiles,
    ///   blocks of 60 gave 120 and 78.
    /// - 256x14x14: 0.412 -> 0.319 ms (AVX2: 1.32 -> 0.60 ms).
    ///
    /// With `k_split_with_blocks`, K may be split between the threads even where there are
    /// as many blocks as threads, when that evens them (all blocks' V are then transformed
    /// first, and pass through L3). Measured in the plain orientation, F(4x4), 2 threads,
    /// medians of five to seven interleaved rounds: 64x56x56 0.249 -> 0.218 ms (five blocks
    /// of 48 tiles, K in halves, instead of four of 64 that give one thread 128 tiles),
    /// 128x56x56 0.862 -> 0.621, 128x28x28 -> 256 0.380 -> 0.366. Transposed it lost (256x28x28
    /// 0.70 -> 0.86 ms, 512x14x14 F(2x2) 1.13 -> 1.18), so the transposed orientation does not.
    /// Passing V through L3 costs the more blocks there are, so such a split must cut the
    /// busiest thread's work by a tenth, not a twentieth: 128x112x112 in 17 blocks of 48 tiles
    /// (9 and 8 blocks a thread, 6% more than K in halves) ran 2.96 ms split and 2.57 with
    /// whole blocks, 64x112x112 -> 128 1.42 and 1.35 (3 interleaved rounds, 2 threads),
    /// while the five-block splits above, 17% less work, keep their gain.
    #[allow(clippy::too_many_arguments)]
    fn new(
        tiles: usize,
        per_tile: usize,
        budget: usize,
        tile_width: usize,
        k: usize,
        k_width: usize,
        threads: usize,
        k_split_with_blocks: bool,
    ) -> Self {
        let most_panels = ((budget / per_tile).max(MIN_BLOCK_TILES) / tile_width).clamp(1, tiles.div_ceil(tile_width));
        let mut best: Option<(usize, WorkSplit)> = None;
        for panels in (1..=most_panels).rev() {
            let block = panels * tile_width;
            let blocks = tiles.div_ceil(block);
            let fewest_parts = if blocks >= threads { 1 } else { threads.div_ceil(blocks) };
            let most_parts = if k_split_with_blocks { fewest_parts.max(threads) } else { fewest_parts };
            for k_parts in [fewest_parts, most_parts] {
                let k_parts = k_parts.min(k.div_ceil(k_width));
                let split = WorkSplit { tiles, block, blocks, k_parts, workers: threads.min(blocks * k_parts).max(1) };
                let busiest = split.busiest(tile_width, k, k_width);
                // Splitting K beside the blocks passes every block's V through L3: it must
                // cut the work by a tenth.
                let margin = if k_parts > fewest_parts { 10 } else { 20 };
                if best.as_ref().is_none_or(|(least, _)| busiest * margin < *least * (margin - 1)) {
                    best = Some((busiest, split));
                }
            }
        }
        best.expect("at least one panel per block").1
    }

    /// All tiles in one block, K split in `k_width` panels among the threads: the split of
    /// filters transformed per run, whose workers would each transform all of them if they
    /// shared K.
    fn one_block(tiles: usize, tile_width: usize, k: usize, k_width: usize, threads: usize) -> Self {
        let k_parts = threads.min(k.div_ceil(k_width)).max(1);
        WorkSplit { tiles, block: tiles.next_multiple_of(tile_width), blocks: 1, k_parts, workers: k_parts }
    }

    fn tiles_of(&self, block: usize) -> Range<usize> {
        block * self.block..((block + 1) * self.block).min(self.tiles)
    }

    /// The most work one worker gets, in padded tiles times padded channels, with the tasks
    /// handed out as `Winograd::run` does (round robin).
    fn busiest(&self, tile_width: usize, k: usize, k_width: usize) -> usize {
        let task_work = |task: usize| {
            let (block, part) = (task / self.k_parts, task % self.k_parts);
            self.tiles_of(block).len().next_multiple_of(tile_width)
                * band(k, k_width, self.k_parts, part).len().next_multiple_of(k_width)
        };
        let tasks = self.blocks * self.k_parts;
        (0..self.workers).map(|w| (w..tasks).step_by(self.workers).map(task_work).sum()).max().unwrap_or(0)
    }

    /// The busiest worker's work over its share of the work needed: padding of the last
    /// panels of tiles and of channels, and uneven shares.
    fn cost(&self, tile_width: usize, k: usize, k_width: usize, threads: usize) -> f64 {
        (self.busiest(tile_width, k, k_width) * threads) as f64 / (self.tiles * k) as f64
    }
}

/// U = G g G^T of every filter, packed per group and element as the GEMMs' U operand
/// (panels of `width`).
fn transform_filters(
    variant: Variant,
    groups: usize,
    kg: usize,
    cg: usize,
    weights: &[f32],
    width: usize,
) -> Vec<PackedPanels> {
    let a2 = variant.alpha() * variant.alpha();
    let mut u = vec![0.0f32; a2 * kg * cg];
    let mut packed = Vec::with_capacity(groups * a2);
    for g in 0..groups {
        for k in 0..kg {
            for c in 0..cg {
                let filter = &weights[((g * kg + k) * cg + c) * 9..][..9];
                let mut transformed = [0.0f32; 64];
                variant.transform_filter(filter, &mut transformed[..a2]);
                for (xi, &value) in transformed[..a2].iter().enumerate() {
                    u[(xi * kg + k) * cg + c] = value;
                }
            }
        }
        for xi in 0..a2 {
            let source = StridedSource {
                data: &u[xi * kg * cg..][..kg * cg],
                free_len: kg,
                k_len: cg,
                free_stride: cg,
                k_stride: 1,
            };
            packed.push(PackedPanels::new(&source, width));
        }
    }
    packed
}

/// Panels of `width` over `len`, in `parts` bands: band `p` (as the GEMM's thread split).
fn band(len: usize, width: usize, parts: usize, p: usize) -> Range<usize> {
    let panels = len.div_ceil(width);
    (p * panels / parts * width)..((p + 1) * panels / parts * width).min(len)
}

/// One (image, group) as the workers share it: they read the image and the epilogue's
/// vectors and residual, and write disjoint blocks and channels of `out`.
struct GroupRun<'a> {
    desc: &'a Conv2dDesc,
    s: &'a Conv2dShape,
    kernels: &'static KernelTable,
    group: usize,
    image: &'a [f32],
    out: *mut f32,
    epilogue: TaskEpilogue,
}

// SAFETY: workers only read the epilogue's vectors and residual, and write disjoint parts of
// `out` (different tiles, or different channels of the same tiles).
unsafe impl Sync for GroupRun<'_> {}

/// The blocks' shared V while their workers transform into it.
struct SharedV(*mut f32);

// SAFETY: the workers of a block write disjoint channel rows of its V (`Winograd::run`).
unsafe impl Sync for SharedV {}

/// How each transform element's GEMM reads V (C rows of `stride` tiles), decided once per
/// plan. U, the other operand, is packed ahead.
///
/// Transposed, V is A, read in place by the indirect kernels. Against packing it per xi
/// (1 thread, `ferrocnn conv --input 1xCxHxW --out-channels K --kernel 3 --pad 1 --algo A`,
/// two interleaved rounds, ms): 256x14x14 F(2x2) 0.583-0.591 -> 0.542-0.551, 256x56x56
/// F(4x4) 5.54-5.93 -> 5.14-5.17, 128x28x28 -> 192 F(4x4) 0.572-0.588 -> 0.539-0.542,
/// 512x7x7 F(2x2) 0.661-0.686 -> 0.638-0.653, 256x14x14 F(4x4) the same. Whole models, 3
/// interleaved rounds, 1 / 2 threads: googlenet 10.00 -> 9.55 / 5.48 -> 5.28 ms, vgg16 68.9
/// -> 67.9 / 40.0 -> 38.6, resnet50 31.2 -> 31.0 / 17.0 -> 16.7.
///
/// Otherwise V is B. A block one GEMM panel wide is read as that panel: its columns past
/// the block's tiles hold whatever the scratch held, but each GEMM column depends only on
/// its own column of V, and M's columns past the tiles are never read. Measured (F(4x4), 1
/// thread, packed / in place, three interleaved rounds, `ferrocnn conv ... --algo
/// winograd-f4`): 64x56x56 0.514 / 0.487 ms, 128x28x28 0.458 / 0.430, 64x224x224 8.57 /
/// 7.88. Wider blocks are packed per xi (read in place as a row-major B, `gemm::in_place`,
/// they were within 2% either way on VGG-16's and GoogLeNet's row-major layers, which are
/// one panel wide).
enum VRead {
    /// Transposed: tile i, channel k at `i + k * stride`.
    Indexed(IndirectIndex),
    /// Row-major, the block one panel wide.
    Panel,
    /// Row-major over a wider block; or transposed if the index overflowed (which validated
    /// shapes, below 2^40 elements, never do).
    Packed,
}

impl VRead {
    fn new(transposed: bool, stride: usize, tile: &TileKernel, channels: usize) -> VRead {
        match transposed {
            true => v_index(channels, stride).map_or(VRead::Packed, VRead::Indexed),
            false if stride == tile.nr => VRead::Panel,
            false => VRead::Packed,
        }
    }

    /// How A and B are fed (`transposed`: V is A).
    fn feeds(&self, transposed: bool) -> (Feed, Feed) {
        let v = match self {
            VRead::Indexed(_) => Feed::InPlace,
            VRead::Panel => Feed::Ahead,
            VRead::Packed => Feed::OnTheFly,
        };
        if transposed { (v, Feed::Ahead) } else { (Feed::Ahead, v) }
    }
}

/// V's layout as an index: tile i, channel k at `i + k * stride`.
fn v_index(channels: usize, stride: usize) -> Option<IndirectIndex> {
    IndirectIndex::new((0..channels).map(|k| k * stride).collect(), (0..stride).collect())
}

impl Winograd {
    pub(crate) fn new(
        variant: Variant,
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        weights: &[f32],
        kernels: &'static KernelTable,
        threads: usize,
    ) -> Winograd {
        let (m, alpha) = (variant.m(), variant.alpha());
        let a2 = alpha * alpha;
        let (cg, kg) = (s.group_in_channels, s.group_out_channels);
        let (tiles_h, tiles_w) = (s.out_h.div_ceil(m), s.out_w.div_ceil(m));

        // Family, orientation and blocks: the least work for the busiest thread, with a
        // block's V and M (alpha^2 (C + K) floats a tile) within L2. Measured against 3/4 and
        // 1/2 of L2 (F(4x4), 1 thread, three interleaved rounds): 256x56x56 525-537 GFLOP/s
        // against 457-489 and 405-473; 64x56x56, 128x28x28, 256x14x14, 64x224x224 and
        // 128x112x112 the same within the noise.
        let budget = cache_sizes().l2 / size_of::<f32>();
        // Below the tiles that use transformed filters often enough to stream them from
        // DRAM (`algo::WINOGRAD_MIN_TILES`), F(2x2) and F(4x4) transform them per run
        // (`per_run`). F(2x2) was tried per run below 64 tiles too, taking in 14x14 maps (49
        // tiles; the filters streamed are 9/16 of the transformed ones): 256x14x14 alone
        // 0.547 -> 0.585 ms, and in five
        // interleaved rounds of `ferrocnn bench MODEL --threads 1` resnet18 11.36 -> 11.16 ms
        // but resnet50 31.49 -> 33.06.
        let per_run = variant != Variant::F6 && tiles_h * tiles_w < super::algo::WINOGRAD_MIN_TILES;
        let mut best: Option<(f64, usize, &'static TileKernel, bool, WorkSplit)> = None;
        for tile in kernels.tiles {
            for transposed in [false, true] {
                if per_run && !transposed {
                    continue;
                }
                let (tile_width, k_width) = if transposed { (tile.mr, tile.nr) } else { (tile.nr, tile.mr) };
                let split = if per_run {
                    WorkSplit::one_block(tiles_h * tiles_w, tile_width, kg, k_width, threads)
                } else {
                    WorkSplit::new(
                        tiles_h * tiles_w,
                        a2 * (cg + kg),
                        budget,
                        tile_width,
                        kg,
                        k_width,
                        threads,
                        !transposed,
                    )
                };
                // Transposed, tiles are turned around into the K x T layout once per pass over
                // C (`gemm::transposed_store`): about one cycle per element against C
                // multiply-adds at 32 a cycle (as `layout_choice` counts it).
                let merge = if transposed { 1.0 + 32.0 / blocking(tile, cg, false).kc as f64 } else { 1.0 };
                let cost = split.cost(tile_width, kg, k_width, threads) * merge;
                // Filters transformed per run: of equal costs, the one with fewer padded
                // channels in the busiest part. A partial panel of tiles runs a kernel of
                // fewer rows, which costs only its rows; a padded channel panel is computed
                // whole. 512x7x7 on 2 threads (16 tiles, K split in two): 6x64 pads the
                // tiles to 18 and 8x48 the busiest part's channels to 288 of 256, the same
                // count; measured 0.44-0.49 ms against 0.52-0.55 (three rounds, `ferrocnn
                // conv --input 1x512x7x7 --out-channels 512 --kernel 3 --pad 1 --threads
                // 2`). On 1 thread 8x48 pads nothing but the last channel panel (0.83 ms
                // against 6x64's 0.85-0.86), and wins on the count.
                let channels = split.busiest(tile_width, kg, k_width) / split.block;
                let better = |(c, k, ..): &(f64, usize, &TileKernel, bool, WorkSplit)| {
                    cost < c - 1e-9 || (per_run && cost < c + 1e-9 && channels < *k)
                };
                if best.as_ref().is_none_or(better) {
                    best = Some((cost, channels, tile, transposed, split));
                }
            }
        }
        let (_, _, tile, transposed, split) = best.expect("every ISA has a tile kernel");
        let width = if transposed { tile.nr } else { tile.mr };

        // A block's tiles touch at most this many tile rows, each m image rows plus the
        // two the 3x3 window reaches past them.
        let tile_rows = (split.block.div_ceil(tiles_w) + 1).min(tiles_h);
        let stride = round_up(split.block);
        let per_run =
            per_run.then(|| PerRunFilters::new(variant, weights, desc.groups, kg, cg, tile.nr, stride)).flatten();
        let filters = match per_run {
            Some(f) => Filters::PerRun(f),
            None => Filters::Transformed(
                transform_filters(variant, desc.groups, kg, cg, weights, width),
                VRead::new(transposed, stride, tile, cg),
            ),
        };
        let qw = tiles_w + 1;
        let chunk = m * kernels.lanes;
        // An indirect A keeps image lines, not a packed panel, in L1 (`blocking`); at most
        // 1024 channels, as in every zoo model, one pass over K either way.
        let indexed = matches!(filters, Filters::PerRun(_) | Filters::Transformed(_, VRead::Indexed(_)));
        let blocking = blocking(tile, cg, indexed);
        let gemm_rows = if transposed { split.block } else { kg };
        let gemm_len = match &filters {
            Filters::PerRun(f) => f.scratch_len(tile, split.block),
            Filters::Transformed(_, v_read) => {
                part_scratch_len(v_read.feeds(transposed), tile, blocking, gemm_rows, transposed)
            }
        };
        Winograd {
            variant,
            tile,
            transposed,
            blocking,
            filters,
            split,
            tiles_w,
            q_len: round_up(cg * (tile_rows * m + 2) * m * qw),
            line_len: round_up((qw * m).div_ceil(chunk) * chunk),
            v_len: a2 * (round_up(cg * stride) + ALIGN_FLOATS),
            m_len: a2 * (round_up(kg * stride) + ALIGN_FLOATS),
            gemm_len,
            stride,
            v_xi: round_up(cg * stride) + ALIGN_FLOATS,
            m_xi: round_up(kg * stride) + ALIGN_FLOATS,
        }
    }

    pub(crate) fn tile_name(&self) -> &'static str {
        self.tile.name
    }

    pub(crate) fn transposed(&self) -> bool {
        self.transposed
    }

    pub(crate) fn weight_bytes(&self) -> usize {
        match &self.filters {
            Filters::Transformed(u, _) => u.iter().map(PackedPanels::bytes).sum(),
            Filters::PerRun(f) => f.bytes(),
        }
    }

    /// One worker's scratch: phase-split rows, one padded line, M, GEMM packing.
    fn worker_len(&self) -> usize {
        self.q_len + self.line_len + self.m_len + self.gemm_len
    }

    /// V buffers: one per block when threads split K (the block's workers share it), else
    /// one per worker.
    fn v_slots(&self) -> usize {
        if self.split.k_parts > 1 { self.split.blocks } else { self.split.workers }
    }

    pub(crate) fn scratch_len(&self) -> usize {
        ALIGN_FLOATS + self.v_slots() * self.v_len + self.split.workers * self.worker_len()
    }

    /// One (image, group): `image` its C/g input planes, `out` its first output channel
    /// (planes `pixels` apart), `epilogue` pointing at that channel.
    ///
    /// Where threads split K, each block's workers first transform a share of its channels
    /// into the block's shared V, and multiply after all have (two parallel loops: the
    /// second starts when the first is done). Each transforming the whole block itself
    /// repeated the transform, a quarter of a 2-thread 128x28x28 F(4x4) run's samples under
    /// `perf record` (against 16% on 1 thread). Measured, F(4x4), 2 threads, medians of three
    /// interleaved rounds, before / after (with V read in place too, worth about 5% alone):
    /// 128x28x28 0.286 / 0.230 ms, 512x7x7 0.889 / 0.793.
    ///
    /// # Safety
    /// `out` (and the epilogue's residual) are valid for K/g planes of OH*OW floats; the
    /// epilogue vectors hold K/g channels from there; `scratch` holds `scratch_len()`
    /// floats; the kernels passed the CPU check.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn run(
        &self,
        desc: &Conv2dDesc,
        s: &Conv2dShape,
        kernels: &'static KernelTable,
        group: usize,
        image: &[f32],
        out: *mut f32,
        epilogue: TaskEpilogue,
        scratch: &mut [f32],
    ) {
        let run = GroupRun { desc, s, kernels, group, image, out, epilogue };
        let WorkSplit { blocks, k_parts, workers, .. } = self.split;
        let (cg, kg) = (s.group_in_channels, s.group_out_channels);
        let width = if self.transposed { self.tile.nr } else { self.tile.mr };
        let worker_len = self.worker_len();
        let (v_all, rest) = align_scratch(scratch).split_at_mut(self.v_slots() * self.v_len);
        let buffers = &mut rest[..workers * worker_len];
        let tasks = |w: usize| (w..blocks * k_parts).step_by(workers);
        if k_parts == 1 {
            buffers.par_chunks_mut(worker_len).zip(v_all.par_chunks_mut(self.v_len)).enumerate().for_each(
                |(w, (buffer, v))| {
                    for block in tasks(w) {
                        let span = self.split.tiles_of(block);
                        // SAFETY: forwarded contract; `v` is this worker's; blocks write
                        // disjoint tiles of the output.
                        unsafe {
                            self.transform_input(&run, span.clone(), 0..cg, v.as_mut_ptr(), buffer);
                            self.multiply_and_output(&run, span, 0..kg, v, buffer);
                        }
                    }
                },
            );
            return;
        }
        let shared = SharedV(v_all.as_mut_ptr());
        buffers.par_chunks_mut(worker_len).enumerate().for_each(|(w, buffer)| {
            let shared = &shared;
            for task in tasks(w) {
                let (block, part) = (task / k_parts, task % k_parts);
                // SAFETY: forwarded contract; block `block`'s V slot is inside `v_all`, and
                // the block's parts write disjoint channel bands of it.
                unsafe {
                    let v = shared.0.add(block * self.v_len);
                    self.transform_input(&run, self.split.tiles_of(block), band(cg, 1, k_parts, part), v, buffer);
                }
            }
        });
        let v_all = &*v_all;
        buffers.par_chunks_mut(worker_len).enumerate().for_each(|(w, buffer)| {
            for task in tasks(w) {
                let (block, part) = (task / k_parts, task % k_parts);
                let v = &v_all[block * self.v_len..][..self.v_len];
                // SAFETY: forwarded contract; parts write disjoint channels of the output.
                unsafe {
                    self.multiply_and_output(
                        &run,
                        self.split.tiles_of(block),
                        band(kg, width, k_parts, part),
                        v,
                        buffer,
                    )
                };
            }
        });
    }

    /// V = B^T d B for tiles `span` and input channels `channels` of the group, into the
    /// block's V at `v` (rows of those channels only).
    ///
    /// # Safety
    /// As [`Winograd::run`]; `v` is valid for `v_len` floats and no other thread touches
    /// these channels' rows of it meanwhile; `buffer` is one worker's aligned scratch.
    unsafe fn transform_input(
        &self,
        run: &GroupRun,
        span: Range<usize>,
        channels: Range<usize>,
        v: *mut f32,
        buffer: &mut [f32],
    ) {
        if span.is_empty() || channels.is_empty() {
            return;
        }
        let GroupRun { desc, kernels, image, .. } = *run;
        let m = self.variant.m();
        let plane = desc.in_h * desc.in_w;
        let (q, rest) = buffer.split_at_mut(self.q_len);
        let line = &mut rest[..self.line_len];
        let tile_rows = (span.end - 1) / self.tiles_w - span.start / self.tiles_w + 1;
        let input = InputJob {
            image: image[channels.start * plane..].as_ptr(),
            in_h: desc.in_h,
            in_w: desc.in_w,
            pad_top: desc.padding.top,
            pad_left: desc.padding.left,
            channels: channels.len(),
            tiles_w: self.tiles_w,
            t0: span.start,
            t1: span.end,
            q: q.as_mut_ptr(),
            rows: tile_rows * m + 2,
            qw: self.tiles_w + 1,
            line: line.as_mut_ptr(),
            line_len: self.line_len,
            v: v.wrapping_add(channels.start * self.stride),
            v_xi: self.v_xi,
            vs: self.stride,
        };
        // SAFETY: `image` holds cg planes, so the channels' planes; q holds cg * rows * m *
        // qw floats (rows counted for the most tile rows a block touches), the line line_len
        // >= qw * m in whole chunks, v a2 blocks of v_xi >= cg * stride floats with stride >=
        // tiles, of which these channels' rows are written; the kernels passed the CPU check.
        unsafe {
            match self.filters {
                Filters::PerRun(_) if self.variant == Variant::F2 => (kernels.winograd_input_f2_folded)(&input),
                _ => (kernels.winograd_input[self.variant.index()])(&input),
            }
        };
    }

    /// M = U V for output channels `channels` and tiles `span`, then the output transform
    /// and epilogue into those channels' planes.
    ///
    /// # Safety
    /// As [`Winograd::run`]; `v` holds the block's V for all input channels; `buffer` is
    /// one worker's aligned scratch.
    unsafe fn multiply_and_output(
        &self,
        run: &GroupRun,
        span: Range<usize>,
        channels: Range<usize>,
        v: &[f32],
        buffer: &mut [f32],
    ) {
        if span.is_empty() || channels.is_empty() {
            return;
        }
        let GroupRun { kernels, group, .. } = *run;
        let rest = &mut buffer[self.q_len + self.line_len..];
        let (mbuf, gemm_scratch) = rest.split_at_mut(self.m_len);
        match &self.filters {
            // SAFETY: forwarded contract; M and the GEMM scratch are this worker's.
            Filters::Transformed(u, v_read) => unsafe {
                self.multiply_transformed(run, (u, v_read), span.len(), channels.clone(), v, mbuf, gemm_scratch)
            },
            // SAFETY: `channels` is a band of whole panels (or ends at K/g); V holds the
            // block's C/g rows of `stride >= tiles` floats per element; M holds kg rows of
            // `stride` floats per element; the scratch is the worker's GEMM part, `gemm_len`
            // floats; the kernels passed the CPU check.
            Filters::PerRun(f) => unsafe {
                let job = Products {
                    group,
                    v,
                    v_xi: self.v_xi,
                    channels: channels.clone(),
                    tiles: span.len(),
                    m: mbuf.as_mut_ptr(),
                    m_xi: self.m_xi,
                    ms: self.stride,
                };
                f.multiply(kernels, self.tile, &job, &mut gemm_scratch[..self.gemm_len])
            },
        }
        // SAFETY: forwarded contract; M now holds these channels.
        unsafe { self.output(run, span, channels, mbuf) };
    }

    /// M = U V for output channels `channels` and the block's `tiles` tiles, one GEMM per
    /// transform element over U transformed ahead.
    ///
    /// # Safety
    /// As [`Winograd::multiply_and_output`]; `mbuf` is the worker's M, `gemm_scratch` the
    /// rest of its buffer.
    #[allow(clippy::too_many_arguments)]
    unsafe fn multiply_transformed(
        &self,
        run: &GroupRun,
        (weights, v_read): (&[PackedPanels], &VRead),
        tiles: usize,
        channels: Range<usize>,
        v: &[f32],
        mbuf: &mut [f32],
        gemm_scratch: &mut [f32],
    ) {
        let GroupRun { s, kernels, group, .. } = *run;
        let a2 = self.variant.alpha() * self.variant.alpha();
        let (cg, kg) = (s.group_in_channels, s.group_out_channels);
        let identity = TaskEpilogue {
            channels_on_rows: !self.transposed,
            scale: std::ptr::null(),
            shift: std::ptr::null(),
            residual: std::ptr::null(),
            activation: Activation::Identity,
        };
        for xi in 0..a2 {
            let vx = &v[xi * self.v_xi..][..cg * self.stride];
            let strided;
            let v_operand = match v_read {
                VRead::Indexed(index) => {
                    // The index reaches (stride - 1) + (C - 1) * stride, the last float of `vx`.
                    let Some(source) = IndirectSource::new(vx, index) else {
                        unreachable!("V's C rows of `stride` floats hold every index")
                    };
                    Operand::Indirect(source)
                }
                VRead::Panel => Operand::Packed(PanelView::new(vx, self.stride, cg)),
                // Tile i, channel k at i + k*stride, as A or as B.
                VRead::Packed => {
                    strided =
                        StridedSource { data: vx, free_len: tiles, k_len: cg, free_stride: 1, k_stride: self.stride };
                    Operand::Source(&strided)
                }
            };
            let u = Operand::Packed(weights[group * a2 + xi].view());
            let (gm, gn, a, b, rs_c, cs_c) = if self.transposed {
                (tiles, kg, v_operand, u, 1, self.stride)
            } else {
                (kg, tiles, u, v_operand, self.stride, 1)
            };
            let gemm = GemmTask {
                m: gm,
                n: gn,
                k: cg,
                a,
                b,
                c: mbuf[xi * self.m_xi..].as_mut_ptr(),
                rs_c,
                cs_c,
                epilogue: identity,
                tile: self.tile,
                kernels,
                blocking: self.blocking,
                then: (xi + 1 < a2).then(|| weights[group * a2 + xi + 1].view()),
            };
            let (row_range, col_range) =
                if self.transposed { (0..tiles, channels.clone()) } else { (channels.clone(), 0..tiles) };
            // SAFETY: M of xi holds kg rows of `stride >= tiles` floats (m_xi >= kg * stride); U is packed for
            // kg x cg at this orientation's width; the ranges start on panel boundaries
            // (channels is a band of whole panels); scratch is aligned (every part of the
            // worker's buffer is a multiple of the alignment) and holds part_scratch_len
            // for the most rows a task has.
            unsafe { gemm.run_part(row_range, col_range, gemm_scratch) };
        }
    }

    /// The output transform and epilogue of channels `channels` of the block's tiles `span`
    /// from its M.
    ///
    /// # Safety
    /// As [`Winograd::multiply_and_output`]; `mbuf` holds M for these channels.
    unsafe fn output(&self, run: &GroupRun, span: Range<usize>, channels: Range<usize>, mbuf: &[f32]) {
        let GroupRun { s, kernels, .. } = *run;
        let plane_offset = channels.start * s.out_pixels();
        let e = run.epilogue.at(channels.start, plane_offset);
        let output = OutputJob {
            m: mbuf[channels.start * self.stride..].as_ptr(),
            xi_stride: self.m_xi,
            ms: self.stride,
            channels: channels.len(),
            tiles_w: self.tiles_w,
            t0: span.start,
            t1: span.end,
            out: run.out.wrapping_add(plane_offset),
            plane: s.out_pixels(),
            out_h: s.out_h,
            out_w: s.out_w,
            scale: e.scale,
            shift: e.shift,
            residual: e.residual,
            activation: e.activation,
        };
        // SAFETY: M holds this task's channels for all a2 elements; the tiles' outputs are
        // inside the group's output planes (caller's contract) and this task's alone; the
        // kernels passed the CPU check.
        unsafe { (kernels.winograd_output[self.variant.index()])(&output) };
    }
}

#[cfg(test)]
mod tests {
    use super::WorkSplit;

    const L2_FLOATS: usize = 1 << 18;

    /// 512x7x7 F(2x2) with the 8x48 tile transposed (tiles in 8s, K in 48s) on 2 threads
    /// (as it ran before its filters were transformed per run): two blocks of 8 tiles with
    /// all of K each beat one block with K split 6:5 panels.
    #[test]
    fn few_tiles_are_split_into_blocks_when_that_evens_the_threads() {
        let split = WorkSplit::new(16, 16 * 1024, L2_FLOATS, 8, 512, 48, 2, false);
        assert_eq!((split.block, split.blocks, split.k_parts, split.workers), (8, 2, 1, 2));
        assert_eq!(split.busiest(8, 512, 48), 8 * 528);
    }

    /// 512x28x28 F(4x4) (49 tiles, 36 x 1024 floats a tile), 6x64 transposed: L2 would hold
    /// 7 tiles, but the blocks are kept to 64 so that the 37.7 MB of transformed filters
    /// stream once per image, not once per 6-tile block; 2 threads then split K.
    #[test]
    fn blocks_hold_enough_tiles_to_use_the_filters_they_stream() {
        let one = WorkSplit::new(49, 36 * 1024, L2_FLOATS, 6, 512, 64, 1, false);
        assert_eq!((one.block, one.blocks, one.k_parts), (54, 1, 1));
        let two = WorkSplit::new(49, 36 * 1024, L2_FLOATS, 6, 512, 64, 2, false);
        assert_eq!((two.blocks, two.k_parts, two.workers), (1, 2, 2));
    }

    /// Tiles within one panel leave K as the only thing to split.
    #[test]
    fn one_panel_of_tiles_splits_k() {
        let split = WorkSplit::new(4, 36 * 1024, L2_FLOATS, 6, 512, 64, 2, false);
        assert_eq!((split.blocks, split.k_parts, split.workers), (1, 2, 2));
        assert_eq!(split.busiest(6, 512, 64), 6 * 256);
    }

    /// 196 tiles in 6s (128x28x28 F(2x2), 6x64 transposed): blocks of 60 would give the
    /// round-robin threads 120 and 78 tiles, blocks of 48 give 102 and 96.
    #[test]
    fn blocks_are_sized_to_even_the_threads() {
        let split = WorkSplit::new(196, 16 * 256, L2_FLOATS, 6, 128, 64, 2, false);
        assert_eq!((split.block, split.blocks, split.k_parts), (48, 5, 1));
        assert_eq!(split.busiest(6, 128, 64), 102 * 128);
    }

    /// 64x56x56 F(4x4), 8x48 plain (tiles in 48s, K in 8s), 2 threads: five blocks of 48
    /// round robin give one thread 144 tiles; with K in halves each has 240 x 32.
    #[test]
    fn k_is_split_where_blocks_would_leave_the_threads_uneven() {
        let split = WorkSplit::new(196, 36 * 128, L2_FLOATS, 48, 64, 8, 2, true);
        assert_eq!((split.block, split.blocks, split.k_parts, split.workers), (48, 5, 2, 2));
        assert_eq!(split.busiest(48, 64, 8), 240 * 32);
        let blocks_only = WorkSplit::new(196, 36 * 128, L2_FLOATS, 48, 64, 8, 2, false);
        assert_eq!(blocks_only.k_parts, 1);
    }

    /// 128x112x112 F(4x4), 8x48 plain, 2 threads: 17 blocks of 48 tiles give the threads 9
    /// and 8; K in halves would even them, but by 6%, less than the tenth a split that passes
    /// every block's V through L3 must save.
    #[test]
    fn many_blocks_are_not_split_in_k_for_a_small_saving() {
        let split = WorkSplit::new(784, 36 * 256, L2_FLOATS, 48, 128, 8, 2, true);
        assert_eq!((split.block, split.blocks, split.k_parts), (48, 17, 1));
    }

    /// F(2x2) and F(4x4) transform their filters per run below `WINOGRAD_MIN_TILES` tiles
    /// (F(2x2): 7x7 16, 10x10 25; F(4x4): 14x14 16, 20x20 25), in one block with K shared
    /// out; from there on (F(2x2): 11x11 36; F(4x4): 21x21 36) ahead. F(6x6) never does.
    #[test]
    fn small_maps_transform_the_filters_per_run() {
        use super::{Filters, Variant, Winograd};
        use crate::shape::Conv2dDesc;
        let kernels = crate::dispatch::table(crate::Isa::Portable).unwrap();
        let cases = [
            (Variant::F2, 7, true),
            (Variant::F2, 10, true),
            (Variant::F2, 11, false),
            (Variant::F4, 14, true),
            (Variant::F4, 20, true),
            (Variant::F4, 21, false),
            (Variant::F6, 7, false),
        ];
        for (variant, side, per_run) in cases {
            let desc = Conv2dDesc::new(1, 16, (side, side), 40, (3, 3)).pad(1);
            let s = desc.validate().unwrap();
            let plan = Winograd::new(variant, &desc, &s, &vec![0.0; s.weight_len], kernels, 2);
            assert_eq!(matches!(plan.filters, Filters::PerRun(_)), per_run, "{variant:?} {side}x{side}");
            if per_run {
                assert_eq!((plan.split.blocks, plan.split.k_parts), (1, 2), "{variant:?} {side}x{side}");
                assert_eq!(plan.weight_bytes(), 40usize.next_multiple_of(plan.tile.nr) * 16 * 9 * 4);
            }
        }
    }

    /// 3x224x224 F(2x2): 48-tile blocks would cut the busiest thread's work by 3% only, so
    /// the budget's 240 stay; one thread always takes the budget's block.
    #[test]
    fn a_smaller_block_must_cut_the_busiest_work_by_a_twentieth() {
        for threads in [1, 2] {
            let split = WorkSplit::new(12544, 16 * 67, L2_FLOATS, 48, 64, 8, threads, true);
            assert_eq!((split.block, split.blocks, split.k_parts), (240, 53, 1), "{threads} threads");
        }
    }
}
