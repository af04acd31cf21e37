//! The loop nest around the microkernel, for one thread's part of C.
//!
//! ```text
//! for pc in K step KC                      one pass over K
//!   [pack A rows of this part, KC deep]    if A is not pre-packed (small, e.g. im2col pixels)
//!   for jc in part's N step NC             B block KC x NC stays in L2
//!     [pack B block]                       if B is not pre-packed
//!     for ir in MR-panels of A             A micro-panel MR x KC stays in L1 (an indirect A
//!                                          is not copied: the image lines it reads do)
//!       for jr in NR-panels of the block   B micro-panels stream from L2
//!         microkernel -> C tile; on the last pass, the epilogue in registers as it is
//!         stored (edge tiles, LeakyReLU and sigmoid: on the tile after, while in L1)
//! ```

use super::blocking::Blocking;
use super::epilogue::EpilogueTile;
use super::in_place::{InPlaceRows, OffsetRows};
use super::microkernel::{Clamp, Prefetch, StoreEpilogue, TileKernel};
use super::pack::{PanelSource, PanelView};
use super::transposed_store::{TransposedTile, chunk_tiles};
use crate::aligned::{ALIGN_FLOATS, round_up};
use crate::dispatch::KernelTable;
use crate::epilogue::Activation;
use std::ops::Range;

/// A packed panel to bring into cache, in equal shares, one per tile of the panel before.
#[derive(Clone, Copy)]
pub(super) struct NextPanel {
    start: *const f32,
    lines: usize,
    per_share: usize,
}

impl NextPanel {
    pub(super) const NONE: NextPanel = NextPanel { start: std::ptr::null(), lines: 0, per_share: 1 };

    /// Share `i`: none past the panel's last line.
    pub(super) fn share(&self, i: usize) -> Prefetch {
        let first = i * self.per_share;
        if first >= self.lines {
            return Prefetch::NONE;
        }
        Prefetch { next: self.start.wrapping_add(first * ALIGN_FLOATS), lines: self.per_share.min(self.lines - first) }
    }
}

/// One GEMM operand: packed once ahead of time, packed block by block as the GEMM runs,
/// or read in place — A through offsets, B as the row-major matrix it is.
#[derive(Clone, Copy)]
pub(crate) enum Operand<'a> {
    Packed(PanelView<'a>),
    Source(&'a dyn PanelSource),
    Indirect(IndirectSource<'a>),
    InPlace(InPlaceRows<'a>),
    /// B in place through offsets (an im2col matrix in phase planes).
    Offsets(OffsetRows<'a>),
}

/// How an operand reaches the microkernels: what decides the scratch it needs and which
/// axis two threads split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feed {
    /// Packed once, ahead: no buffer.
    Ahead,
    /// Packed block by block: a block's buffer.
    OnTheFly,
    /// Read where it lies: no buffer for A, one panel's for B (its partial last panel).
    InPlace,
}

impl Operand<'_> {
    pub(crate) fn feed(&self) -> Feed {
        match self {
            Operand::Packed(_) => Feed::Ahead,
            Operand::Source(_) => Feed::OnTheFly,
            Operand::Indirect(_) | Operand::InPlace(_) | Operand::Offsets(_) => Feed::InPlace,
        }
    }
}

/// Where an in-place matrix's elements are: element (i, k) at `bases[i] + offsets[k]`, with
/// the largest such index computed once, when a plan is made.
pub(crate) struct IndirectIndex {
    offsets: Vec<usize>,
    bases: Vec<usize>,
    /// max(bases) + max(offsets).
    reach: usize,
}

impl IndirectIndex {
    /// `None` if either list is empty or their largest sum overflows.
    pub(crate) fn new(offsets: Vec<usize>, bases: Vec<usize>) -> Option<Self> {
        let reach = bases.iter().max()?.checked_add(*offsets.iter().max()?)?;
        Some(IndirectIndex { offsets, bases, reach })
    }
}

/// A matrix read in place through an [`IndirectIndex`]. Made only when every index is inside
/// `data` — one comparison per run — which is what makes the indirect microkernels' reads
/// sound.
#[derive(Clone, Copy)]
pub(crate) struct IndirectSource<'a> {
    data: &'a [f32],
    offsets: &'a [usize],
    bases: &'a [usize],
}

impl<'a> IndirectSource<'a> {
    /// `None` if the index reaches past `data`.
    pub(crate) fn new(data: &'a [f32], index: &'a IndirectIndex) -> Option<Self> {
        (index.reach < data.len()).then_some(IndirectSource { data, offsets: &index.offsets, bases: &index.bases })
    }

    /// One tile of rows `i ..` (`rows` of them, at most the family's MR) and `cols` columns
    /// (the narrow kernel for fewer than a panel's) over k rows `k0 .. k0 + kc`, on `tile`'s
    /// indirect microkernel: for callers that run their own loop.
    ///
    /// # Safety
    /// `b` points into `kc` rows of a packed panel of `tile.nr` floats, with the whole
    /// vectors holding `cols` columns inside each row; `c` is valid for `rows` rows of
    /// `tile.nr` floats `rs_c` apart; `tile`'s ISA runs on this CPU.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn run_tile(
        &self,
        tile: &TileKernel,
        (i, rows): (usize, usize),
        (k0, kc): (usize, usize),
        (b, cols): (*const f32, usize),
        c: *mut f32,
        rs_c: usize,
        accumulate: bool,
        prefetch: Prefetch,
    ) {
        let (bases, offsets) = (&self.bases[i..i + rows], &self.offsets[k0..k0 + kc]);
        // SAFETY: the slices above hold every base and offset the kernel reads, and `new`
        // checked that each sum lies inside `data`; the rest is the caller's contract.
        unsafe {
            (tile.indirect(rows, cols))(
                kc,
                self.data.as_ptr(),
                offsets.as_ptr(),
                bases.as_ptr(),
                b,
                c,
                rs_c,
                accumulate,
                prefetch,
            )
        }
    }
}

/// The epilogue of a task, as pointers to the first channel's values.
#[derive(Clone, Copy)]
pub(crate) struct TaskEpilogue {
    /// Channels are the GEMM's rows (C row-major), or its columns (C transposed). Stated,
    /// not inferred from the strides: with one row or column both strides can be 1.
    pub channels_on_rows: bool,
    pub scale: *const f32,
    pub shift: *const f32,
    /// Same layout as C.
    pub residual: *const f32,
    pub activation: Activation,
}

impl TaskEpilogue {
    /// The epilogue from channel `channel` and output element `offset` on: the vectors and
    /// the residual advanced, each left null where absent.
    pub(crate) fn at(&self, channel: usize, offset: usize) -> TaskEpilogue {
        let advance = |p: *const f32, by: usize| if p.is_null() { p } else { p.wrapping_add(by) };
        TaskEpilogue {
            scale: advance(self.scale, channel),
            shift: advance(self.shift, channel),
            residual: advance(self.residual, offset),
            ..*self
        }
    }

    fn is_identity(&self) -> bool {
        self.scale.is_null()
            && self.shift.is_null()
            && self.residual.is_null()
            && self.activation == Activation::Identity
    }
}

/// C (m x n, element (i, j) at `c + i*rs_c + j*cs_c`) = epilogue(A (m x k) * B (k x n)).
pub(crate) struct GemmTask<'a> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// The broadcast operand; its panels have width `tile.mr`.
    pub a: Operand<'a>,
    /// The vector operand; its panels have width `tile.nr`.
    pub b: Operand<'a>,
    pub c: *mut f32,
    pub rs_c: usize,
    pub cs_c: usize,
    pub epilogue: TaskEpilogue,
    pub tile: &'static TileKernel,
    /// The path's epilogue and transposed store (those of `tile`'s ISA).
    pub kernels: &'static KernelTable,
    pub blocking: Blocking,
    /// The packed weights of the GEMM run next, when it has this one's shape and parts
    /// and takes them in the same place (A or B) as this one takes its own (Winograd's
    /// GEMMs, one per transform element): their first panel is prefetched after this
    /// GEMM's last.
    pub then: Option<PanelView<'a>>,
}

// SAFETY: a task is shared between the threads of one GEMM, which only read A, B and the
// epilogue vectors, and write disjoint tiles of C (the parts of `parallel::partition`).
unsafe impl Sync for GemmTask<'_> {}

/// Scratch floats one part needs for `rows` rows of C, given how A and B are fed and
/// whether C is transposed: A's buffer, B's, and the tile buffer.
pub(crate) fn part_scratch_len(
    (a, b): (Feed, Feed),
    tile: &TileKernel,
    blocking: Blocking,
    rows: usize,
    transposed: bool,
) -> usize {
    a_buffer_len(a, tile, blocking, rows)
        + b_buffer_len(b, tile, blocking)
        + round_up(tile_buffer_len(tile, rows, transposed))
}

/// One tile; for a transposed C, a chunk of row tiles, turned together (`transposed_store`).
fn tile_buffer_len(tile: &TileKernel, rows: usize, transposed: bool) -> usize {
    let tiles = if transposed { chunk_tiles(tile.mr, tile.lanes).min(rows.div_ceil(tile.mr)).max(1) } else { 1 };
    tiles * tile.mr * tile.nr
}

fn a_buffer_len(a: Feed, tile: &TileKernel, blocking: Blocking, rows: usize) -> usize {
    if a == Feed::OnTheFly { round_up(rows.div_ceil(tile.mr) * tile.mr * blocking.kc) } else { 0 }
}

fn b_buffer_len(b: Feed, tile: &TileKernel, blocking: Blocking) -> usize {
    match b {
        Feed::Ahead => 0,
        Feed::OnTheFly => round_up(blocking.nc * blocking.kc),
        Feed::InPlace => round_up(tile.nr * blocking.kc),
    }
}

impl GemmTask<'_> {
    /// C transposed: pixels on the rows (unit stride), channels on the columns.
    pub(crate) fn transposed(&self) -> bool {
        self.cs_c != 1
    }

    /// Runs rows `rows` and columns `cols` of C. Both ranges start on a panel boundary, but
    /// for a B packed ahead, whose columns may start on any vector (`parallel::Split`).
    ///
    /// # Safety
    /// C and the residual are valid for the task's extents; no other thread writes the
    /// tiles in `rows x cols`; `scratch` is 64-byte aligned and holds
    /// `part_scratch_len(.., rows.len(), self.transposed())` floats; the task's kernels are
    /// supported by this CPU.
    pub(crate) unsafe fn run_part(&self, rows: Range<usize>, cols: Range<usize>, scratch: &mut [f32]) {
        let (mr, nr) = (self.tile.mr, self.tile.nr);
        let Blocking { kc, nc } = self.blocking;
        // Columns before `cols.start` in its panel: the first tile of the part skips them.
        let head = cols.start % nr;
        debug_assert!(rows.start.is_multiple_of(mr) && head.is_multiple_of(self.tile.lanes));
        assert!(head == 0 || matches!(self.b, Operand::Packed(_)), "only a B packed ahead splits inside a panel");
        debug_assert!(rows.end <= self.m && cols.end <= self.n);
        let (a_buf, rest) = scratch.split_at_mut(a_buffer_len(self.a.feed(), self.tile, self.blocking, rows.len()));
        let (b_buf, rest) = rest.split_at_mut(b_buffer_len(self.b.feed(), self.tile, self.blocking));
        // A raw pointer: the per-tile closure writes into it, and the chunk's store reads it.
        let transposed = self.transposed();
        let tile_buf = rest[..tile_buffer_len(self.tile, rows.len(), transposed)].as_mut_ptr();
        // Row tiles a transposed C turns at once.
        let chunk = chunk_tiles(mr, self.tile.lanes);
        let row_panels = rows.len().div_ceil(mr);
        // The indirect kernels step through B a packed panel's width at a time.
        assert!(
            !(matches!(self.a, Operand::Indirect(_)) && matches!(self.b, Operand::InPlace(_) | Operand::Offsets(_))),
            "an indirect A takes a packed B"
        );

        for pc in (0..self.k).step_by(kc) {
            let kcur = kc.min(self.k - pc);
            let first_pass = pc == 0;
            let last_pass = pc + kcur == self.k;
            let (a_base, a_stride) = match self.a {
                Operand::Packed(p) => (p.ptr(rows.start / mr, pc), p.panel_stride()),
                Operand::Source(s) => {
                    s.pack(a_buf, mr, rows.start, rows.len(), pc, kcur);
                    (a_buf.as_ptr(), kcur * mr)
                }
                Operand::Indirect(_) => (std::ptr::null(), 0),
                Operand::InPlace(_) | Operand::Offsets(_) => {
                    unreachable!("tasks are built in this crate with only B in place")
                }
            };
            for jc in (cols.start - head..cols.end).step_by(nc) {
                let ncur = nc.min(cols.end - jc);
                // Panel jr of the block: at `b_base + jr * b_stride`, k-rows `ldb` floats
                // apart; an in-place B's partial last panel is copied to the buffer.
                let (b_base, b_stride, ldb) = match self.b {
                    Operand::Packed(p) => (p.ptr(jc / nr, pc), p.panel_stride(), nr),
                    Operand::Source(s) => {
                        s.pack(b_buf, nr, jc, ncur, pc, kcur);
                        (b_buf.as_ptr(), kcur * nr, nr)
                    }
                    Operand::InPlace(r) => {
                        let whole = ncur / nr * nr;
                        if whole < ncur {
                            r.source().pack(b_buf, nr, jc + whole, ncur - whole, pc, kcur);
                        }
                        (r.at(pc, jc), nr, r.ld())
                    }
                    // Whole panels go to the phased kernels, which find their own vectors.
                    Operand::Offsets(r) => {
                        let whole = ncur / nr * nr;
                        if whole < ncur {
                            r.source().pack(b_buf, nr, jc + whole, ncur - whole, pc, kcur);
                        }
                        (std::ptr::null(), 0, nr)
                    }
                    Operand::Indirect(_) => unreachable!("tasks are built in this crate with only A indirect"),
                };
                // `skip`: columns of the panel before the tile's first (the part's head).
                let b_panel = |jr: usize, tile_cols: usize, skip: usize| {
                    if tile_cols < nr && matches!(self.b, Operand::InPlace(_) | Operand::Offsets(_)) {
                        (b_buf.as_ptr(), nr)
                    } else {
                        (b_base.wrapping_add(jr * b_stride + skip), ldb)
                    }
                };
                let col_panels = ncur.div_ceil(nr);
                // The first column of panel `jr` in the part, and how many it has there.
                let panel_cols = |jr: usize| {
                    let panel_start = jc + jr * nr;
                    let j = panel_start.max(cols.start);
                    (j, (panel_start + nr).min(cols.end) - j)
                };
                // Inlined into both loop orders (`identity` only carries the attribute): as a
                // call per tile, with the kernel's match a second call, the two were 17% of
                // the samples of a 1x1 layer with K = 16. 1 thread, five interleaved rounds,
                // ms: 16x112x112 -> 96 0.229-0.233 -> 0.208-0.213, 32x28x28 -> 192
                // 0.0467-0.0480 -> 0.0448-0.0455, 64x56x56 -> 256 0.470-0.484 -> 0.453-0.464;
                // resnet50 30.38 -> 29.72, googlenet 9.26 -> 9.16.
                let tile_at = std::convert::identity(
                    #[inline(always)]
                    |ir: usize, jr: usize, prefetch: Prefetch| {
                        let i = rows.start + ir * mr;
                        let tile_rows = mr.min(rows.end - i);
                        // Panel `ir` of the A block (unused, and null-based, for an indirect A).
                        let a_ptr = a_base.wrapping_add(ir * a_stride);
                        let (j, tile_cols) = panel_cols(jr);
                        let panel_start = jc + jr * nr;
                        let kernel = std::convert::identity(
                            #[inline(always)]
                            |kcur, b_ptr, ldb: usize, c_ptr, rs, accumulate, cols, epilogue| match (self.a, self.b) {
                                // SAFETY: rows i .. i + tile_rows < m have bases and k rows pc ..
                                // pc + kcur offsets (`run_tile` slices them); B's panel holds kcur
                                // rows of nr floats, and C the tile.
                                (Operand::Indirect(s), _) => unsafe {
                                    s.run_tile(
                                        self.tile,
                                        (i, tile_rows),
                                        (pc, kcur),
                                        (b_ptr, cols),
                                        c_ptr,
                                        rs,
                                        accumulate,
                                        prefetch,
                                    )
                                },
                                // SAFETY: columns j .. j + nr are a whole panel inside B; the A panel
                                // holds kcur rows of mr floats; C and the epilogue as below.
                                (_, Operand::Offsets(r)) if cols == nr => unsafe {
                                    r.run_tile(
                                        self.tile,
                                        tile_rows,
                                        j,
                                        (pc, kcur),
                                        a_ptr,
                                        (c_ptr, rs, accumulate),
                                        epilogue,
                                        prefetch,
                                    )
                                },
                                // SAFETY: the A panel holds kcur rows of mr floats; a narrow kernel
                                // writes only the vectors holding `cols` columns; an epilogue comes
                                // from `store_epilogue` for this full tile, inside C and the residual
                                // (same layout), its vectors covering the tile's channels.
                                _ => unsafe {
                                    (self.tile.packed(tile_rows, cols))(
                                        kcur, a_ptr, b_ptr, ldb, c_ptr, rs, accumulate, epilogue, prefetch,
                                    )
                                },
                            },
                        );
                        let (b_ptr, ldb) = b_panel(jr, tile_cols, j - panel_start);
                        // SAFETY: panel `jr` of the B block exists (packed, copied, or whole in
                        // an in-place B, which `InPlaceRows::new` checked lies inside its data),
                        // and a part's head skips whole vectors of a packed panel, leaving the
                        // tile's `tile_cols` inside it; the C offsets are inside the task's
                        // extents because i < m and j < n; the tile buffer holds one tile, or
                        // for a transposed C min(chunk, row panels) tiles, and ir % chunk is
                        // below both (`tile_buffer_len`).
                        unsafe {
                            let c_tile = self.c.add(i * self.rs_c + j * self.cs_c);
                            if transposed {
                                // Into the chunk's buffer, under the tiles before it.
                                let into = tile_buf.add(ir % chunk * mr * nr);
                                kernel(kcur, b_ptr, ldb, into, nr, false, tile_cols, None);
                                return;
                            }
                            let finish = last_pass && !self.epilogue.is_identity();
                            if tile_cols == nr {
                                let fused = if finish { self.store_epilogue(i, j) } else { None };
                                kernel(kcur, b_ptr, ldb, c_tile, self.rs_c, !first_pass, nr, fused.as_ref());
                                if finish && fused.is_none() {
                                    self.apply_epilogue(i, j, tile_rows, tile_cols);
                                }
                            } else {
                                kernel(kcur, b_ptr, ldb, tile_buf, nr, false, tile_cols, None);
                                self.merge_tile(tile_buf, tile_rows, tile_cols, c_tile, !first_pass);
                                if finish {
                                    self.apply_epilogue(i, j, tile_rows, tile_cols);
                                }
                            }
                        }
                    },
                );
                if transposed {
                    // Down each channel panel: its channels' planes (and residual) are then
                    // written front to back, each line filled by consecutive tiles, instead
                    // of every channel of the block being touched between two row panels.
                    // Alone (hot caches) the order is within 1% either way on 14x14 and 7x7
                    // layers; in ResNet-50, 1 thread, medians of four interleaved rounds,
                    // 34.0 ms against 34.8 across the row panels.
                    for jr in 0..col_panels {
                        let next = self.next_panel(self.b, nr, jc + jr * nr, &cols, pc, row_panels);
                        let (j, tile_cols) = panel_cols(jr);
                        for first in (0..row_panels).step_by(chunk) {
                            let last = row_panels.min(first + chunk);
                            for ir in first..last {
                                tile_at(ir, jr, next.share(ir));
                            }
                            let i = rows.start + first * mr;
                            let chunk_rows = (rows.start + last * mr).min(rows.end) - i;
                            // SAFETY: the chunk's rows and the panel's columns are inside the
                            // part, whose tiles this thread alone writes.
                            unsafe {
                                self.store_transposed(tile_buf, (i, j), (chunk_rows, tile_cols), !first_pass, last_pass)
                            };
                        }
                    }
                } else {
                    // Across each row panel: its A micro-panel stays in L1. Tried where a B
                    // micro-panel fits half of L1 (kc * nr <= 6144 floats): down each B panel
                    // instead, B in L1 and the A panels streaming from L2, as BLIS orders it.
                    // 1x1 with shift, residual and ReLU, 1 thread, ms, three interleaved
                    // rounds: 64x56x56 -> 256 0.465-0.472 / 0.467-0.476, 128x28x28 -> 512
                    // 0.431-0.439 / 0.437-0.440, 256x56x56 -> 64 0.420-0.425 / 0.417-0.426.
                    for ir in 0..row_panels {
                        let next = self.next_panel(self.a, mr, rows.start + ir * mr, &rows, pc, col_panels);
                        for jr in 0..col_panels {
                            tile_at(ir, jr, next.share(jr));
                        }
                    }
                }
            }
        }
    }

    /// The packed panel the loop reads after the one at row or column `at` of `range`, K
    /// rows `pc ..` (the next panel of this K block, or the first of the next K block),
    /// shared out over the `shares` tiles that read the current one. The operand is B in
    /// the transposed loop (down each B panel, over its row tiles) and A in the row-major
    /// one (across each A panel, over the column tiles of the block; after the last row
    /// panel of a block that is not the last, the first panel follows again, still in L2,
    /// and the next K block is fetched early). After the last panel, the first of the
    /// GEMM that runs next, if the task names it ([`GemmTask::then`]): Winograd's GEMMs,
    /// one per transform element, each 1 to 11 panels wide, otherwise started every one
    /// of them on a panel nobody fetched (ResNet-50's 256x14x14 F(2x2) 0.62 -> 0.60 ms,
    /// GoogLeNet's 28x28 F(4x4) 0.64 -> 0.61, 4 interleaved rounds of `--per-layer`; the
    /// whole models within their noise).
    ///
    /// In a model the weights of the 7x7 and 14x14 layers come from DRAM (ResNet-18's
    /// layer4 holds 34 MB against a 32 MB L3). `ferrocnn bench resnet18 --per-layer
    /// --threads 1`, 2 interleaved rounds, without / with (B only): 512x7x7 3x3 1.13 ->
    /// 0.94 ms, 256x14x14 F(2x2) 0.675 -> 0.63. Whole models, 3 interleaved rounds, 1
    /// thread: resnet18 11.97 -> 11.43 ms, resnet50 33.6 -> 31.8, googlenet 10.11 -> 9.62.
    /// Alone, with the weights in cache, the same layers are within 1%. The hint made no
    /// difference on this Zen 5 (3 interleaved rounds, resnet18 / resnet50 ms: none 11.97 /
    /// 33.60, T0 11.23 / 31.98, T1 11.43 / 31.76, T2 11.37 / 31.90, NTA 11.25 / 31.68); T1
    /// says what is meant. Each tile fetches its share from its first k step on: the same
    /// lines spaced evenly over its k steps arrived later (5 rounds, 11.39 -> 11.48 /
    /// 31.45 -> 31.87).
    ///
    /// A in the row-major loop: 128x28x28 F(4x4), whose 49 tiles make one column panel so
    /// that each A panel feeds one tile, went 0.53 -> 0.41-0.46 ms in ResNet-50 (0.41
    /// alone); 5 interleaved rounds, 1 thread, without / with: resnet50 31.3 -> 30.6 ms,
    /// resnet18 11.10 -> 10.71, googlenet 10.03 -> 9.60, mobilenet-v2 3.37 -> 3.44 (3.47
    /// -> 3.45 in 5 more, no layer apart by 3%); 2 threads resnet50 17.5 -> 17.2,
    /// googlenet 5.68 -> 5.48. Alone, with A in cache, it costs 1-2% (7x7 stem 1.08 ->
    /// 1.11 ms, 1x1 64x56x56 -> 256 0.453 -> 0.459): a tile of the first K block of a
    /// short K fetches lines it will find cached anyway.
    pub(super) fn next_panel(
        &self,
        operand: Operand,
        width: usize,
        at: usize,
        range: &Range<usize>,
        pc: usize,
        shares: usize,
    ) -> NextPanel {
        let Operand::Packed(p) = operand else { return NextPanel::NONE };
        let kc = self.blocking.kc;
        let (p, panel, k0) = if at + width < range.end {
            (p, at / width + 1, pc)
        } else if pc + kc < self.k {
            (p, range.start / width, pc + kc)
        } else if let Some(then) = self.then {
            (then, range.start / width, 0)
        } else {
            return NextPanel::NONE;
        };
        let lines = (kc.min(self.k - k0) * width).div_ceil(ALIGN_FLOATS);
        // A tile fetches one line per k step of its own block: shares beyond that are
        // left to the hardware prefetcher.
        let per_share = lines.div_ceil(shares).min(kc.min(self.k - pc)).max(1);
        NextPanel { start: p.ptr(panel, k0), lines, per_share }
    }

    /// Writes (or adds) the top-left `rows x cols` of a tile computed into `tile` to
    /// row-major C: the path of N-edge tiles. Each row is a contiguous run, copied or added
    /// with vector moves rather than one float at a time.
    ///
    /// # Safety
    /// `tile` holds `rows` rows of NR floats; `c_tile` is valid for `rows x cols` elements
    /// at C's strides, and C is row-major.
    #[inline]
    unsafe fn merge_tile(&self, tile: *const f32, rows: usize, cols: usize, c_tile: *mut f32, accumulate: bool) {
        let nr = self.tile.nr;
        for ii in 0..rows {
            // SAFETY: row ii of the tile buffer holds `cols` computed floats; row ii of the
            // tile holds `cols` valid elements of C, contiguous because cs_c == 1, and C does
            // not overlap the tile buffer.
            let (src, dst) = unsafe {
                (
                    std::slice::from_raw_parts(tile.add(ii * nr), cols),
                    std::slice::from_raw_parts_mut(c_tile.add(ii * self.rs_c), cols),
                )
            };
            if accumulate {
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += *s);
            } else {
                super::pack::copy_run(dst, src);
            }
        }
    }

    /// Stores the `rows x cols` tile at (i, j) computed into `tile` to transposed C (pixels
    /// on the rows, unit row stride; channels on the columns, planes `cs_c` apart), adding
    /// the partial sum of earlier passes if `accumulate` and applying the epilogue if
    /// `last_pass`.
    ///
    /// # Safety
    /// The tile at (i, j) of `rows x cols` is inside C, which is transposed (`rs_c == 1`);
    /// the epilogue vectors cover its channels.
    unsafe fn store_transposed(
        &self,
        tile: *const f32,
        (i, j): (usize, usize),
        (rows, cols): (usize, usize),
        accumulate: bool,
        last_pass: bool,
    ) {
        debug_assert!(self.rs_c == 1 && !self.epilogue.channels_on_rows);
        let offset = i + j * self.cs_c;
        let e = self.epilogue.at(j, offset);
        let t = TransposedTile {
            tile,
            ld: self.tile.nr,
            rows,
            cols,
            c: self.c.wrapping_add(offset),
            plane: self.cs_c,
            accumulate,
            finish: last_pass && !e.is_identity(),
            scale: e.scale,
            shift: e.shift,
            residual: e.residual,
            activation: e.activation,
        };
        // SAFETY: the tile buffer holds `rows` rows of NR floats; the tile lies inside C and the
        // residual (same layout), and the vectors cover channels j .. j + cols (caller's
        // contract); the function belongs to the task's ISA, which the dispatcher checked.
        unsafe { (self.kernels.transposed_store)(&t) }
    }

    /// The epilogue of the tile at (i, j) of row-major C for the microkernel to apply as it
    /// stores, if the tile's rows are channels (a transposed C of one pixel is row-major
    /// too, its channels on the columns), its activation one the microkernels inline, A
    /// packed (the indirect microkernels, made for the transposed layout, store plainly),
    /// and no scale left (the plans that pack A fold it into the panels).
    fn store_epilogue(&self, i: usize, j: usize) -> Option<StoreEpilogue> {
        if !self.epilogue.channels_on_rows || matches!(self.a, Operand::Indirect(_)) || !self.epilogue.scale.is_null() {
            return None;
        }
        let e = self.epilogue.at(i, i * self.rs_c + j);
        Some(StoreEpilogue { shift: e.shift, residual: e.residual, clamp: Clamp::of(e.activation)? })
    }

    /// # Safety
    /// The tile at (i, j) of `rows x cols` is inside C; the epilogue vectors cover its channels.
    unsafe fn apply_epilogue(&self, i: usize, j: usize, rows: usize, cols: usize) {
        let (channel, ch_count, px_count, ld) =
            if self.epilogue.channels_on_rows { (i, rows, cols, self.rs_c) } else { (j, cols, rows, self.cs_c) };
        let offset = i * self.rs_c + j * self.cs_c;
        let e = self.epilogue.at(channel, offset);
        let tile = EpilogueTile {
            rows: ch_count,
            cols: px_count,
            c: self.c.wrapping_add(offset),
            ldc: ld,
            scale: e.scale,
            shift: e.shift,
            residual: e.residual,
            activation: e.activation,
        };
        // SAFETY: the tile lies inside C and the residual (same layout), and the vectors
        // cover channels `channel .. channel + ch_count` (caller's contract); the epilogue
        // function belongs to the task's ISA, which the dispatcher checked.
        unsafe { (self.kernels.epilogue)(&tile) }
    }
}
