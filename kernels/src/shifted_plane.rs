//! A stride-1 sliding window read straight from the unpadded input plane, for windows
//! centred across ("same" padding left and right, no dilation: MobileNetV2's and Xception's
//! depthwise layers).
//!
//! Output `q = oh*W + ow` reads tap (r, s) at input `q + (r - top)*W + (s - left)`: one
//! offset per tap, the same for every output. There is no padded copy in, nor wide buffer
//! out: each tap is one unaligned load, and each output vector is stored where it belongs.
//! A tap's column outside the row is its lane masked off the multiply-add, from masks
//! computed at plan creation; a row above or below the plane reads the zeros around the
//! plane's copy, which with the column inside is exactly "the row is outside".
//!
//! Output vectors are cut per row (one row per vector; two on maps up to half a vector
//! wide, so a 7x7 map is 4 vectors, 14 of 16 lanes used, instead of 7), so the vectors of a
//! column, one below the other, share their masks and read the same input rows: a strip of
//! four of them loads each input row's taps once for every vector whose window covers the
//! row, 4.5 loads a vector instead of 9 for a 3x3 window. Against lane shifts of centre
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
/// (`Simd::LANE_SHIFTS`).
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
    /// Outputs in the plane: out_h * W.
    outputs: usize,
    /// W: the input's and the output's row length.
    width: usize,
    /// Output rows one vector holds: 2 when two rows fit in it (7x7 maps), else 1.
    rows_per_vector: usize,
    /// Rows of vectors: out_h / rows_per_vector, rounded up.
    vector_rows: usize,
    /// Where tap (0, 0) of output `q` reads, relative to `q`: `-(top * W) - left`.
    origin: isize,
    /// Zeros before the plane in the scratch copy: as far as the first vector reads before it.
    before: usize,
    /// Zeros after it: as far as the last vector reads past it.
    after: usize,
    /// Taps in the window: kh * kw.
    taps: usize,
    /// The columns of a vector row.
    columns: Box<[Column]>,
}

impl ShiftedPlane {
    /// The shifted form of a stride-1, dilation-1 window centred across (odd width, left =
    /// right padding), up to 5x5; `None` for others.
    pub(crate) fn new(win: &Window2d) -> Option<ShiftedPlane> {
        let p = win.padding;
        let centred = win.kw % 2 == 1 && p.left == win.kw / 2 && p.right == p.left;
        let (w, taps) = (win.w, win.kh.max(win.kw));
        let unit = (win.sh, win.sw, win.dh, win.dw) == (1, 1, 1, 1);
        if !unit || !centred || win.out_w != w || win.h == 0 || w == 0 || win.out_h == 0 || taps > MAX_TAPS {
            return None;
        }
        let rows_per_vector = if 2 * w <= LANES { 2 } else { 1 };
        let inside = |column: usize, s: usize| (p.left..w + p.left).contains(&(column + s));
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
        let origin = -((p.top * w + p.left) as isize);
        let plane = win.h * w;
        // The last vector, at the last row's last column, reads up to its bottom right tap
        // and a vector on from there.
        let last = (vector_rows - 1) * rows_per_vector * w + columns[columns.len() - 1].first;
        let end = last as isize + origin + ((win.kh - 1) * w + win.kw - 1 + LANES) as isize;
        let round = crate::aligned::round_up;
        let (before, after) = ((-origin) as usize, (end - plane as isize).max(0) as usize);
        Some(ShiftedPlane {
            plane,
            outputs: win.out_h * w,
            width: w,
            rows_per_vector,
            vector_rows,
            origin,
            before: round(before),
            after: round(after),
            taps: win.kh * win.kw,
            columns,
        })
    }

    /// Outputs in the plane.
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// Floats in an input plane, in an output plane, and taps in the window.
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        (self.plane, self.outputs, self.taps)
    }

    /// Floats of scratch one thread needs: the plane with zeros before and after it.
    pub(crate) fn scratch_len(&self) -> usize {
        self.before + crate::aligned::round_up(self.plane) + self.after
    }

    /// Copies `input` (the plane) into `copy` (`scratch_len()` floats) between its zeros
    /// (written when `fresh`: later planes through the same buffer overwrite only the
    /// plane), at offset `before`.
    ///
    /// # Safety
    /// `S` is available.
    #[inline(always)]
    pub(crate) unsafe fn fill<S: Simd>(&self, input: &[f32], copy: &mut [f32], fresh: bool) {
        let copy = &mut copy[..self.scratch_len()];
        if fresh {
            copy.fill(0.0);
        }
        // SAFETY: `S` is available.
        unsafe { crate::flat_plane::copy_row::<S>(&mut copy[self.before..self.before + self.plane], input) };
    }

    /// Every output vector as `filter` (K x K, taps splatted) convolves it, handed to
    /// `store(sum, first output, valid lanes)`.
    ///
    /// # Safety
    /// `S` is available, with 16 lanes; `input` is `fill`'s copy.
    #[inline(always)]
    pub(crate) unsafe fn convolve<S: Simd, const K: usize>(
        &self,
        input: &[f32],
        filter: &[[S::V; K]; K],
        store: impl FnMut(S::V, usize, usize),
    ) {
        // Checked once a plane, not debug-only: they also tell the compiler the copy's length.
        assert!(S::LANES == LANES && K <= MAX_TAPS, "the path's lanes and the window's size");
        assert!(input.len() >= self.scratch_len(), "the plane's copy");
        // SAFETY: `S` is available; `input` is the copy (asserted).
        unsafe {
            match self.rows_per_vector {
                1 => self.sweep::<S, K, 1>(input, filter, store),
                _ => self.sweep::<S, K, 2>(input, filter, store),
            }
        }
    }

    /// The plane in strips of vector rows (four for a 3x3 window, two for a 5x5 one, whose
    /// 25 taps take most of the registers: four measured 480x7x7 22.3 -> 28.6 us and
    /// 240x14x14 28.6 -> 32.7, 1 thread), then single rows, column by column.
    ///
    /// # Safety
    /// As `convolve`, with `ROWS` the plane's rows per vector.
    #[inline(always)]
    unsafe fn sweep<S: Simd, const K: usize, const ROWS: usize>(
        &self,
        input: &[f32],
        filter: &[[S::V; K]; K],
        mut store: impl FnMut(S::V, usize, usize),
    ) {
        // SAFETY: `S` is available; `input` is the copy (the caller's contract).
        unsafe {
            let row = match K {
                3 => self.strips::<S, K, ROWS, 4>(input, filter, 0, &mut store),
                _ => self.strips::<S, K, ROWS, 2>(input, filter, 0, &mut store),
            };
            self.strips::<S, K, ROWS, 1>(input, filter, row, &mut store);
        }
    }

    /// Strips of `N` vector rows from `row` on, as many as fit; returns the row after them.
    ///
    /// # Safety
    /// As `sweep`.
    #[inline(always)]
    unsafe fn strips<S: Simd, const K: usize, const ROWS: usize, const N: usize>(
        &self,
        input: &[f32],
        filter: &[[S::V; K]; K],
        mut row: usize,
        store: &mut impl FnMut(S::V, usize, usize),
    ) -> usize {
        while row + N <= self.vector_rows {
            for column in self.columns.iter() {
                // SAFETY: `S` is available; `input` is the copy; rows `row .. row + N` exist.
                unsafe { self.strip::<S, K, ROWS, N>(input, filter, row, column, store) };
            }
            row += N;
        }
        row
    }

    /// The `N` vectors of `column` in vector rows `row .. row + N`. Input row `m` of the
    /// strip (counted from the first vector's top tap row) is loaded once per tap column
    /// and feeds vector `j`'s tap row `m - j * ROWS` wherever that is a row of the window.
    ///
    /// # Safety
    /// As `sweep`; `row + N <= vector_rows`.
    #[inline(always)]
    unsafe fn strip<S: Simd, const K: usize, const ROWS: usize, const N: usize>(
        &self,
        input: &[f32],
        filter: &[[S::V; K]; K],
        row: usize,
        column: &Column,
        store: &mut impl FnMut(S::V, usize, usize),
    ) {
        let (w, half) = (self.width, K / 2);
        let first = row * ROWS * w + column.first;
        let mut masks = [0u32; K];
        for (mask, &word) in masks.iter_mut().zip(&column.masks) {
            *mask = word as u32;
        }
        let at = (self.before + first) as isize + self.origin;
        debug_assert!(at >= 0);
        debug_assert!(at as usize + ((N - 1) * ROWS + K - 1) * w + K - 1 + LANES <= input.len());
        // SAFETY: `S` is available; the reads, from the first vector's top-left tap to the
        // last one's bottom-right tap and a vector on, lie within the copy: `before` and
        // `after` were sized for the plane's first and last vectors.
        unsafe {
            let base = input.as_ptr().offset(at);
            let mut sums = [S::zero(); N];
            for m in 0..(N - 1) * ROWS + K {
                for s in 0..K {
                    let x = S::load(base.add(m * w + s));
                    for (j, sum) in sums.iter_mut().enumerate() {
                        if m >= j * ROWS && m - j * ROWS < K {
                            let w = filter[m - j * ROWS][s];
                            *sum = if s == half {
                                S::mul_add(w, x, *sum)
                            } else {
                                S::mul_add_masked(w, x, *sum, masks[s])
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
