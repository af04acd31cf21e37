//! A sliding window read straight from the unpadded input plane, for windows centred
//! across ("same" padding left and right, no dilation: MobileNetV2's and Xception's
//! depthwise layers), at stride 1, or at stride 2 on an even width.
//!
//! Output `q = oh*W + ow` reads tap (r, s) at input `q + (r - top)*W + (s - left)`: one
//! offset per tap, the same for every output. There is no padded copy in, nor wide buffer
//! out: each tap is one unaligned load, and each output vector is stored where it belongs.
//! A tap's column outside the row is its lane masked off the multiply-add, from masks
//! computed at plan creation; a row above or below the plane reads the zeros around the
//! plane's copy, which with the column inside is exactly "the row is outside".
//!
//! At stride 2 the copy is split into the input's even columns and its odd ones, each
//! W/2 = out_w wide (an even-width plane's even floats, read as one run, are its even
//! columns row after row, so the split is one pass of two-source permutes). Output
//! `(oh, ow)` then reads tap (r, s) at row `2*oh + r - top` of the array of column parity
//! `(s - left) mod 2`, column `ow + floor((s - left) / 2)`: again one offset per tap.
//!
//! Output vectors are cut per row (one row per vector; at stride 1 two on maps up to half a
//! vector wide, so a 7x7 map is 4 vectors, 14 of 16 lanes used, instead of 7), so the vectors of a
//! column, one below the other, share their masks and read the same input rows: a strip of
//! four of them loads each input row's taps once for every vector whose window covers the
//! row, 4.5 loads a vector instead of 9 for a 3x3 window at stride 1 (6.75 at stride 2,
//! where consecutive output rows share one input row of three). Against lane shifts of centre
//! loads (three loads and six two-source permutes a vector, every vector full across row
//! ends, but its masks looked up per vector), 1 thread: see `crate::conv::depthwise`.
//!
//! The plane is copied whole (no row pitch to change, so one run of vector moves) between
//! zeros. Reading the input in place instead, with each load's lanes outside the plane
//! masked off at run time, measured slower on the small maps where nearly every vector
//! touches an edge (576x14x14: 56 us against 33.4 with the copy, an earlier kernel).

use crate::arch::simd::Simd;
use crate::shape::Window2d;

/// Lanes the masks are built for: AVX-512's, the one path that takes this form
/// (`Simd::MASKED_OPS`).
const LANES: usize = 16;

/// The widest window taken (5x5): the mask table's width.
const MAX_TAPS: usize = 5;

/// One column of output vectors: its first output's offset in a vector row, how many of
/// its lanes are outputs, and per tap column the lanes whose tap is inside the row.
#[derive(Debug, Clone, Copy)]
struct Column {
    first: usize,
    valid: usize,
    masks: [u16; MAX_TAPS],
}

/// The window's geometry and column masks.
#[derive(Debug, Clone)]
pub(crate) struct ShiftedPlane {
    /// The input plane, H x W floats.
    plane: usize,
    /// Outputs in the plane: out_h * out_w.
    outputs: usize,
    /// out_w: the output's row length, and the copy's (W at stride 1, W/2 at stride 2).
    width: usize,
    /// 1, or 2 with the copy split into the input's even and odd columns.
    stride: usize,
    /// Output rows one vector holds: 2 when two rows fit in it (7x7 maps at stride 1), else 1.
    rows_per_vector: usize,
    /// Rows of vectors: out_h / rows_per_vector, rounded up.
    vector_rows: usize,
    /// Where tap row 0 of output row 0 reads in the copy, relative to its start: `-top`
    /// rows.
    row_origin: isize,
    /// Per tap column, where it reads relative to the output's column: `s - left` at
    /// stride 1; at stride 2 the column array (`part` apart) and `(s - left) / 2` rounded
    /// down within it.
    column_at: [isize; MAX_TAPS],
    /// Zeros before each column array in the copy: as far as the first vector reads before
    /// it (and after the array, as far as the last one reads past it).
    before: usize,
    /// Floats of one column array with its zeros: the whole plane at stride 1; at stride 2
    /// its even columns, then its odd ones.
    part: usize,
    /// Taps in the window: kh * kw.
    taps: usize,
    /// The columns of a vector row.
    columns: Box<[Column]>,
}

impl ShiftedPlane {
    /// The shifted form of a dilation-1 window centred across (odd width, left = right
    /// padding), up to 5x5, at stride 1, or at stride 2 on an even width, on a path with
    /// one-instruction masked operations (`masked_ops`, `Simd::MASKED_OPS`); `None` for
    /// others.
    pub(crate) fn new(win: &Window2d, masked_ops: bool) -> Option<ShiftedPlane> {
        if !masked_ops {
            return None;
        }
        let p = win.padding;
        let centred = win.kw % 2 == 1 && p.left == win.kw / 2 && p.right == p.left;
        let (w, k) = (win.out_w, win.kh.max(win.kw));
        let stride = match (win.sh, win.sw) {
            (1, 1) if win.out_w == win.w => 1,
            (2, 2) if win.w.is_multiple_of(2) && 2 * win.out_w == win.w => 2,
            _ => return None,
        };
        if (win.dh, win.dw) != (1, 1) || !centred || win.h == 0 || w == 0 || win.out_h == 0 || k > MAX_TAPS {
            return None;
        }
        // Two rows a vector only at stride 1: at stride 2 the next output row reads two
        // input rows on, which the copy does not hold next to each other.
        let rows_per_vector = if stride == 1 && 2 * w <= LANES { 2 } else { 1 };
        // Column `s` of the window, from output column `c`: its column array and offset.
        let (half, left) = (|d: isize| d.div_euclid(stride as isize), p.left as isize);
        let inside = |c: usize, s: usize| (0..w as isize).contains(&(c as isize + half(s as isize - left)));
        let column = |first: usize, valid: usize| Column {
            first,
            valid,
            masks: core::array::from_fn(|s| {
                (0..valid).filter(|&lane| inside((first + lane) % w, s)).fold(0u16, |m, lane| m | 1 << lane)
            }),
        };
        let columns: Box<[Column]> = match rows_per_vector {
            2 => [column(0, 2 * w)].into(),
            _ => (0..w.div_ceil(LANES)).map(|c| column(c * LANES, LANES.min(w - c * LANES))).collect(),
        };
        let vector_rows = win.out_h.div_ceil(rows_per_vector);
        let (plane, rows) = (win.h * win.w, win.h as isize);
        let row_origin = -(p.top as isize);
        // The first vector reads from its top left tap; the last one, at the last row's last
        // column, up to its bottom right tap and a vector on from there.
        let last_row = ((vector_rows - 1) * rows_per_vector * stride + win.kh - 1) as isize + row_origin;
        let last_column = columns[columns.len() - 1].first as isize + half(win.kw as isize - 1 - left);
        let start = row_origin * w as isize + half(-left);
        let end = last_row * w as isize + last_column + LANES as isize;
        let round = crate::aligned::round_up;
        let (before, after) = (round((-start) as usize), round((end - rows * w as isize).max(0) as usize));
        let part = before + round(win.h * w) + after;
        let column_at = core::array::from_fn(|s| {
            let d = s as isize - left;
            d.rem_euclid(stride as isize) * part as isize + half(d)
        });
        Some(ShiftedPlane {
            plane,
            outputs: win.out_h * w,
            width: w,
            stride,
            rows_per_vector,
            vector_rows,
            row_origin,
            column_at,
            before,
            part,
            taps: win.kh * win.kw,
            columns,
        })
    }

    /// Floats in an input plane, in an output plane, and taps in the window.
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        (self.plane, self.outputs, self.taps)
    }

    /// Floats of one copy: its column arrays with their zeros.
    fn copy_len(&self) -> usize {
        self.stride * self.part
    }

    /// Floats of scratch one thread needs: two copies, taking turns.
    pub(crate) fn scratch_len(&self) -> usize {
        2 * self.copy_len()
    }

    /// Planes `0 .. count`: plane `i`, `input(i)`, is copied between floats of `border`
    /// (zeros for a convolution, -inf for max pooling) and handed to `sweep(i, copy)`. Each
    /// copy is made one plane ahead, through two buffers taking turns: a copy swept straight
    /// after it was made was read before its stores had left the core (loads at other
    /// offsets than the stores cannot be forwarded from them). Against one buffer, 1 thread,
    /// depthwise 3x3 (`ferrocnn conv --input 1xCxHxW --out-channels C --kernel 3 --pad 1
    /// [--stride 2] --groups C --iters 1000`, medians of five interleaved runs, us): 960x7x7
    /// 16.7 / 25.2, 576x14x14 25.9 / 27.6, 192x28x28 29.2 / 29.9, 5x5 240x14x14 31.4 /
    /// 33.3, and even on 144x56x56 88.4 / 87.5 and 32x112x112 78.5 / 79.8. Only 56x56 maps
    /// at stride 2 lose, their two copies crowding L1: 144x56x56 s2 42.4 / 38.9. Choosing
    /// one buffer for them at run time cost the small maps 2-8% (960x7x7 17.3, 5x5 240x14x14
    /// 33.7), so every plane takes two. With the shifted sweep in a shell of its own
    /// (`conv::depthwise::Sweep`), one buffer chosen at plan time for stride-2 copies
    /// larger than half of L1 no longer wins: 144x56x56 s2 0.0419 either way, 96x112x112 s2
    /// 0.1403 -> 0.1438, max pooling 64x112x112 0.0905 -> 0.0914 (1 thread, five
    /// interleaved rounds, ms). Prefetching the plane after next (to L2, every line, just
    /// before each sweep) was slower: 96x112x112 s2 0.137-0.140 -> 0.160, 144x56x56 s2
    /// 0.042 -> 0.059; the copy of that layer reads its plane from L3 at about 64 GB/s and
    /// is half its time under `perf`. Spread over the sweep instead (the plane after next
    /// to L2, a few lines after each output vector is stored, so that its copy finds it
    /// there), it was slower still: 96x112x112 s2 0.133-0.136 -> 0.137-0.138, 144x56x56 s2
    /// 0.039-0.040 -> 0.045, and at stride 1 144x56x56 0.076-0.079 -> 0.094-0.096 (1
    /// thread, three interleaved rounds, 2026-11-25). `scratch` holds `scratch_len()`
    /// floats.
    ///
    /// Tried: the strips whose reads lie inside the plane read it where it lies, and only
    /// the rows the top and bottom strips read are copied (at stride 1; a sixth of the time
    /// of 144x56x56 went to the copy under `perf`). Alone, 1 thread, medians of three
    /// interleaved rounds, ms: 144x56x56 0.089 -> 0.087, 32x112x112 0.079 -> 0.067,
    /// 192x28x28 0.029 -> 0.030. Inside MobileNetV2 (`bench mobilenet-v2 --per-layer
    /// --threads 1`, three rounds), reading the expand layer's fresh output: 144x56x56
    /// 0.084-0.086 -> 0.089-0.092, 192x28x28 0.028-0.030 -> 0.040-0.041, 32x112x112 the
    /// same; the model 3.468 / 3.479 ms (1 thread) and 1.920 / 1.935 (2), medians of seven.
    ///
    /// # Safety
    /// `S` is available.
    #[inline(always)]
    pub(crate) unsafe fn each_plane<'a, S: Simd>(
        &self,
        count: usize,
        input: impl Fn(usize) -> &'a [f32],
        scratch: &mut [f32],
        border: f32,
        mut sweep: impl FnMut(usize, &[f32]),
    ) {
        let len = self.copy_len();
        let (mut current, mut next) = scratch[..2 * len].split_at_mut(len);
        for i in 0..count {
            // SAFETY: `S` is available; each buffer holds one copy.
            unsafe {
                if i == 0 {
                    self.fill::<S>(input(0), current, true, border);
                }
                if i + 1 < count {
                    self.fill::<S>(input(i + 1), next, i == 0, border);
                }
            }
            sweep(i, current);
            core::mem::swap(&mut current, &mut next);
        }
    }

    /// Copies `input` (the plane) into `copy` between floats of `border` (written when
    /// `fresh`: later planes through the same buffer overwrite only the plane), at offset
    /// `before` of each column array.
    ///
    /// # Safety
    /// `S` is available.
    #[inline(always)]
    unsafe fn fill<S: Simd>(&self, input: &[f32], copy: &mut [f32], fresh: bool, border: f32) {
        let copy = &mut copy[..self.copy_len()];
        if fresh {
            copy.fill(border);
        }
        let (at, plane) = (self.before, &input[..self.plane]);
        // SAFETY: `S` is available.
        unsafe {
            match self.stride {
                1 => crate::flat_plane::copy_row::<S>(&mut copy[at..at + self.plane], plane),
                _ => {
                    let (even, odd) = copy.split_at_mut(self.part);
                    split_columns::<S>(plane, &mut even[at..at + self.plane / 2], &mut odd[at..at + self.plane / 2]);
                }
            }
        }
    }

    /// Every output vector of a K x K window, handed to `store(result, first output, valid
    /// lanes)`: its taps folded into `init` by `tap(result, loaded, r, s, mask)`, `mask`
    /// the lanes whose tap column is inside the row (a convolution multiplies and adds, max
    /// pooling takes the larger); or, at stride 1 when `ZERO_OUTSIDE` (the fold is a sum),
    /// the loaded vector's lanes outside the row zeroed, by `tap_zeroed(result, loaded, r,
    /// s)`.
    ///
    /// At stride 1 each load feeds up to three output vectors, and zeroing its lanes once
    /// beats masking them off each multiply-add: a masked multiply-add per use (two in three
    /// of a 3x3 window's) held the sweep well below its unmasked rate on Zen 5. 1 thread,
    /// three interleaved rounds (`ferrocnn conv --input 1xCxHxW --out-channels C --kernel 3
    /// --pad 1 --groups C --iters 2000`), ms, masked multiply-adds / loads zeroed:
    /// 144x56x56 0.089-0.091 / 0.080-0.082, 32x112x112 0.079 / 0.072-0.073, 192x28x28
    /// 0.028 / 0.026. At stride 2, whose loads feed one or two vectors, zeroing them ran
    /// slower (192x28x28 s2 0.015-0.016 -> 0.019, 144x56x56 s2 the same); max pooling,
    /// merging -inf into the loads instead of its masked maxima, 64x112x112 3x3 s2
    /// 0.0900-0.0907 -> 0.0919-0.0933.
    ///
    /// `ZERO_OUTSIDE` is a constant, not `tap_zeroed` made optional (max pooling passing
    /// `None` instead of a fold that is never called): with the option the stride-2 sweep,
    /// which never zeroes, compiled worse, 192x28x28 s2 0.015 -> 0.026 ms (1 thread, three
    /// interleaved rounds; stride 1 and max pooling the same).
    ///
    /// # Safety
    /// `S` is available, with 16 lanes; `input` is a copy from `each_plane`.
    #[inline(always)]
    pub(crate) unsafe fn sweep_taps<S: Simd, const K: usize, const ZERO_OUTSIDE: bool>(
        &self,
        input: &[f32],
        init: S::V,
        tap: impl Fn(S::V, S::V, usize, usize, u32) -> S::V,
        tap_zeroed: impl Fn(S::V, S::V, usize, usize) -> S::V,
        store: impl FnMut(S::V, usize, usize),
    ) {
        // Checked once a plane, not debug-only: they also tell the compiler the copy's length.
        assert!(S::LANES == LANES && K <= MAX_TAPS, "the path's lanes and the window's size");
        assert!(input.len() >= self.copy_len(), "the plane's copy");
        // SAFETY: `S` is available; `input` is the copy (asserted).
        unsafe {
            let op = Taps { init, tap, tap_zeroed };
            match (self.stride, self.rows_per_vector) {
                (1, 1) => self.sweep::<S, K, 1, 1, ZERO_OUTSIDE>(input, &op, store),
                (1, _) => self.sweep::<S, K, 2, 2, ZERO_OUTSIDE>(input, &op, store),
                _ => self.sweep::<S, K, 1, 2, false>(input, &op, store),
            }
        }
    }

    /// The plane in strips of vector rows (four for a 3x3 window, two for a 5x5 one, whose
    /// 25 taps take most of the registers: four measured 480x7x7 22.3 -> 28.6 us and
    /// 240x14x14 28.6 -> 32.7, 1 thread), then single rows, column by column. Strips of
    /// eight for 3x3, so that eight multiply-add chains rather than four hide the latency,
    /// ran slower (1 thread, ms, three rounds: 144x56x56 0.089-0.090 -> 0.108-0.109, s2
    /// 0.044 -> 0.063, 96x112x112 s2 0.147 -> 0.180).
    ///
    /// # Safety
    /// As `sweep_taps`, with `ROWS` the plane's output rows per vector and `STEP` the input
    /// rows from one vector row to the next.
    #[inline(always)]
    unsafe fn sweep<S: Simd, const K: usize, const ROWS: usize, const STEP: usize, const ZERO: bool>(
        &self,
        input: &[f32],
        op: &Taps<S::V, impl Fn(S::V, S::V, usize, usize, u32) -> S::V, impl Fn(S::V, S::V, usize, usize) -> S::V>,
        mut store: impl FnMut(S::V, usize, usize),
    ) {
        // SAFETY: `S` is available; `input` is the copy (the caller's contract).
        unsafe {
            let row = match K {
                3 => self.strips::<S, K, ROWS, STEP, 4, ZERO>(input, op, 0, &mut store),
                _ => self.strips::<S, K, ROWS, STEP, 2, ZERO>(input, op, 0, &mut store),
            };
            self.strips::<S, K, ROWS, STEP, 1, ZERO>(input, op, row, &mut store);
        }
    }

    /// Strips of `N` vector rows from `row` on, as many as fit; returns the row after them.
    ///
    /// # Safety
    /// As `sweep`.
    #[inline(always)]
    unsafe fn strips<
        S: Simd,
        const K: usize,
        const ROWS: usize,
        const STEP: usize,
        const N: usize,
        const ZERO: bool,
    >(
        &self,
        input: &[f32],
        op: &Taps<S::V, impl Fn(S::V, S::V, usize, usize, u32) -> S::V, impl Fn(S::V, S::V, usize, usize) -> S::V>,
        mut row: usize,
        store: &mut impl FnMut(S::V, usize, usize),
    ) -> usize {
        while row + N <= self.vector_rows {
            for column in self.columns.iter() {
                // SAFETY: `S` is available; `input` is the copy; rows `row .. row + N` exist.
                unsafe { self.strip::<S, K, ROWS, STEP, N, ZERO>(input, op, row, column, store) };
            }
            row += N;
        }
        row
    }

    /// The `N` vectors of `column` in vector rows `row .. row + N`. Input row `m` of the
    /// strip (counted from the first vector's top tap row) is loaded once per tap column
    /// and feeds vector `j`'s tap row `m - j * STEP` wherever that is a row of the window.
    ///
    /// # Safety
    /// As `sweep`; `row + N <= vector_rows`.
    #[inline(always)]
    unsafe fn strip<S: Simd, const K: usize, const ROWS: usize, const STEP: usize, const N: usize, const ZERO: bool>(
        &self,
        input: &[f32],
        op: &Taps<S::V, impl Fn(S::V, S::V, usize, usize, u32) -> S::V, impl Fn(S::V, S::V, usize, usize) -> S::V>,
        row: usize,
        column: &Column,
        store: &mut impl FnMut(S::V, usize, usize),
    ) {
        let w = self.width;
        let first = row * ROWS * w + column.first;
        let mut masks = [0u32; K];
        for (mask, &word) in masks.iter_mut().zip(&column.masks) {
            *mask = word as u32;
        }
        let at = (self.before + row * STEP * w + column.first) as isize + self.row_origin * w as isize;
        // At stride 1 (a vector row's input rows are its output rows) the tap columns are
        // constants, `s - K / 2`, which leaves their registers to the row addresses.
        let mut columns = [0isize; K];
        for (s, c) in columns.iter_mut().enumerate() {
            *c = if STEP == ROWS { s as isize - (K / 2) as isize } else { self.column_at[s] };
        }
        debug_assert!(STEP != ROWS || columns[..] == self.column_at[..K]);
        debug_assert!(columns.iter().all(|&c| at + c >= 0));
        debug_assert!(columns.iter().all(|&c| {
            let end = at + c + (((N - 1) * STEP + K - 1) * w + LANES) as isize;
            end <= input.len() as isize
        }));
        // SAFETY: `S` is available; the reads, from the first vector's top-left tap to the
        // last one's bottom-right tap and a vector on, lie within the copy: `before` and
        // `after` were sized for the plane's first and last vectors.
        unsafe {
            let base = input.as_ptr().offset(at);
            let mut sums = [op.init; N];
            for m in 0..(N - 1) * STEP + K {
                for (s, &c) in columns.iter().enumerate() {
                    let x = S::load(base.offset((m * w) as isize + c));
                    // The centre column is inside the row wherever an output is.
                    let x = if ZERO && s != K / 2 { S::keep_masked(x, masks[s]) } else { x };
                    for (j, sum) in sums.iter_mut().enumerate() {
                        if m >= j * STEP && m - j * STEP < K {
                            *sum = if ZERO {
                                (op.tap_zeroed)(*sum, x, m - j * STEP, s)
                            } else {
                                (op.tap)(*sum, x, m - j * STEP, s, masks[s])
                            };
                        }
                    }
                }
            }
            for (j, sum) in sums.into_iter().enumerate() {
                let q = first + j * ROWS * w;
                store(sum, q, column.valid.min(self.outputs - q));
            }
        }
    }
}

/// How a window's taps fold into a result: from `init`, by `tap(result, loaded, r, s,
/// mask)`, or by `tap_zeroed(result, loaded, r, s)` on loads whose lanes outside the row
/// were zeroed (a sum's fold at stride 1, `ZERO_OUTSIDE`; see `ShiftedPlane::sweep_taps`).
struct Taps<V, F, Z> {
    init: V,
    tap: F,
    tap_zeroed: Z,
}

/// `plane`'s even floats into `even` and its odd ones into `odd`: an even-width plane's
/// even and odd columns, row after row, in one run.
///
/// On MobileNetV2's 96x112x112 stride-2 layer this loop is about 45% of the time, its
/// loads waiting on the plane from L3 (4.8 MB at about 80 GB/s). Software prefetches 1, 4
/// and 16 KiB ahead left it where it was (0.135-0.138 ms against 0.135-0.136, 1 thread,
/// three rounds, 2026-11-25).
///
/// # Safety
/// `S` is available; `even` and `odd` hold half of `plane` each.
#[inline(always)]
unsafe fn split_columns<S: Simd>(plane: &[f32], even: &mut [f32], odd: &mut [f32]) {
    let (n, lanes) = (plane.len(), S::LANES);
    assert!(n.is_multiple_of(2) && even.len() == n / 2 && odd.len() == n / 2, "the column arrays' lengths");
    let (src, e, o) = (plane.as_ptr(), even.as_mut_ptr(), odd.as_mut_ptr());
    let mut x = 0;
    // SAFETY: `S` is available; reads stay below `n` and writes below `n / 2` (`x` even).
    unsafe {
        while x + 2 * lanes <= n {
            let [evens, odds] = S::deinterleave::<2>([S::load(src.add(x)), S::load(src.add(x + lanes))]);
            S::store(e.add(x / 2), evens);
            S::store(o.add(x / 2), odds);
            x += 2 * lanes;
        }
        let rest = n - x;
        if rest > 0 {
            let first = if rest >= lanes { S::load(src.add(x)) } else { S::load_partial(src.add(x), rest) };
            let second = if rest > lanes { S::load_partial(src.add(x + lanes), rest - lanes) } else { S::zero() };
            let [evens, odds] = S::deinterleave::<2>([first, second]);
            S::store_partial(e.add(x / 2), rest / 2, evens);
            S::store_partial(o.add(x / 2), rest / 2, odds);
        }
    }
}
