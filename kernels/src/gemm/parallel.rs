//! Splitting a GEMM over threads.
//!
//! Each part is a band of whole panels along M or N (or of vectors along N, for a B packed
//! ahead, where that balances better), run start to finish by one thread with its own
//! packing buffers: no barriers, no shared writes. The band axis is the one whose
//! operand is packed on the fly (or, for B, read in place), so no two threads pack the same data, unless that axis has
//! too few panels to share out evenly (a 7x7 map has 7 row panels: two threads would get
//! 4 and 3) — then the other axis, at the cost of packing the small operand twice.
//!
//! A [`Split`] is arithmetic (an axis and a count), and [`run`] recurses with `rayon::join`
//! over halves of it and of the scratch, so running allocates nothing.

use super::blocking::Blocking;
use super::driver::{Feed, GemmTask, part_scratch_len};
use super::microkernel::TileKernel;
use crate::aligned::{ALIGN_FLOATS, align_scratch};
use std::ops::Range;

/// How one `m x n` GEMM is cut into bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    by_rows: bool,
    /// Bands: the threads asked for, or fewer when the axis has fewer panels.
    count: usize,
    threads: usize,
    m: usize,
    n: usize,
    mr: usize,
    nr: usize,
    /// Columns a band is a multiple of: the panel width, or a vector where B is packed
    /// ahead (`GemmTask::run_part` starts such a part inside a panel).
    col_step: usize,
}

/// Panels of `width` over `len`, in `parts` bands: band `p`.
fn band(len: usize, width: usize, parts: usize, p: usize) -> Range<usize> {
    let panels = len.div_ceil(width);
    (p * panels / parts * width)..((p + 1) * panels / parts * width).min(len)
}

/// Longest band / ideal band, of bands of `step` (a panel, or a vector of a panel `panel`
/// wide) over `len`, in `parts`. A band that starts inside a panel is charged one step more
/// for its extra narrow tile; with `step = panel` none does. Vectors are taken only where
/// they beat whole panels. 2 threads, five interleaved rounds, ms: 960x7x7 -> 320 (seven
/// panels of 48, the last two vectors) 4 / 3 panels 0.0857-0.0892, 10 / 10 vectors
/// 0.0648-0.0667; but 960x7x7 -> 160, four panels, 2 / 2 panels 0.0364-0.0367 against
/// 5 / 5 vectors 0.0406-0.0413.
fn imbalance(len: usize, step: usize, panel: usize, parts: usize) -> f64 {
    let units = len.div_ceil(step);
    let bands = parts.min(units).max(1);
    let longest = (0..bands)
        .map(|p| {
            let r = band(len, step, bands, p);
            r.len().div_ceil(step) + usize::from(!r.start.is_multiple_of(panel))
        })
        .max()
        .unwrap_or(0);
    longest as f64 * parts as f64 / units as f64
}

impl Split {
    /// Splits an `m x n` GEMM over `threads`, given how A and B are fed.
    pub(crate) fn new(m: usize, n: usize, tile: &TileKernel, (a, b): (Feed, Feed), threads: usize) -> Split {
        let (mr, nr) = (tile.mr, tile.nr);
        let threads = threads.max(1);
        let split_rows = imbalance(m, mr, mr, threads);
        // Columns in whole panels, or, for a B packed ahead, in vectors where that balances
        // better, charged for its narrow tiles.
        let (col_step, split_cols) = {
            let panels = (nr, imbalance(n, nr, nr, threads));
            let vectors = (tile.lanes, imbalance(n, tile.lanes, nr, threads));
            if b == Feed::Ahead && vectors.1 < panels.1 { vectors } else { panels }
        };
        // Prefer the axis of the operand packed on the fly (so no packing is duplicated) —
        // rows for A, columns for B, and columns for a B read in place too (each thread
        // then reads only its own columns of it); switch only when the other axis balances
        // better by more than 3%. The margin is a tie-break, not a measured cost: with A in
        // place and B packed ahead (transposed convs) it just prefers columns, the channel
        // bands.
        let by_rows = if a == Feed::OnTheFly && b == Feed::Ahead {
            split_rows <= split_cols * 1.03
        } else {
            split_rows * 1.03 < split_cols
        };
        let panels = if by_rows { m.div_ceil(mr) } else { n.div_ceil(col_step) };
        Split { by_rows, count: threads.min(panels).max(1), threads, m, n, mr, nr, col_step }
    }

    pub(crate) fn part(&self, p: usize) -> (Range<usize>, Range<usize>) {
        if self.by_rows {
            (band(self.m, self.mr, self.count, p), 0..self.n)
        } else {
            (0..self.m, band(self.n, self.col_step, self.count, p))
        }
    }

    /// Padded work of the largest part over the mean: 1.0 is a perfect split.
    /// Against the threads asked for: one panel on two threads is 2.0, one idle thread.
    pub(crate) fn imbalance(&self) -> f64 {
        if self.by_rows {
            imbalance(self.m, self.mr, self.mr, self.threads)
        } else {
            imbalance(self.n, self.col_step, self.nr, self.threads)
        }
    }

    /// Scratch floats for parts `parts`, without alignment slack.
    fn parts_scratch_len(
        &self,
        parts: Range<usize>,
        feeds: (Feed, Feed),
        tile: &TileKernel,
        blocking: Blocking,
        transposed: bool,
    ) -> usize {
        parts.map(|p| part_scratch_len(feeds, tile, blocking, self.part(p).0.len(), transposed)).sum()
    }

    /// Scratch floats [`run`] needs, including slack to align the caller's slice.
    pub(crate) fn scratch_len(
        &self,
        feeds: (Feed, Feed),
        tile: &TileKernel,
        blocking: Blocking,
        transposed: bool,
    ) -> usize {
        self.parts_scratch_len(0..self.count, feeds, tile, blocking, transposed) + ALIGN_FLOATS
    }
}

/// Runs `task` split by `split`, in parallel on the current rayon pool.
///
/// # Safety
/// `split` was made for the task's shape, tile and packing; the task's pointers are valid
/// and nothing else accesses C meanwhile; `scratch` holds `split.scratch_len(..)` floats.
pub(crate) unsafe fn run(task: &GemmTask, split: &Split, scratch: &mut [f32]) {
    // SAFETY: forwarded contract; the aligned part of scratch still holds every part's
    // (alignment-rounded) length because `scratch_len` counted one alignment unit of slack.
    unsafe { run_parts(task, split, 0..split.count, align_scratch(scratch)) }
}

unsafe fn run_parts(task: &GemmTask, split: &Split, parts: Range<usize>, scratch: &mut [f32]) {
    if parts.len() == 1 {
        let (rows, cols) = split.part(parts.start);
        // SAFETY: this part is ours alone; scratch is aligned and long enough.
        return unsafe { task.run_part(rows, cols, scratch) };
    }
    let mid = parts.start + parts.len() / 2;
    let feeds = (task.a.feed(), task.b.feed());
    let left_len = split.parts_scratch_len(parts.start..mid, feeds, task.tile, task.blocking, task.transposed());
    let (left_buf, right_buf) = scratch.split_at_mut(left_len);
    rayon::join(
        // SAFETY: the halves are disjoint parts with disjoint scratch, each starting aligned
        // (every part's length is a multiple of the alignment).
        || unsafe { run_parts(task, split, parts.start..mid, left_buf) },
        // SAFETY: as above.
        || unsafe { run_parts(task, split, mid..parts.end, right_buf) },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_everything_in_whole_panels() {
        assert_eq!((0..2).map(|p| band(49, 7, 2, p)).collect::<Vec<_>>(), vec![0..21, 21..49]);
        assert_eq!((0..2).map(|p| band(10, 8, 2, p)).collect::<Vec<_>>(), vec![0..8, 8..10]);
        assert_eq!(imbalance(49, 7, 7, 2), 8.0 / 7.0);
        assert_eq!(imbalance(512, 64, 64, 2), 1.0);
        assert_eq!(imbalance(3, 8, 8, 2), 2.0);
    }

    #[test]
    fn a_packed_b_splits_on_vectors_where_panels_balance_worse() {
        // A family three or more vectors wide (with two, the charge equals what a split
        // inside a panel gains): AVX2's or AVX-512's, on the machines that run the tests.
        let Some(tile) = crate::dispatch::supported_isas()
            .into_iter()
            .flat_map(|isa| crate::dispatch::table(isa).unwrap().tiles)
            .find(|t| t.nr >= 3 * t.lanes)
        else {
            return;
        };
        let (nr, lanes) = (tile.nr, tile.lanes);
        // Six panels and two vectors (960x7x7 -> 320's shape): 4 / 3 in panels, so by
        // vectors, the second band inside a panel.
        let n = 6 * nr + 2 * lanes;
        let odd = Split::new(tile.mr, n, tile, (Feed::InPlace, Feed::Ahead), 2);
        let (_, second) = odd.part(1);
        assert!(!second.start.is_multiple_of(nr) && second.start.is_multiple_of(lanes), "{second:?}");
        assert!(odd.imbalance() < imbalance(n, nr, nr, 2));
        // Seven whole panels: splitting inside one gains what its narrow tile costs.
        assert!(Split::new(tile.mr, 7 * nr, tile, (Feed::InPlace, Feed::Ahead), 2).part(1).1.start.is_multiple_of(nr));
        // Four panels balance in panels; packed on the fly, B never splits inside one.
        let even = Split::new(tile.mr, 4 * nr, tile, (Feed::InPlace, Feed::Ahead), 2);
        assert_eq!(even.part(1).1.start, 2 * nr);
        let on_the_fly = Split::new(tile.mr, n, tile, (Feed::Ahead, Feed::OnTheFly), 2);
        assert!(on_the_fly.part(1).1.start.is_multiple_of(nr));
        // The charge: a band starting inside a panel counts one vector more.
        assert_eq!(imbalance(4 * nr, lanes, nr, 2), imbalance(4 * nr, lanes, lanes, 2));
    }

    #[test]
    fn a_split_counts_idle_threads() {
        let tile = &crate::dispatch::table(crate::Isa::Portable).unwrap().tiles[0];
        // One panel each way on two threads: one band, one thread idle.
        let one = Split::new(tile.mr, tile.nr, tile, (Feed::Ahead, Feed::OnTheFly), 2);
        assert_eq!(one.imbalance(), 2.0);
        // Even bands: balanced.
        let even = Split::new(tile.mr, 4 * tile.nr, tile, (Feed::Ahead, Feed::OnTheFly), 2);
        assert_eq!(even.imbalance(), 1.0);
    }
}
