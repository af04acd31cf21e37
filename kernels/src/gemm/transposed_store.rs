//! Storing a tile of the transposed layout: the GEMM's rows are pixels and its columns
//! channels, so a computed tile holds one pixel per row with the channels along it, while
//! C holds one channel per plane with the pixels along it.
//!
//! Pixel rows are turned around in registers, `LANES` at a time ([`Simd::transpose`], so
//! a channel's pixels are adjacent), and each channel's run is then written to its plane
//! — with the partial sum of earlier passes over K added and, on the last pass, the
//! epilogue applied on the way. The first form of this, one tile's rows at a time through
//! [`Simd::interleave`], replaced a scalar merge followed by a separate epilogue pass over
//! the strided planes. Measured, 1 thread AVX-512, medians of five interleaved rounds
//! (`ferrocnn conv --input 1xCxHxW --out-channels K --kernel R --epilogue E --threads 1
//! --json`), before / after: 1x1 256x14x14 -> 1024 with scale,shift,residual,relu 0.513 /
//! 0.453 ms, 1x1 1024x14x14 -> 256 with scale,shift,relu 0.409 / 0.385, 3x3 512x7x7
//! (F(2x2)) 0.669 / 0.629.
//!
//! A GEMM's tiles are turned a chunk at a time (`chunk_tiles`: about 96 pixel rows, one
//! panel of channels, computed one under the other into the part's buffer), LANES pixels
//! at a time with [`Simd::transpose`], so each channel's plane is written front to back in
//! whole vectors and its residual read the same way. One tile at a time, each tile wrote
//! and read a 6- or 7-pixel run in each of its 48 or 64 planes, lines that the B panel
//! streaming through L1 had evicted since the tile before: 13.6% of a `perf` profile of
//! 256x14x14 -> 1024 with residual, its loads of the residual the hot spot. 1 thread, ms,
//! before / after (chunks of 256 rows then; 96 since, `CHUNK_ROWS`): that layer 0.459 /
//! 0.422 alone; inside ResNet-50 (`--per-layer`, three interleaved rounds) layer3's six conv3 0.441-0.455 / 0.408-0.426 and its conv1
//! 0.397-0.405 / 0.384-0.393; whole models, five interleaved rounds of `ferrocnn bench
//! MODEL`: resnet50 27.81 -> 27.33 (2 threads 15.72 -> 15.47), googlenet 8.67 -> 8.53,
//! mobilenet-v2 3.046 -> 3.024, resnet18 9.76 -> 9.73. Winograd's per-run path turns
//! each element's tiles as one chunk the same way (512x7x7 F(2x2) 0.769-0.794 ->
//! 0.763-0.776, 256x14x14 F(4x4) 0.488-0.494 -> 0.462-0.481). A chunk's short remainder
//! (or a part of one tile) took the interleave of eight rows at first; turned like the
//! rest, with 16 rows of which a few are pixels, it ran the same or faster (1 thread, five
//! interleaved rounds, ms, interleave / transpose: 256x14x14 -> 1024 with residual, whose
//! last chunk is 4 rows, 0.4306-0.4347 / 0.4254-0.4314; 2048x7x7 -> 512 0.402-0.406 /
//! 0.400-0.403; 1024x2x2 -> 1024 0.0422-0.0442 / 0.0414-0.0436; 960x7x7 -> 160 0.0611-0.0616
//! / 0.0610-0.0615), so there is one turn, and no cap on a family's MR from it.
//!
//! Tried and left (2026-11-25), on the per-tile turn before chunks: on AVX-512, storing each turned vector's two channels
//! straight from the register with two masked stores (and the residual with two masked
//! loads, the pair added and activated at once), instead of through the stack buffer
//! whose runs are loaded one channel at a time. 1 thread, three interleaved rounds, ms:
//! 1x1 256x14x14 -> 1024 with shift, residual, ReLU 0.469-0.475 / 0.471-0.473, 1024x14x14 ->
//! 256 0.402-0.408 / 0.400-0.403, 2048x7x7 -> 512 0.422-0.427 / 0.423-0.432, 256x14x14
//! F(4x4) per run 0.524-0.533 / 0.509-0.520; seven interleaved rounds of `ferrocnn bench
//! MODEL --threads 1`, resnet50 30.09 -> 29.69 ms but resnet18 10.08 -> 10.14, within
//! their noise. What the 1x1 layers' stores wait on is not the buffer: each tile writes
//! and reads one short run in each of its 48 or 64 channel planes.

use super::epilogue::{activate, finish};
use crate::arch::simd::{MAX_LANES, Simd};
use crate::epilogue::Activation;

/// About how many pixel rows a transposed GEMM turns at once: the tiles of a chunk are
/// computed one under the other into a buffer, then turned together (`turn`). With 6x64
/// tiles that is 96 rows, a 24 KiB buffer. Against 48, 256 and 800 (five interleaved
/// rounds of `ferrocnn bench MODEL --threads T`, ms, 48 / 96 / 256): 1 thread within the
/// host's noise (resnet50 27.59 / 27.42 / 27.46, googlenet 8.56 / 8.82 / 8.70,
/// mobilenet-v2 3.32 / 3.34 / 3.30; 800 ran googlenet 3% slower than 256), 2 threads
/// resnet50 16.12 / 15.80 / 16.15, googlenet 4.98 / 4.95 / 5.14.
const CHUNK_ROWS: usize = 96;

/// Row tiles of `mr` pixels in a chunk: as many as fit `CHUNK_ROWS` while ending on a
/// whole vector of `lanes` pixels (so only a part's last chunk stores a partial vector),
/// and at least that many.
pub(crate) fn chunk_tiles(mr: usize, lanes: usize) -> usize {
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let whole = mr / gcd(mr, lanes) * lanes;
    (CHUNK_ROWS / whole).max(1) * whole / mr
}

/// A computed tile and where it goes.
#[derive(Clone, Copy)]
pub(crate) struct TransposedTile {
    /// `rows` pixels of `cols` channels each (one tile, or a chunk of tiles one under
    /// the other), pixel rows `ld` floats apart, `ld` a multiple of the vector width and at
    /// least `cols` rounded up to it (the tile buffer's panel width).
    pub tile: *const f32,
    pub ld: usize,
    pub rows: usize,
    pub cols: usize,
    /// Channel `j`'s `rows` pixels are at `c + j * plane`.
    pub c: *mut f32,
    pub plane: usize,
    /// Add C's partial sum from earlier passes over K.
    pub accumulate: bool,
    /// The epilogue, applied when `finish` (the last pass over K): `scale` and `shift`
    /// offset to the tile's first channel (or null), `residual` laid out like `c` (or null).
    pub finish: bool,
    pub scale: *const f32,
    pub shift: *const f32,
    pub residual: *const f32,
    pub activation: Activation,
}

pub(crate) type TransposedStoreFn = unsafe fn(&TransposedTile);

/// # Safety
/// `t.tile` is readable for `rows` rows of `ld` floats; `c` (and a non-null `residual`) is
/// valid for channels `0..cols`, pixels `0..rows` at `plane` floats a channel; non-null
/// `scale` and `shift` hold `cols` floats; `S` is available.
#[inline(always)]
pub(crate) unsafe fn store_transposed<S: Simd>(t: &TransposedTile) {
    // The activation a constant in each copy, so no copy matches it per channel.
    t.activation.as_constant(
        #[inline(always)]
        |activation| {
            // SAFETY: forwarded contract.
            unsafe { store_with::<S>(t, activation) }
        },
    );
}

/// On a first and last pass (the usual case: K fits one block), scale and shift are per
/// lane of the pixel rows, applied before the turn as one multiply-add a row, and so is the
/// activation when no residual comes after them; what is left per channel is the residual
/// (and the partial sum of a multi-pass GEMM, the rare case that takes the generic route).
///
/// # Safety
/// As [`store_transposed`].
#[inline(always)]
unsafe fn store_with<S: Simd>(t: &TransposedTile, activation: Activation) {
    // SAFETY: forwarded contract; each run is `n` pixels of channel j, at `at` floats from
    // C's (and the residual's) first element, inside their extents.
    unsafe {
        let residual = |at: usize, n: usize| S::load_n(t.residual.add(at), n);
        let partial = |at: usize, n: usize| S::load_n(t.c.add(at), n);
        match (t.finish, t.accumulate, t.residual.is_null()) {
            (false, false, _) => turn::<S>(t, |row, _| row, |run, _, _, _| run),
            (false, true, _) => turn::<S>(t, |row, _| row, |run, at, n, _| S::add(run, partial(at, n))),
            (true, false, true) => turn::<S>(
                t,
                #[inline(always)]
                |row, (scale, shift)| activate::<S>(S::mul_add(row, scale, shift), activation),
                |run, _, _, _| run,
            ),
            (true, false, false) => turn::<S>(
                t,
                |row, (scale, shift)| S::mul_add(row, scale, shift),
                #[inline(always)]
                |run, at, n, _| activate::<S>(S::add(run, residual(at, n)), activation),
            ),
            (true, true, _) => turn::<S>(
                t,
                |row, _| row,
                #[inline(always)]
                |run, at, n, j| {
                    let scale = if t.scale.is_null() { 1.0 } else { *t.scale.add(j) };
                    let shift = if t.shift.is_null() { 0.0 } else { *t.shift.add(j) };
                    let residual = if t.residual.is_null() { t.residual } else { t.residual.add(at) };
                    let sum = S::add(run, partial(at, n));
                    finish::<S>(sum, S::splat(scale), S::splat(shift), residual, n, activation)
                },
            ),
        }
    }
}

/// The turn itself: `row_op` on each pixel row of a block of channels, given that block's
/// scale and shift vectors (ones and zeros where absent); then each channel's run of
/// pixels through `channel_op(run, its offset in C, its length, channel)` and into C.
///
/// The pixels turn `LANES` at a time with [`Simd::transpose`], so that each channel's
/// plane is written in whole vectors, front to back.
///
/// # Safety
/// As [`store_transposed`].
#[inline(always)]
unsafe fn turn<S: Simd>(
    t: &TransposedTile,
    row_op: impl Fn(S::V, (S::V, S::V)) -> S::V,
    channel_op: impl Fn(S::V, usize, usize, usize) -> S::V,
) {
    debug_assert!(t.ld.is_multiple_of(S::LANES) && t.ld >= t.cols && S::LANES <= MAX_LANES);
    // SAFETY: every offset stays inside the extents of the contract: row r < rows, channel
    // j0 + l < cols; a row's vector load reads channels j0 .. j0 + LANES <= ld of the tile
    // buffer; scale and shift `lanes` floats from j0.
    unsafe {
        for j0 in (0..t.cols).step_by(S::LANES) {
            let lanes = S::LANES.min(t.cols - j0);
            let scale = if t.scale.is_null() { S::splat(1.0) } else { S::load_n(t.scale.add(j0), lanes) };
            let shift = if t.shift.is_null() { S::zero() } else { S::load_n(t.shift.add(j0), lanes) };
            let row = |r: usize| row_op(S::load(t.tile.add(r * t.ld + j0)), (scale, shift));
            for p0 in (0..t.rows).step_by(S::LANES) {
                let n = S::LANES.min(t.rows - p0);
                let mut pixels = [S::zero(); MAX_LANES];
                for (r, p) in pixels.iter_mut().enumerate().take(n) {
                    *p = row(p0 + r);
                }
                let channels = S::transpose(pixels);
                for (l, &run) in channels.iter().enumerate().take(lanes) {
                    let at = (j0 + l) * t.plane + p0;
                    S::store_n(t.c.add(at), n, channel_op(run, at, n, j0 + l));
                }
            }
        }
    }
}
