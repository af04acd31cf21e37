//! Choosing the GEMM layout and microkernel family of a convolution.
//!
//! Two layouts (see `plan.rs`): *row-major* (rows = output channels, the image packed into
//! B panels on the fly) and *transposed* (rows = pixels read in place from the image,
//! columns = channels, each tile turned around into C from a buffer). Each candidate (family x
//! layout) is costed as padded work times its overheads, and the cheapest wins:
//!
//! - padding: `ceil(m/MR)*MR * ceil(n/NR)*NR / (m*n)`.
//! - row-major pays for packing: every packed image element feeds 2*K/g flops, and packing
//!   one costs about [`IM2COL_PACK_FLOPS`] flops' worth of time (from phase planes; a 1x1
//!   stride-1 unpadded conv packs rows of the image itself, [`COPY_PACK_FLOPS`], or reads
//!   them where they lie, for nothing).
//! - transposed pays for turning each tile around into C once per pass over K
//!   (`gemm::transposed_store`, with the epilogue on the way): about one cycle per element
//!   against `kc` multiply-adds per element at 32 per cycle (Zen 5 AVX-512), so `32 / kc`
//!   per pass (1x1 64x56x56 -> 256 with scale, shift, residual and ReLU, kc = 64:
//!   transposed 0.68 ms against row-major 0.46, the 1.5x this predicts); and double when the tile's channel rows, one output plane apart,
//!   fall into fewer L1 sets than they need (a plane of 4096*k bytes puts all of them in one
//!   set and every store misses). The turn got cheaper since (a chunk of tiles at a time),
//!   but half the charge, here and in `winograd`'s choice, moved 10 of ResNet-50's layers,
//!   15 of GoogLeNet's and 4 of MobileNetV2's to the transposed layout and no model (five
//!   interleaved rounds of `ferrocnn bench MODEL --threads 1`, ms, as is / half:
//!   resnet50 27.10 / 27.15, mobilenet-v2 3.029 / 3.025, googlenet 8.46 / 8.47, resnet18
//!   9.44 / 9.36, vgg16 58.1 / 58.4), so the charge stays.
//!
//! Measured on this machine (AVX-512, 1 thread, GFLOP/s, `ferrocnn conv --json`, each
//! layout forced in turn, medians of 20-50 runs, two interleaved rounds; row-major with the
//! packer that preceded phase planes — with them, 64x56x56 row-major reads 185):
//!
//! | layer | row-major | transposed |
//! |---|---|---|
//! | 3x3 64x56x56 | 117-120 | 193-197 |
//! | 3x3 128x28x28 | 156-157 | 201-202 |
//! | 3x3 256x14x14 | 100-126 | 195-205 |
//! | 1x1 256x56x56 -> 64 | 181-198 | 162-174 |
//! | 3x3 64x224x224 (VGG, plane of 49*4096 B) | 96-106 | 71-75 |
//!
//! which the model reproduces: it picks transposed for the first three and row-major for
//! the last two.
//!
//! The ResNet stem, 7x7 stride 2 3x224x224 -> 64, was a tie the model also saw (packing
//! 26/128, turning around 32/147): row-major 8x48 205-209 GFLOP/s, 6x64 209, transposed
//! 6x64 203, 8x48 and 7x48 149-151 (each forced, 1 thread, 50 runs). Under `perf` the
//! row-major run was 77% microkernel, near its peak, and 16% packing from the phase planes
//! (12% with the copies in the path's vectors). Its output rows are 112 pixels, whole
//! vectors, so it now reads B in place from the phase planes and packs nothing: 1.07-1.08
//! ms -> 0.93-0.96 (245-254 GFLOP/s; `ferrocnn conv --input 1x3x224x224 --out-channels 64
//! --kernel 7 --pad 3 --stride 2 --epilogue shift,relu --threads 1`, three interleaved
//! rounds), and the model charges such layers no packing.

use crate::gemm::blocking::{blocking, cache_sizes};
use crate::gemm::driver::Feed;
use crate::gemm::in_place::{reads_b_in_place, rows_of_whole_vectors};
use crate::gemm::microkernel::TileKernel;
use crate::gemm::parallel::Split;
use crate::gemm::tile_choice::padding_cost;
use crate::shape::Conv2dShape;

/// Time to pack one im2col element from phase planes, in flops of microkernel time
/// (~0.11 ns at 240 GFLOP/s). From 64x56x56 forced row-major, 185 GFLOP/s, against 211
/// transposed: 211/185 * (1 + 32/576) - 1 = 0.20 of the run at 2*64 flops per element. (The
/// packer before phase planes, with bounds checks per run, cost ~90: the table below.)
const IM2COL_PACK_FLOPS: f64 = 26.0;
/// The same for 1x1 convs, whose panels are plain row copies (the 1x1 row: ~5%).
const COPY_PACK_FLOPS: f64 = 6.0;
/// Multiply-adds per cycle of the widest FMA path (2 x 16 lanes).
const MACS_PER_CYCLE: f64 = 32.0;

/// ResNet-50's 1x1 layers on 14x14 maps with each family forced (2026-11-25, 1 thread,
/// three rounds, ms; 256 -> 1024 with shift, residual and ReLU / 1024 -> 256 with shift
/// and ReLU): 6x64, the choice, 0.462-0.467 / 0.395-0.399, 8x48 0.459-0.463 / 0.432-0.444,
/// 7x48 0.468-0.469 / 0.444-0.447. Eight pixels a channel run instead of six did not make
/// the residual layer's transposed stores cheaper.
///
/// The cheapest (family, transposed) for a convolution of shape `s` on `threads`; `pointwise`: the algorithm
/// is `Gemm1x1`, whose B is the image itself.
pub(crate) fn choose(
    tiles: &'static [TileKernel],
    s: &Conv2dShape,
    pointwise: bool,
    threads: usize,
) -> (&'static TileKernel, bool) {
    let mut best: Option<(f64, &'static TileKernel, bool)> = None;
    for tile in tiles {
        for transposed in [false, true] {
            // Threads split whole panels: the longest band sets the time.
            let (kg, pixels) = (s.group_out_channels, s.out_pixels());
            let (m, n) = if transposed { (pixels, kg) } else { (kg, pixels) };
            let balance = Split::new(m, n, tile, feeds(tile, transposed, pointwise, s), threads).imbalance();
            let cost = cost(tile, transposed, pointwise, s) * balance;
            if best.is_none_or(|(c, _, _)| cost < c - 1e-9) {
                best = Some((cost, tile, transposed));
            }
        }
    }
    let (_, tile, transposed) = best.expect("every ISA has a tile kernel");
    (tile, transposed)
}

fn cost(tile: &TileKernel, transposed: bool, pointwise: bool, s: &Conv2dShape) -> f64 {
    let (kg, pixels) = (s.group_out_channels, s.out_pixels());
    if !transposed {
        let pack = match feeds(tile, transposed, pointwise, s).1 {
            Feed::InPlace => 0.0,
            _ if pointwise => COPY_PACK_FLOPS,
            // Output rows of whole vectors are read where they lie in the phase planes
            // (`gemm::in_place::OffsetRows`).
            _ if rows_of_whole_vectors(s.out_w, tile.lanes) => 0.0,
            _ => IM2COL_PACK_FLOPS,
        };
        let rows = (kg.div_ceil(tile.mr) * tile.mr) as f64;
        return padding_cost(kg, tile.mr) * padding_cost(pixels, tile.nr) * (1.0 + pack / (2.0 * rows));
    }
    let kc = blocking(tile, s.reduction, true).kc as f64;
    let merge = MACS_PER_CYCLE / kc;
    padding_cost(pixels, tile.mr) * padding_cost(kg, tile.nr) * (1.0 + merge) * set_conflict(tile.nr, pixels)
}

/// How the GEMM of a layout takes its operands: transposed, the image is A, read in place,
/// and the weights B, packed ahead; row-major, the weights are A and the image B, read in
/// place where it is the B matrix itself (`pointwise`: 1x1, stride 1, no padding) and that is faster
/// (`gemm::in_place`), else packed on the fly.
pub(crate) fn feeds(tile: &TileKernel, transposed: bool, pointwise: bool, s: &Conv2dShape) -> (Feed, Feed) {
    if transposed {
        (Feed::InPlace, Feed::Ahead)
    } else if pointwise && reads_b_in_place(tile, s.group_out_channels, s.reduction) {
        (Feed::Ahead, Feed::InPlace)
    } else {
        (Feed::Ahead, Feed::OnTheFly)
    }
}

/// 2 when a tile's `rows` channel rows, `plane` floats apart, need more lines than the L1
/// sets they map to can hold, else 1.
fn set_conflict(rows: usize, plane: usize) -> f64 {
    let c = cache_sizes();
    let line = 64;
    let sets = (c.l1d / line / c.l1d_ways.max(1)).max(1);
    let mut used = vec![false; sets];
    for r in 0..rows {
        used[(r * plane * size_of::<f32>() / line) % sets] = true;
    }
    let capacity = used.iter().filter(|&&u| u).count() * c.l1d_ways;
    if rows > capacity { 2.0 } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::{Isa, table};
    use crate::{Algo, Conv2dDesc};

    /// The measured crossovers of the table above, on AVX-512 where they were measured.
    #[test]
    fn picks_the_measured_winner() {
        let Ok(t) = table(Isa::Avx512f) else { return };
        let transposed = |d: Conv2dDesc| choose(t.tiles, &d.validate().unwrap(), Algo::Gemm1x1.applies_to(&d), 1).1;
        assert!(transposed(Conv2dDesc::new(1, 64, (56, 56), 64, (3, 3)).pad(1)));
        assert!(transposed(Conv2dDesc::new(1, 128, (28, 28), 128, (3, 3)).pad(1)));
        assert!(transposed(Conv2dDesc::new(1, 256, (14, 14), 256, (3, 3)).pad(1)));
        assert!(transposed(Conv2dDesc::new(1, 512, (7, 7), 512, (3, 3)).pad(1)));
        assert!(!transposed(Conv2dDesc::new(1, 256, (56, 56), 64, (1, 1))));
        assert!(!transposed(Conv2dDesc::new(1, 64, (224, 224), 64, (3, 3)).pad(1)));
    }

    /// On 2 threads, 512x7x7 took 6x64 (channels split 256 + 256) over 7x48 split in
    /// panels (288 + 224). With 7x48's channels split on vectors (256 + 256, the second
    /// band inside a panel: `gemm::parallel::Split`), 7x48 and its 7-pixel rows win, and
    /// measure the same or better (`ferrocnn conv --input 1x512x7x7 --out-channels 512
    /// --kernel 3 --pad 1 --algo im2col --threads 2`, five interleaved rounds: 6x64
    /// 0.483-0.510 ms, 7x48 0.477-0.494).
    #[test]
    fn counts_the_thread_split() {
        let Ok(t) = table(Isa::Avx512f) else { return };
        let d = Conv2dDesc::new(1, 512, (7, 7), 512, (3, 3)).pad(1);
        let (tile, transposed) = choose(t.tiles, &d.validate().unwrap(), false, 2);
        assert_eq!((tile.name, transposed), ("avx512f_7x48", true));
        // Split in panels (a B packed on the fly), 7x48 would be 6 / 5 panels, and lose.
        let s = d.validate().unwrap();
        let panels = Split::new(49, 512, tile, (Feed::InPlace, Feed::OnTheFly), 2).imbalance();
        let vectors = Split::new(49, 512, tile, feeds(tile, true, false, &s), 2).imbalance();
        assert!(vectors < panels, "{vectors} {panels}");
    }
}
