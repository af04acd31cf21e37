//! A stride-1 sliding window read straight from the unpadded input plane, for windows
//! centred across ("same" padding left and right, no dilation across: MobileNetV2's and
//! Xception's depthwise layers).
//!
//! Output `q = oh*W + ow` reads tap (r, s) at input `q + (r*dh - top)*W + (s - left)`: one
//! offset per tap, the same for every output, so a vector of outputs may span rows and every
//! vector is full whatever the map's width. There is no padded copy in, nor wide buffer
//! out: the input is read once and each output vector is stored where it belongs.
//!
//! Per tap row, a group of vectors loads its centre vectors once; the taps left and right of
//! centre are the same floats shifted by a lane or two, taken from neighbouring vectors with
//! a two-source permute (`Simd::concat_shift`) rather than loaded again, unaligned, at each
//! tap: the loads are what limited this kernel (depthwise 3x3 on 144x56x56, 1 thread: nine
//! masked loads a vector, 155 us; three loads and the shifts, 101 us; figures against the
//! padded path in `crate::conv::depthwise`). Only paths with one-instruction shifts and
//! masked multiply-adds take it (`Simd::LANE_SHIFTS`: AVX-512).
//!
//! The plane is copied whole (no row pitch to change, so one run of vector moves) between
//! zeros: a load's lanes above or below the plane read zeros, which with the column inside
//! is exactly "the row is outside". Reading the input in place instead, with each load's
//! lanes outside the plane masked off at run time, measured slower on the small maps where
//! nearly every group touches an edge (576x14x14: 56 us against 33.4 with the copy). A
//! tap's column outside the row is its lane masked off
//! the multiply-add, from a table of one 16-bit word per 16 outputs per column tap, computed
//! at plan creation (an 8-lane ISA takes its half of the word).

use crate::arch::simd::Simd;
use crate::shape::Window2d;

/// Outputs one mask word covers: the widest vector of any path.
const WORD: usize = 16;

/// Mask words beyond which a plane takes the padded path instead (64 KiB of masks: a 3x3
/// window's output up to 174,762 pixels, about 418x418; a 5x5 one's up to 104,848, about
/// 323x323).
const MAX_WORDS: usize = 1 << 15;

/// Vectors computed together: their centre vectors supply each other's shifted taps.
const GROUP: usize = 4;

/// The window's row offsets and column masks.
#[derive(Debug, Clone)]
pub(crate) struct ShiftedPlane {
    /// The input plane, H x W floats.
    plane: usize,
    /// Outputs in the plane: out_h * W.
    outputs: usize,
    /// Per tap row, where its centre tap reads relative to the output's index.
    rows: Box<[isize]>,
    /// Zeros before the plane in the scratch copy: as far as the first group reads before it.
    before: usize,
    /// Zeros after it: as far as the last group reads past it.
    after: usize,
    /// Per 16 outputs, per tap column: bit `i` is set when output `16*word + i` exists and
    /// that column of its window is inside the row.
    columns: Box<[u16]>,
}

impl ShiftedPlane {
    /// The shifted form of a stride-1 window centred across (odd width, left = right
    /// padding, dilation 1 across), or `None` (or when the mask table would be too large).
    pub(crate) fn new(win: &Window2d) -> Option<ShiftedPlane> {
        let p = win.padding;
        let centred = win.kw % 2 == 1 && p.left == win.kw / 2 && p.right == p.left && win.dw == 1;
        if (win.sh, win.sw) != (1, 1) || !centred || win.out_w != win.w || win.h == 0 || win.w == 0 {
            return None;
        }
        let outputs = win.out_h * win.w;
        let words = outputs.div_ceil(WORD);
        if words * win.kw > MAX_WORDS {
            return None;
        }
        let rows: Box<[isize]> =
            (0..win.kh).map(|r| ((r * win.dh) as isize - p.top as isize) * win.w as isize).collect();
        let inside = |q: usize, s: usize| {
            let x = (q % win.w + s) as isize - p.left as isize;
            q < outputs && (0..win.w as isize).contains(&x)
        };
        let columns = (0..words * win.kw)
            .map(|i| {
                let (word, s) = (i / win.kw, i % win.kw);
                (0..WORD).filter(|&lane| inside(word * WORD + lane, s)).fold(0u16, |m, lane| m | 1 << lane)
            })
            .collect();
        let plane = win.h * win.w;
        // Groups read centre vectors from one vector before their first output to one after
        // their last, at each row's offset; the last group ends at most a vector of `WORD`
        // past the outputs.
        let before = (WORD as isize - rows[0]).max(0) as usize;
        let end = (outputs.div_ceil(WORD) + 1) * WORD;
        let after = (end as isize + rows[win.kh - 1] - plane as isize).max(0) as usize;
        let round = crate::aligned::round_up;
        Some(ShiftedPlane { plane, outputs, rows, before: round(before), after: round(after), columns })
    }

    /// Outputs in the plane.
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// Floats of scratch one thread needs: the plane with zeros before and after it.
    pub(crate) fn scratch_len(&self) -> usize {
        self.before + crate::aligned::round_up(self.plane) + self.after
    }

    /// Copies `input` (the plane) into `scratch` between its zeros (set when `fresh`: later
    /// planes of the same thread overwrite only the plane) and returns the copy, with the
    /// plane at offset `before`.
    ///
    /// # Safety
    /// `S` is available.
    #[inline(always)]
    pub(crate) unsafe fn fill<'s, S: Simd>(&self, input: &[f32], scratch: &'s mut [f32], fresh: bool) -> &'s [f32] {
        let copy = &mut scratch[..self.scratch_len()];
        if fresh {
            copy.fill(0.0);
        }
        // SAFETY: `S` is available.
        unsafe { crate::flat_plane::copy_row::<S>(&mut copy[self.before..self.before + self.plane], input) };
        copy
    }

    /// The column mask of vector `v` (of `lanes` outputs) at tap column `s` of `k`.
    #[inline(always)]
    fn column(&self, v: usize, lanes: usize, s: usize, k: usize) -> u32 {
        let per_word = WORD / lanes;
        let word = self.columns[v / per_word * k + s] as u32;
        (word >> (v % per_word * lanes)) & ((1u32 << lanes) - 1)
    }

    /// Every output vector as `filter` (K x K, taps splatted) convolves it, handed to
    /// `store(sum, first output, valid lanes)`.
    ///
    /// # Safety
    /// `S` is available, with `LANES` dividing 16; `input` is `fill`'s copy.
    #[inline(always)]
    pub(crate) unsafe fn convolve<S: Simd, const K: usize>(
        &self,
        input: &[f32],
        filter: &[[S::V; K]; K],
        mut store: impl FnMut(S::V, usize, usize),
    ) {
        // Checked once a plane, not debug-only: they also tell the compiler the table's and
        // the copy's lengths, and as debug assertions the loop lost 13% (144x56x56 depthwise,
        // 1 thread: 104.7 -> 118.6 us, interleaved medians).
        let words = self.outputs.div_ceil(WORD);
        assert_eq!((self.rows.len(), self.columns.len()), (K, words * K), "the window's size");
        assert!(input.len() >= self.scratch_len(), "the plane's copy");
        let vectors = self.outputs.div_ceil(S::LANES);
        let mut v = 0;
        // SAFETY: (both loops) `S` is available; `input` holds the copy with its zeros
        // (asserted); every group lies within the plane's vectors.
        unsafe {
            while v + GROUP <= vectors {
                for (i, sum) in self.group::<S, K, GROUP>(input, filter, v).into_iter().enumerate() {
                    store(sum, (v + i) * S::LANES, S::LANES.min(self.outputs - (v + i) * S::LANES));
                }
                v += GROUP;
            }
            while v < vectors {
                let [sum] = self.group::<S, K, 1>(input, filter, v);
                store(sum, v * S::LANES, S::LANES.min(self.outputs - v * S::LANES));
                v += 1;
            }
        }
    }

    /// Vectors `v .. v + N`: per tap row, the centre vectors from one before the group to
    /// one after it are loaded once; a tap `d` columns off centre is a centre vector and its
    /// neighbour shifted by `d` lanes.
    ///
    /// # Safety
    /// `S` is available; `input` is `fill`'s copy; `v + N` vectors are within the plane's.
    #[inline(always)]
    unsafe fn group<S: Simd, const K: usize, const N: usize>(
        &self,
        input: &[f32],
        filter: &[[S::V; K]; K],
        v: usize,
    ) -> [S::V; N] {
        let (lanes, half) = (S::LANES, K / 2);
        debug_assert!(half < lanes);
        let columns: [[u32; K]; N] =
            core::array::from_fn(|i| core::array::from_fn(|s| self.column(v + i, lanes, s, K)));
        let first = (self.before + v * lanes) as isize - lanes as isize;
        debug_assert!(first + self.rows[0] >= 0);
        debug_assert!(first + self.rows[K - 1] + ((N + 2) * lanes) as isize <= input.len() as isize);
        // SAFETY: `S` is available; the group's reads, from a vector before its first
        // output to one after its last at each row's offset, lie within the copy: `before`
        // and `after` were sized for the first and last groups.
        unsafe {
            let mut sums = [S::zero(); N];
            for (r, row) in filter.iter().enumerate() {
                let at = first + self.rows[r];
                // N + 2 of them used (an array length cannot depend on N).
                let centre: [S::V; GROUP + 2] = core::array::from_fn(|j| {
                    let at = at + (j * lanes) as isize;
                    if j < N + 2 { S::load(input.as_ptr().offset(at)) } else { S::zero() }
                });
                for (s, w) in row.iter().enumerate() {
                    for (i, sum) in sums.iter_mut().enumerate() {
                        let x = if s < half {
                            S::concat_shift(centre[i], centre[i + 1], lanes - (half - s))
                        } else if s > half {
                            S::concat_shift(centre[i + 1], centre[i + 2], s - half)
                        } else {
                            centre[i + 1]
                        };
                        *sum = S::mul_add_masked(*w, x, *sum, columns[i][s]);
                    }
                }
            }
            sums
        }
    }
}
