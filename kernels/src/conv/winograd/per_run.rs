//! F(2x2) and F(4x4) with the filters transformed as each run needs them, not once when
//! the plan is made.
//!
//! Transformed ahead, F(2x2)'s filters are 16/9 the size of the 3x3 weights (F(4x4)'s
//! 36/9), and each of its 16 GEMMs reads a K x C block of them once per image, using each
//! float once per tile. On a 7x7 map (16 tiles) that is 8 flops per byte. In a model whose
//! weights outgrow the caches they stream from DRAM every image, and the layer waits on
//! them: ResNet-18's 512x7x7 layers ran F(2x2) in 0.67 ms alone (filters in L3) but 0.88 ms
//! inside the model on 1 thread and 0.72-0.75 on 2 (im2col 0.97 / 0.52).
//!
//! Here the plan keeps the 3x3 filters, packed as a K x 9C matrix in the GEMM's B panels,
//! and a worker transforms one panel's filters over a block of input channels into the
//! alpha^2 U panels just before its GEMM tiles read them from L2. F(2x2)'s transform takes
//! adds only (G's factors are folded into the input transform,
//! [`super::transform::F2Folded`]): 21 vector adds per filter vector against the 16 x tiles
//! multiply-adds that use it. F(4x4)'s is G itself, 36 stores a filter vector against 36 x
//! tiles multiply-adds; it runs on 14x14 maps (16 tiles, as F(2x2) on 7x7).
//!
//! ```text
//! for each panel of nr output channels (this worker's band)
//!   for each block of kc input channels
//!     U'[xi] (kc x nr, alpha^2 of them) = G' g G'^T   filters read once, from DRAM
//!     for xi, for each row panel of tiles
//!       acc[xi][tiles] (+)= V'[xi][tiles, block] U'[xi]   indirect microkernel
//!   M[xi][panel's channels] = acc, turned around        the transposed store
//! ```
//!
//! The accumulators (alpha^2 x tiles x nr floats, 48 KiB for F(2x2) at 16 tiles, 108 KiB
//! for F(4x4)) stay in L1/L2 between the channel blocks, so the GEMM's K is cut without M being turned around more than once.
//!
//! Measured (512x7x7, `ferrocnn conv --input 1x512x7x7 --out-channels 512 --kernel 3 --pad
//! 1 --threads T`): 0.83 ms on 1 thread, 0.44 on 2 (6x64; 0.52-0.55 with 8x48), against
//! im2col's 0.928 / 0.502; inside ResNet-18 on 1 thread 0.90 ms against im2col's 0.98 (the
//! models' figures are at `algo::PER_RUN_MIN_CHANNELS`). Under `perf`, a quarter of the
//! layer is the filter transform, mostly its 16 stores a vector into the L2-resident U'
//! (writing all 16 elements to one L1-resident panel instead, wrong but timed, ran 0.735
//! ms). Tried and left: filters in panels one vector wide, so each vector's nine taps are
//! one sequential run (the same alone; inside ResNet-18, with the prefetch reaching only the
//! first of a block's three vector panels, the model ran 11.54 ms against im2col's 10.76);
//! 64 or 256 channels a block instead of 128 (within 2% alone).
//!
//! F(4x4) on 256x14x14 (`... --input 1x256x14x14 --out-channels 256 --algo winograd-f4`):
//! 0.54 ms on 1 thread, 0.28 on 2. On 2 threads each worker transforming the whole input
//! into a V of its own, instead of a share of a V they both read, ran slower: 0.28 -> 0.31
//! ms (and 512x7x7 F(2x2) 0.45 -> 0.48). Under `perf` on 1 thread: the GEMM 55%, the filter
//! transform 14%, the input transform 13% (a vector holds one tile row's 4 tiles, a quarter
//! of its lanes), the transposed store 8%, the output transform 7%.

use super::Variant;
use super::transform::FilterJob;
use crate::aligned::{ALIGN_FLOATS, round_up};
use crate::dispatch::KernelTable;
use crate::epilogue::Activation;
use crate::gemm::driver::{IndirectIndex, IndirectSource};
use crate::gemm::microkernel::{Prefetch, TileKernel};
use crate::gemm::pack::{PackedPanels, StridedSource};
use crate::gemm::transposed_store::TransposedTile;
use std::ops::Range;

/// Input channels transformed at a time: the U' panels (alpha^2 x kc x nr floats) stay
/// within L2 beside V. F(2x2): 128 (16 x 128 x 48 floats, 384 KiB). F(4x4): 32 (36 x 32 x
/// 64, 288 KiB); 256x14x14 alone, 1 thread, two rounds (`ferrocnn conv --input 1x256x14x14
/// --out-channels 256 --kernel 3 --pad 1 --algo winograd-f4 --iters 500`), 32 / 64 / 128 /
/// 256 channels: 0.537-0.540 / 0.562-0.571 / 0.571-0.604 / 0.558-0.563 ms; inside
/// ResNet-50, its five such layers 2.84-2.87 ms at 32 against 2.87-2.90 at 64.
fn channels_per_block(variant: Variant) -> usize {
    match variant {
        Variant::F4 => 32,
        Variant::F2 | Variant::F6 => 128,
    }
}

/// The products one call of [`PerRunFilters::multiply`] computes: the block's `tiles` tiles
/// and output channels `channels` of group `group`, from V' (element xi, channel c, tile t
/// at `v[xi*v_xi + c*stride + t]`) into M (element xi, channel k, tile t at `m + xi*m_xi +
/// k*ms + t`).
pub(crate) struct Products<'a> {
    pub group: usize,
    pub v: &'a [f32],
    pub v_xi: usize,
    pub channels: Range<usize>,
    pub tiles: usize,
    pub m: *mut f32,
    pub m_xi: usize,
    pub ms: usize,
}

/// The 3x3 filters of every group, packed for transforming per run, and how the run reads
/// V: in place through the indirect kernels (tile i, channel k at `i + k * stride`).
pub(crate) struct PerRunFilters {
    /// F(2x2) (G folded into the input transform) or F(4x4).
    variant: Variant,
    /// Per group, its K x 9C filter matrix in panels of the tile's nr: output channel j of
    /// panel p, input channel c, tap t at row `c * 9 + t` of panel p.
    panels: Vec<PackedPanels>,
    v_index: IndirectIndex,
    stride: usize,
    cg: usize,
    kc: usize,
}

impl PerRunFilters {
    /// `weights` is K x C/g x 3 x 3 (all groups); V's rows are `stride` floats. `None` if
    /// V's index overflows (validated shapes, below 2^40 elements, never do) or the variant
    /// is F(6x6).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        variant: Variant,
        weights: &[f32],
        groups: usize,
        kg: usize,
        cg: usize,
        width: usize,
        stride: usize,
    ) -> Option<Self> {
        if variant == Variant::F6 {
            return None;
        }
        let v_index = super::v_index(cg, stride)?;
        let panels = (0..groups)
            .map(|g| {
                let source = StridedSource {
                    data: &weights[g * kg * cg * 9..][..kg * cg * 9],
                    free_len: kg,
                    k_len: cg * 9,
                    free_stride: cg * 9,
                    k_stride: 1,
                };
                PackedPanels::new(&source, width)
            })
            .collect();
        Some(PerRunFilters { variant, panels, v_index, stride, cg, kc: channels_per_block(variant).min(cg) })
    }

    /// The transform's elements, alpha^2.
    fn elements(&self) -> usize {
        self.variant.alpha() * self.variant.alpha()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.panels.iter().map(PackedPanels::bytes).sum()
    }

    /// Floats between two elements' U' panels: one line more than a panel, so that the 16
    /// stores of a filter vector fall in different L1 sets. Without the line (128 x 48
    /// floats, 24 KiB apart: all in one set) 512x7x7 ran 1.24 ms against 0.86 (1 thread,
    /// three rounds, `ferrocnn conv --input 1x512x7x7 --out-channels 512 --kernel 3 --pad 1
    /// --threads 1`).
    fn u_xi(&self, tile: &TileKernel) -> usize {
        self.kc * tile.nr + ALIGN_FLOATS
    }

    /// Scratch floats a worker needs for a block of `tiles` tiles: the U' panels and the
    /// accumulators.
    pub(crate) fn scratch_len(&self, tile: &TileKernel, tiles: usize) -> usize {
        let a2 = self.elements();
        round_up(a2 * self.u_xi(tile)) + a2 * tiles.div_ceil(tile.mr) * tile.mr * tile.nr
    }

    /// The filter block after (panel `p`, channels from `c0`) in a band of output channels
    /// ending at `end`: the next channel block, else the next panel's first.
    fn next_block(&self, (p, c0): (usize, usize), nr: usize, end: usize) -> Option<(usize, usize)> {
        if c0 + self.kc < self.cg { Some((p, c0 + self.kc)) } else { (p + nr < end).then_some((p + nr, 0)) }
    }

    /// `M[xi] = V'[xi] U'[xi]` for the products `job` names.
    ///
    /// # Safety
    /// `job.channels` starts on a panel boundary and ends at one or at K/g; `job.v` holds
    /// the block's V' (C/g rows of the `stride` given to `new` per element, elements
    /// `v_xi` apart), `tiles <= stride`; M is valid for the job's elements, channels and
    /// tiles; `scratch` holds `scratch_len(tile, tiles)` floats; `tile` and `kernels`
    /// belong to a path this CPU runs.
    pub(crate) unsafe fn multiply(
        &self,
        kernels: &KernelTable,
        tile: &TileKernel,
        job: &Products,
        scratch: &mut [f32],
    ) {
        // One monomorphised body per variant, its element count a constant. SAFETY:
        // forwarded contract; each transform is its variant's, from the same path.
        unsafe {
            match self.variant {
                Variant::F2 => self.multiply_elements::<16>(kernels.winograd_filters_f2, kernels, tile, job, scratch),
                Variant::F4 => self.multiply_elements::<36>(kernels.winograd_filters_f4, kernels, tile, job, scratch),
                Variant::F6 => unreachable!("`new` makes no per-run filters for F(6x6)"),
            }
        }
    }

    /// [`PerRunFilters::multiply`] for a variant of `A2` elements whose filter transform is
    /// `transform`.
    ///
    /// # Safety
    /// As `multiply`; `transform` is the variant's filter transform on a path this CPU runs.
    unsafe fn multiply_elements<const A2: usize>(
        &self,
        transform: unsafe fn(&FilterJob),
        kernels: &KernelTable,
        tile: &TileKernel,
        job: &Products,
        scratch: &mut [f32],
    ) {
        let Products { group, v, v_xi, ref channels, tiles, m, m_xi, ms } = *job;
        let (mr, nr, cg) = (tile.mr, tile.nr, self.cg);
        let row_panels = tiles.div_ceil(mr);
        let u_xi = self.u_xi(tile);
        let (u, acc) = scratch.split_at_mut(round_up(A2 * u_xi));
        let acc = &mut acc[..A2 * row_panels * mr * nr];
        let sources: [IndirectSource; A2] = core::array::from_fn(|xi| {
            // The index reaches (stride - 1) + (C - 1) * stride, the last float of the
            // element's V.
            IndirectSource::new(&v[xi * v_xi..][..cg * self.stride], &self.v_index)
                .unwrap_or_else(|| unreachable!("V's C rows of `stride` floats hold every index"))
        });
        let filters = self.panels[group].view();
        let calls = A2 * row_panels;
        let mut block = (!channels.is_empty()).then_some((channels.start, 0));
        while let Some((p, c0)) = block {
            let kc = self.kc.min(cg - c0);
            block = self.next_block((p, c0), nr, channels.end);
            let job =
                FilterJob { filters: filters.ptr(p / nr, c0 * 9), channels: kc, width: nr, u: u.as_mut_ptr(), u_xi };
            // SAFETY: panel p / nr holds rows c0 * 9 .. (c0 + kc) * 9 of nr floats (the
            // packed K x 9C matrix); U' holds A2 panels of kc x nr floats u_xi apart; nr is
            // whole vectors; the path runs here.
            unsafe { transform(&job) };
            // The next block's filters, fetched into L2 a share per GEMM tile while this
            // block's tiles compute, so that its transform does not wait on DRAM. Inside
            // ResNet-18 (five interleaved rounds, `ferrocnn bench resnet18 --threads T`)
            // without / with: 12.28 -> 11.35 ms on 1 thread, 6.60 -> 6.29 on 2; alone, with
            // the filters in L3, the same. Two blocks ahead instead ran slower (2026-11-25,
            // five rounds: 6.18 -> 6.43 ms on 2 threads, 10.81 -> 10.92 on 1).
            let (next, lines) = match block {
                Some((np, nc0)) => {
                    (filters.ptr(np / nr, nc0 * 9), (self.kc.min(cg - nc0) * 9 * nr).div_ceil(ALIGN_FLOATS))
                }
                None => (std::ptr::null(), 0),
            };
            let share = lines.div_ceil(calls).min(kc);
            for xi in 0..A2 {
                for ir in 0..row_panels {
                    let call = xi * row_panels + ir;
                    let first = call * share;
                    let prefetch = if first < lines {
                        Prefetch { next: next.wrapping_add(first * ALIGN_FLOATS), lines: share.min(lines - first) }
                    } else {
                        Prefetch::NONE
                    };
                    let c = acc[call * mr * nr..].as_mut_ptr();
                    // SAFETY: U'[xi] is kc rows of a packed nr panel; the accumulator tile
                    // holds mr rows of nr floats; the first channel block writes it, later
                    // ones add to it.
                    unsafe {
                        sources[xi].run_tile(
                            tile,
                            (ir * mr, mr.min(tiles - ir * mr)),
                            (c0, kc),
                            (u[xi * u_xi..].as_ptr(), nr),
                            c,
                            nr,
                            c0 > 0,
                            prefetch,
                        )
                    };
                }
            }
            if c0 + kc < cg {
                continue;
            }
            // The panel's last channel block: its accumulators, turned around, are M.
            // Each element's row panels lie one under the other: they turn as one chunk.
            for xi in 0..A2 {
                let t = TransposedTile {
                    tile: acc[xi * row_panels * mr * nr..].as_ptr(),
                    ld: nr,
                    rows: tiles,
                    cols: nr.min(channels.end - p),
                    c: m.wrapping_add(xi * m_xi + p * ms),
                    plane: ms,
                    accumulate: false,
                    finish: false,
                    scale: std::ptr::null(),
                    shift: std::ptr::null(),
                    residual: std::ptr::null(),
                    activation: Activation::Identity,
                };
                // SAFETY: the element's accumulators hold `tiles` rows of nr floats;
                // channels p .. p + cols and tiles 0 .. tiles of M[xi] are inside M
                // (caller's contract); the path runs here.
                unsafe { (kernels.transposed_store)(&t) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::matrices::{F2_BT, F2_G};
    use super::super::transform::{F2Folded, FilterTile, Tile};
    use crate::arch::generic::Portable;

    /// F(4x4)'s vector filter transform, G's fractions rounded to f32, is G g G^T as the
    /// plan transforms it ahead in f64, to f32 rounding.
    #[test]
    fn f4_filters_are_g_g_gt() {
        use super::super::matrices::F4_G;
        use super::super::transform::F4;
        let g: [[f32; 3]; 3] = core::array::from_fn(|r| core::array::from_fn(|s| ((r * 3 + s) as f32 * 0.83).cos()));
        let splat = wide::f32x8::splat;
        // SAFETY: the portable path runs everywhere.
        let got: [[wide::f32x8; 6]; 6] = unsafe {
            let columns: [[wide::f32x8; 6]; 3] =
                core::array::from_fn(|b| F4::filter::<Portable>([g[0][b], g[1][b], g[2][b]].map(splat)));
            core::array::from_fn(|i| F4::filter::<Portable>([columns[0][i], columns[1][i], columns[2][i]]))
        };
        // Each element sums at most nine products below 1 in magnitude, each rounded two or
        // three times in f32: about 1e-7. A wrong sign or factor is off by 1/24 of a tap or
        // more, 4e-3 at the smallest here.
        for i in 0..6 {
            for j in 0..6 {
                let mut want = 0.0f64;
                for a in 0..3 {
                    for b in 0..3 {
                        want += F4_G[i][a] * g[a][b] as f64 * F4_G[j][b];
                    }
                }
                let got = got[i][j].to_array()[0] as f64;
                assert!((got - want).abs() < 1e-6, "element ({i}, {j}): {got} against {want}");
            }
        }
    }

    /// U' V' = U V elementwise: the folded transforms give F(2x2)'s products.
    #[test]
    fn folded_products_equal_the_plain_ones() {
        let g: [[f32; 3]; 3] = core::array::from_fn(|r| core::array::from_fn(|s| ((r * 3 + s) as f32 * 0.71).sin()));
        let d: [[f32; 4]; 4] = core::array::from_fn(|r| core::array::from_fn(|s| ((r * 4 + s) as f32 * 0.43).cos()));
        let mut u = [[0.0f64; 4]; 4];
        let mut v = [[0.0f64; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                for a in 0..3 {
                    for b in 0..3 {
                        u[i][j] += F2_G[i][a] * g[a][b] as f64 * F2_G[j][b];
                    }
                }
                for a in 0..4 {
                    for b in 0..4 {
                        v[i][j] += F2_BT[i][a] * d[a][b] as f64 * F2_BT[j][b];
                    }
                }
            }
        }
        let splat = wide::f32x8::splat;
        // SAFETY: the portable path runs everywhere.
        let (uf, vf) = unsafe {
            let columns: [[wide::f32x8; 4]; 3] =
                core::array::from_fn(|b| F2Folded::filter::<Portable>([g[0][b], g[1][b], g[2][b]].map(splat)));
            let uf: [[wide::f32x8; 4]; 4] =
                core::array::from_fn(|i| F2Folded::filter::<Portable>([columns[0][i], columns[1][i], columns[2][i]]));
            let rows: [[wide::f32x8; 4]; 4] = core::array::from_fn(|a| F2Folded::input::<Portable>(d[a].map(splat)));
            let vf: [[wide::f32x8; 4]; 4] =
                core::array::from_fn(|i| F2Folded::input::<Portable>(core::array::from_fn(|a| rows[a][i])));
            (uf, vf)
        };
        // The f32 transforms round sums of at most nine terms below 1 in magnitude: the largest
        // error seen is 3.3e-7, on products of 1.1e-4 to 3.8. 1e-5 leaves 30x room, while a
        // wrong factor on an element (a half or a sign missing) is off by half the product or
        // more, 5e-5 at the smallest here.
        for i in 0..4 {
            for j in 0..4 {
                let folded = uf[i][j].to_array()[0] as f64 * vf[j][i].to_array()[0] as f64;
                assert!(
                    (folded - u[i][j] * v[i][j]).abs() < 1e-5,
                    "element ({i}, {j}): {folded} against {}",
                    u[i][j] * v[i][j]
                );
            }
        }
    }
}
