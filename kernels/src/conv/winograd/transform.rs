//! The input and output transforms, vectorised across horizontally adjacent tiles.
//!
//! A vector holds the same element of `LANES` tiles of one tile row. Their inputs are `m`
//! columns apart, so each image row of a block is first split into its `m` column phases
//! (one [`Simd::deinterleave`] per `m * LANES` floats): element `i'` of tile `tx` is then
//! entry `tx + i'/m` of phase `i' % m`, and every load is a plain vector load. The output
//! goes the other way: each output row's `m` result vectors are interleaved back
//! ([`Simd::interleave`]) and the epilogue (scale, shift, residual, activation) applied to
//! them in registers, as they are stored.
//!
//! The 1D transforms are written out per tile size with their common subexpressions (the
//! matrices of `matrices.rs` are the oracle their tests compare against); the 2D transform
//! applies them to the rows, then to the columns.

use crate::arch::simd::Simd;
use crate::epilogue::Activation;
use crate::gemm::epilogue::finish;

/// The 1D transforms of F(M, 3): `alpha = A = M + 2` inputs.
pub(crate) trait Tile<const M: usize, const A: usize> {
    /// BT d.
    unsafe fn input<S: Simd>(d: [S::V; A]) -> [S::V; A];
    /// AT m.
    unsafe fn output<S: Simd>(m: [S::V; A]) -> [S::V; M];
}

pub(crate) struct F2;
pub(crate) struct F4;
pub(crate) struct F6;

impl Tile<2, 4> for F2 {
    #[inline(always)]
    unsafe fn input<S: Simd>(d: [S::V; 4]) -> [S::V; 4] {
        // SAFETY: `S` is available (caller's contract).
        unsafe { [S::sub(d[2], d[0]), S::add(d[1], d[2]), S::sub(d[2], d[1]), S::sub(d[3], d[1])] }
    }
    #[inline(always)]
    unsafe fn output<S: Simd>(m: [S::V; 4]) -> [S::V; 2] {
        // SAFETY: as above.
        unsafe { [S::add(S::add(m[0], m[1]), m[2]), S::add(S::sub(m[1], m[2]), m[3])] }
    }
}

impl Tile<4, 6> for F4 {
    #[inline(always)]
    unsafe fn input<S: Simd>(d: [S::V; 6]) -> [S::V; 6] {
        // SAFETY: `S` is available (caller's contract).
        unsafe {
            let (four, five, two) = (S::splat(4.0), S::splat(-5.0), S::splat(2.0));
            let s12 = S::add(d[1], d[2]);
            let d12 = S::sub(d[1], d[2]);
            let s34 = S::add(d[3], d[4]);
            let d43 = S::sub(d[4], d[3]);
            let d42 = S::sub(d[4], d[2]);
            let d31 = S::sub(d[3], d[1]);
            [
                S::mul_add(four, d[0], S::mul_add(five, d[2], d[4])),
                S::mul_add(S::splat(-4.0), s12, s34),
                S::mul_add(four, d12, d43),
                S::mul_add(two, d31, d42),
                S::mul_add(S::splat(-2.0), d31, d42),
                S::mul_add(four, d[1], S::mul_add(five, d[3], d[5])),
            ]
        }
    }
    #[inline(always)]
    unsafe fn output<S: Simd>(m: [S::V; 6]) -> [S::V; 4] {
        // SAFETY: as above.
        unsafe {
            let (a, b) = (S::add(m[1], m[2]), S::sub(m[1], m[2]));
            let (c, d) = (S::add(m[3], m[4]), S::sub(m[3], m[4]));
            [
                S::add(S::add(m[0], a), c),
                S::mul_add(S::splat(2.0), d, b),
                S::mul_add(S::splat(4.0), c, a),
                S::add(S::mul_add(S::splat(8.0), d, b), m[5]),
            ]
        }
    }
}

impl Tile<6, 8> for F6 {
    #[inline(always)]
    unsafe fn input<S: Simd>(d: [S::V; 8]) -> [S::V; 8] {
        // SAFETY: `S` is available (caller's contract).
        unsafe {
            let k = S::splat;
            let e = S::mul_add(k(-4.25), d[4], S::add(d[2], d[6]));
            let o = S::mul_add(k(-4.25), d[3], S::add(d[1], d[5]));
            let e2 = S::mul_add(k(0.25), d[2], S::mul_add(k(-1.25), d[4], d[6]));
            let o2 = S::mul_add(k(0.5), d[1], S::mul_add(k(-2.5), d[3], S::mul(k(2.0), d[5])));
            let e3 = S::mul_add(k(4.0), d[2], S::mul_add(k(-5.0), d[4], d[6]));
            let o3 = S::mul_add(k(2.0), d[1], S::mul_add(k(-2.5), d[3], S::mul(k(0.5), d[5])));
            [
                S::mul_add(k(5.25), S::sub(d[2], d[4]), S::sub(d[6], d[0])),
                S::add(e, o),
                S::sub(e, o),
                S::add(e2, o2),
                S::sub(e2, o2),
                S::add(e3, o3),
                S::sub(e3, o3),
                S::mul_add(k(5.25), S::sub(d[3], d[5]), S::sub(d[7], d[1])),
            ]
        }
    }
    #[inline(always)]
    unsafe fn output<S: Simd>(m: [S::V; 8]) -> [S::V; 6] {
        // SAFETY: as above.
        unsafe {
            let k = S::splat;
            let (a, b) = (S::add(m[1], m[2]), S::sub(m[1], m[2]));
            let (c, d) = (S::add(m[3], m[4]), S::sub(m[3], m[4]));
            let (e, f) = (S::add(m[5], m[6]), S::sub(m[5], m[6]));
            [
                S::add(S::add(m[0], a), S::add(c, e)),
                S::mul_add(k(2.0), d, S::mul_add(k(0.5), f, b)),
                S::mul_add(k(4.0), c, S::mul_add(k(0.25), e, a)),
                S::mul_add(k(8.0), d, S::mul_add(k(0.125), f, b)),
                S::mul_add(k(16.0), c, S::mul_add(k(0.0625), e, a)),
                S::add(S::mul_add(k(32.0), d, S::mul_add(k(0.03125), f, b)), m[7]),
            ]
        }
    }
}

/// F(2x2) for filters transformed as a run needs them (`per_run.rs`): G's row factors D =
/// (-1, 1/2, 1/2, 1) are moved onto the input transform's rows, so that the filters take
/// adds only. With G = D G' and D B^T = B'^T, U' = G' g G'^T and V' = B'^T d B' differ from
/// U and V by the factor d_i d_j of element (i, j) and its inverse: U' V' = U V.
pub(crate) struct F2Folded;

impl Tile<2, 4> for F2Folded {
    #[inline(always)]
    unsafe fn input<S: Simd>(d: [S::V; 4]) -> [S::V; 4] {
        // SAFETY: `S` is available (caller's contract).
        unsafe {
            let half = S::splat(0.5);
            [S::sub(d[0], d[2]), S::mul(half, S::add(d[1], d[2])), S::mul(half, S::sub(d[2], d[1])), S::sub(d[3], d[1])]
        }
    }
    #[inline(always)]
    unsafe fn output<S: Simd>(m: [S::V; 4]) -> [S::V; 2] {
        // SAFETY: as above.
        unsafe { F2::output::<S>(m) }
    }
}

/// The filter side of a folded tile: G' applied to one column (or row) of a 3x3 filter.
pub(crate) trait FilterTile<const A: usize> {
    unsafe fn filter<S: Simd>(g: [S::V; 3]) -> [S::V; A];
}

impl FilterTile<4> for F2Folded {
    #[inline(always)]
    unsafe fn filter<S: Simd>(g: [S::V; 3]) -> [S::V; 4] {
        // SAFETY: `S` is available (caller's contract).
        unsafe {
            let s = S::add(g[0], g[2]);
            [g[0], S::add(s, g[1]), S::sub(s, g[1]), g[2]]
        }
    }
}

/// F(4x4) for filters transformed as a run needs them: G itself (its sixths and 24ths
/// rounded to f32), so that the input transform stays F(4x4)'s own. Folding G's row factors
/// into the input, as F(2x2) does, would save five multiplies a column, and would need an
/// input transform of its own; it was not tried. Under `perf` this transform is 14% of
/// 256x14x14 per run (`ferrocnn conv --input 1x256x14x14 --out-channels 256 --kernel 3
/// --pad 1 --algo winograd-f4 --threads 1`, 0.54 ms), and F(2x2)'s, with adds only, is
/// mostly its stores into L2 (`per_run.rs` has the figures), so folding would save a part
/// of that 14% at most.
impl FilterTile<6> for F4 {
    #[inline(always)]
    unsafe fn filter<S: Simd>(g: [S::V; 3]) -> [S::V; 6] {
        // SAFETY: `S` is available (caller's contract).
        unsafe {
            let k = S::splat;
            let s = S::add(g[0], g[2]);
            let t = S::mul_add(k(4.0), g[2], g[0]);
            [
                S::mul(k(0.25), g[0]),
                S::mul(k(-1.0 / 6.0), S::add(s, g[1])),
                S::mul(k(-1.0 / 6.0), S::sub(s, g[1])),
                S::mul(k(1.0 / 24.0), S::mul_add(k(2.0), g[1], t)),
                S::mul(k(1.0 / 24.0), S::mul_add(k(-2.0), g[1], t)),
                g[2],
            ]
        }
    }
}

/// The filter transform of one GEMM panel's output channels over some input channels.
pub(crate) struct FilterJob {
    /// Input channel c, tap t (row-major 3x3), the panel's output channel j at
    /// `filters + (c*9 + t)*width + j`: a K x 9C matrix packed in panels of `width`.
    pub filters: *const f32,
    pub channels: usize,
    /// The panel's width, a multiple of the vector width.
    pub width: usize,
    /// Transformed: element xi, channel c, output channel j at `u + xi*u_xi + c*width + j`,
    /// each element a GEMM panel of `channels` rows.
    pub u: *mut f32,
    pub u_xi: usize,
}

/// U' = G' g G'^T for every filter of the job, `LANES` output channels at a time.
///
/// # Safety
/// `filters` is readable and `u` writable at every index the job's layout names; `width`
/// is a multiple of `S::LANES`; `S` is available.
#[inline(always)]
pub(crate) unsafe fn filter_transform<S: Simd, T: FilterTile<A>, const A: usize>(job: &FilterJob) {
    // SAFETY: channel c < channels and lanes j .. j + LANES <= width of each tap and element.
    unsafe {
        for c in 0..job.channels {
            let taps = job.filters.add(c * 9 * job.width);
            let u = job.u.add(c * job.width);
            for j in (0..job.width).step_by(S::LANES) {
                let tap = |t: usize| S::load(taps.add(t * job.width + j));
                let columns: [[S::V; A]; 3] =
                    core::array::from_fn(|b| T::filter::<S>([tap(b), tap(3 + b), tap(6 + b)]));
                #[allow(clippy::needless_range_loop)] // i indexes a row of every column
                for i in 0..A {
                    let row = T::filter::<S>([columns[0][i], columns[1][i], columns[2][i]]);
                    for (jp, &value) in row.iter().enumerate() {
                        S::store(u.add((i * A + jp) * job.u_xi + j), value);
                    }
                }
            }
        }
    }
}

/// The input transform of one block: tiles `t0 .. t1` (row-major over a map `tiles_w`
/// tiles wide), all channels of a group.
pub(crate) struct InputJob {
    /// The group's input planes, `in_h x in_w` each.
    pub image: *const f32,
    pub in_h: usize,
    pub in_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub channels: usize,
    pub tiles_w: usize,
    pub t0: usize,
    pub t1: usize,
    /// The block's image rows split into phases: channel c, row i, phase r, entry q at
    /// `((c*rows + i)*m + r)*qw + q`; row 0 is padded row `m * (t0 / tiles_w)`.
    pub q: *mut f32,
    pub rows: usize,
    /// Entries per phase: `tiles_w + 1`.
    pub qw: usize,
    /// One padded image row: `line_len` floats, `line_len >= qw * m` a whole number of
    /// `m * LANES` chunks.
    pub line: *mut f32,
    pub line_len: usize,
    /// Transformed input: element xi, channel c, tile t at `xi*v_xi + c*vs + t - t0`.
    pub v: *mut f32,
    pub v_xi: usize,
    pub vs: usize,
}

/// Splits row `y` (padded coordinates) of one channel into its phases.
///
/// A padded row that is one chunk (maps up to 56x56 for F(4x4), 28x28 for F(2x2)) is read
/// in place on paths with masked loads: each of its M vectors one load with the padding
/// masked out, instead of a copy into the padded line whose vector loads then wait on the
/// copy's narrower stores. 1 thread, three interleaved rounds, ms (`ferrocnn conv --input
/// 1xCxHxW --out-channels C --kernel 3 --pad 1 --iters 500`), line / in place: 64x56x56
/// F(4x4) 0.415-0.430 / 0.386-0.396, 128x28x28 0.417-0.430 / 0.392-0.401, 256x14x14 (per
/// run) 0.540-0.553 / 0.524-0.531, 512x7x7 F(2x2) per run 0.845-0.853 / 0.818-0.866.
/// Medians of five interleaved rounds of `ferrocnn bench MODEL --threads T`: resnet18
/// 10.37 -> 10.17 ms (1), 6.11 -> 5.81 (2); googlenet 9.27 -> 9.08 (1), 5.20 -> 5.05 (2);
/// resnet50 30.92 -> 29.79 (1); vgg16 64.8 -> 63.7 (1, three rounds).
///
/// Tried on every row: the large maps lost, read from L3 (64x224x224 7.04-7.50 ->
/// 7.67-7.75 ms, 8.6-8.9 with every vector a masked load; 128x112x112 4.78-4.99 ->
/// 4.99-5.24), so rows of more than one chunk keep the copy.
///
/// # Safety
/// As [`input_transform`]; `plane` is the channel's input, `phases` its `M * qw` floats.
#[inline(always)]
unsafe fn split_row<S: Simd, const M: usize>(job: &InputJob, plane: *const f32, y: usize, phases: *mut f32) {
    // SAFETY: the line holds line_len >= pad_left + in_w floats (the tiles cover the padded
    // width); chunks of M*LANES floats tile it exactly; phase stores stay below qw.
    unsafe {
        let row = y.wrapping_sub(job.pad_top);
        if row >= job.in_h {
            for e in 0..M * job.qw {
                *phases.add(e) = 0.0;
            }
            return;
        }
        if S::MASKED_OPS && job.line_len == M * S::LANES {
            // The chunk is the whole padded row (line_len >= pad_left + in_w): lane l of
            // vector q is padded column q*LANES + l, row column that minus pad_left, loaded
            // where it lies inside the row; the loads read no other lane.
            let source = plane.add(row * job.in_w);
            let flat: [S::V; M] = core::array::from_fn(|q| {
                let first = (q * S::LANES) as isize - job.pad_left as isize;
                let lo = (-first).clamp(0, S::LANES as isize) as u32;
                let hi = (job.in_w as isize - first).clamp(0, S::LANES as isize) as u32;
                let mask = if hi > lo { ((1u64 << hi) - (1u64 << lo)) as u32 } else { 0 };
                S::load_masked(source.wrapping_offset(first), mask)
            });
            let split = S::deinterleave::<M>(flat);
            let n = S::LANES.min(job.qw);
            for (r, &phase) in split.iter().enumerate() {
                S::store_n(phases.add(r * job.qw), n, phase)
            }
            return;
        }
        let line = core::slice::from_raw_parts_mut(job.line, job.line_len);
        line[..job.pad_left].fill(0.0);
        line[job.pad_left..job.pad_left + job.in_w]
            .copy_from_slice(core::slice::from_raw_parts(plane.add(row * job.in_w), job.in_w));
        line[job.pad_left + job.in_w..].fill(0.0);
        for chunk in 0..job.line_len / (M * S::LANES) {
            let first = chunk * S::LANES;
            if first >= job.qw {
                break;
            }
            let flat: [S::V; M] = core::array::from_fn(|q| S::load(job.line.add((chunk * M + q) * S::LANES)));
            let split = S::deinterleave::<M>(flat);
            let n = S::LANES.min(job.qw - first);
            for (r, &phase) in split.iter().enumerate() {
                let p = phases.add(r * job.qw + first);
                S::store_n(p, n, phase)
            }
        }
    }
}

/// V = BT d B for every tile of the job.
///
/// Tried and left (2026-11-25): on maps narrower than a vector of tiles, each vector
/// holding 16 consecutive tiles across tile rows, every element assembled with one masked
/// load per tile row, so that the transform's arithmetic and stores ran on full vectors
/// (a 14x14 map has 4 F(4x4) tiles a row). 1 thread, three rounds, ms: 256x14x14 0.537-0.553
/// -> 0.531-0.540, but 128x28x28 0.403-0.412 -> 0.436-0.449. The arithmetic was not the
/// cost; the row split before it was (`split_row`).
///
/// # Safety
/// `image` holds `channels` planes; `q` is writable for `channels * rows * M * qw` floats
/// with `rows >= (last tile row - first + 1) * M + 2`; `line` for `line_len` floats as
/// documented; `v` for `A*A` blocks of `channels` rows of `vs >= t1 - t0` floats at the
/// job's strides; `S` is available.
#[inline(always)]
pub(crate) unsafe fn input_transform<S: Simd, T: Tile<M, A>, const M: usize, const A: usize>(job: &InputJob) {
    let first_row = job.t0 / job.tiles_w;
    // SAFETY: every row of the block's tiles is split before it is read; tile (ty, tx)
    // reads rows (ty - first_row)*M + i < rows and entries tx + i'/M <= tiles_w < qw of
    // each phase (partial loads read only existing tiles); it writes entry t - t0 < vs of
    // each V row.
    unsafe {
        let plane_len = job.in_h * job.in_w;
        for c in 0..job.channels {
            let plane = job.image.add(c * plane_len);
            for i in 0..job.rows {
                split_row::<S, M>(job, plane, first_row * M + i, job.q.add((c * job.rows + i) * M * job.qw));
            }
        }
        for c in 0..job.channels {
            let mut t = job.t0;
            while t < job.t1 {
                let (ty, tx) = (t / job.tiles_w, t % job.tiles_w);
                let n = S::LANES.min(job.tiles_w - tx).min(job.t1 - t);
                let load = |p: *const f32| S::load_n(p, n);
                let mut rows = [[S::zero(); A]; A];
                for (i, row) in rows.iter_mut().enumerate() {
                    let line = job.q.add((c * job.rows + (ty - first_row) * M + i) * M * job.qw + tx);
                    *row = T::input::<S>(core::array::from_fn(|ip| load(line.add((ip % M) * job.qw + ip / M))));
                }
                let base = job.v.add(c * job.vs + t - job.t0);
                #[allow(clippy::needless_range_loop)] // jp indexes the columns of `rows`
                for jp in 0..A {
                    let column = T::input::<S>(core::array::from_fn(|i| rows[i][jp]));
                    for (j, &value) in column.iter().enumerate() {
                        let p = base.add((j * A + jp) * job.v_xi);
                        S::store_n(p, n, value)
                    }
                }
                t += n;
            }
        }
    }
}

/// The output transform and epilogue of one block's tiles `t0 .. t1`, for some channels.
pub(crate) struct OutputJob {
    /// GEMM results: element xi, channel k, tile t at `xi*xi_stride + k*ms + t - t0`.
    pub m: *const f32,
    pub xi_stride: usize,
    pub ms: usize,
    pub channels: usize,
    pub tiles_w: usize,
    pub t0: usize,
    pub t1: usize,
    /// The job's first channel's output plane, `out_h x out_w`; channels `plane` apart.
    pub out: *mut f32,
    pub plane: usize,
    pub out_h: usize,
    pub out_w: usize,
    /// Per channel, from the job's first channel, or null.
    pub scale: *const f32,
    pub shift: *const f32,
    /// Same layout as `out`, or null.
    pub residual: *const f32,
    pub activation: Activation,
}

/// Y = AT m A for every tile of the job, interleaved into output rows with the epilogue
/// applied in registers.
///
/// # Safety
/// `m` holds `A*A` blocks of `channels` rows of `t1 - t0` floats at the job's strides;
/// `out` (and `residual`, if not null) are valid for `channels` planes `plane` apart;
/// the tiles cover at most `tiles_w * M` columns and their rows lie inside `out_h` or
/// past it (rows past it are not written); `scale`/`shift` are null or hold `channels`
/// floats; `S` is available.
#[inline(always)]
pub(crate) unsafe fn output_transform<S: Simd, T: Tile<M, A>, const M: usize, const A: usize>(job: &OutputJob) {
    // SAFETY: tile (ty, tx) reads entry t - t0 of its M rows and writes output rows
    // ty*M + j < out_h, columns tx*M + j' < out_w, of its channel's plane.
    unsafe {
        for k in 0..job.channels {
            let out = job.out.add(k * job.plane);
            let residual = if job.residual.is_null() { job.residual } else { job.residual.add(k * job.plane) };
            let scale = S::splat(if job.scale.is_null() { 1.0 } else { *job.scale.add(k) });
            let shift = S::splat(if job.shift.is_null() { 0.0 } else { *job.shift.add(k) });
            let mut t = job.t0;
            while t < job.t1 {
                let (ty, tx) = (t / job.tiles_w, t % job.tiles_w);
                let n = S::LANES.min(job.tiles_w - tx).min(job.t1 - t);
                let load = |p: *const f32| S::load_n(p, n);
                let first = job.m.add(k * job.ms + t - job.t0);
                let mut rows = [[S::zero(); M]; A];
                for (i, row) in rows.iter_mut().enumerate() {
                    *row = T::output::<S>(core::array::from_fn(|ip| load(first.add((i * A + ip) * job.xi_stride))));
                }
                let columns: [[S::V; M]; M] =
                    core::array::from_fn(|jp| T::output::<S>(core::array::from_fn(|i| rows[i][jp])));
                let (x0, y0) = (tx * M, ty * M);
                let cols = (n * M).min(job.out_w - x0);
                #[allow(clippy::needless_range_loop)] // j indexes a row of every column
                for j in 0..M.min(job.out_h.saturating_sub(y0)) {
                    let values = S::interleave::<M>(core::array::from_fn(|jp| columns[jp][j]));
                    let at = (y0 + j) * job.out_w + x0;
                    for (q, &value) in values.iter().enumerate() {
                        let count = S::LANES.min(cols.saturating_sub(q * S::LANES));
                        if count == 0 {
                            break;
                        }
                        let p = at + q * S::LANES;
                        let r = if residual.is_null() { residual } else { residual.add(p) };
                        let y = finish::<S>(value, scale, shift, r, count, job.activation);
                        S::store_n(out.add(p), count, y)
                    }
                }
                t += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::generic::Portable;
    use crate::conv::winograd::matrices::*;

    /// The written-out 1D transforms equal the products with the generated matrices.
    fn check<T: Tile<M, A>, const M: usize, const A: usize>(bt: &[[f64; A]; A], at: &[[f64; A]; M]) {
        let x: [f32; A] = core::array::from_fn(|i| (i as f32 * 0.37 - 1.1).sin());
        let splat = |v: f32| wide::f32x8::splat(v);
        // SAFETY: the portable path runs everywhere.
        let (input, output) = unsafe { (T::input::<Portable>(x.map(splat)), T::output::<Portable>(x.map(splat))) };
        for (j, row) in bt.iter().enumerate() {
            let want: f64 = row.iter().zip(&x).map(|(b, v)| b * *v as f64).sum();
            assert!((input[j].to_array()[0] as f64 - want).abs() < 1e-5, "F({M}) BT row {j}");
        }
        for (j, row) in at.iter().enumerate() {
            let want: f64 = row.iter().zip(&x).map(|(a, v)| a * *v as f64).sum();
            assert!((output[j].to_array()[0] as f64 - want).abs() < 1e-5, "F({M}) AT row {j}");
        }
    }

    #[test]
    fn written_transforms_match_the_matrices() {
        check::<F2, 2, 4>(&F2_BT, &F2_AT);
        check::<F4, 4, 6>(&F4_BT, &F4_AT);
        check::<F6, 6, 8>(&F6_BT, &F6_AT);
    }

    #[test]
    fn interleave_round_trips() {
        fn round_trip<S: Simd, const M: usize>() {
            let flat: Vec<f32> = (0..M * S::LANES).map(|v| v as f32).collect();
            // SAFETY: callers pass only paths this CPU runs; `flat` holds M vectors.
            unsafe {
                let v: [S::V; M] = core::array::from_fn(|q| S::load(flat.as_ptr().add(q * S::LANES)));
                let phases = S::deinterleave::<M>(v);
                let mut lanes = vec![0.0f32; S::LANES];
                for (j, &p) in phases.iter().enumerate() {
                    S::store(lanes.as_mut_ptr(), p);
                    for (l, &value) in lanes.iter().enumerate() {
                        assert_eq!(value, (l * M + j) as f32, "phase {j} lane {l}");
                    }
                }
                let back = S::interleave::<M>(phases);
                for (q, &b) in back.iter().enumerate() {
                    S::store(lanes.as_mut_ptr(), b);
                    assert_eq!(lanes, flat[q * S::LANES..(q + 1) * S::LANES]);
                }
            }
        }
        round_trip::<Portable, 2>();
        round_trip::<Portable, 4>();
        round_trip::<Portable, 6>();
        #[cfg(target_arch = "x86_64")]
        if crate::Isa::Avx512f.is_supported() {
            #[target_feature(enable = "avx512f")]
            fn avx512() {
                use crate::arch::x86_64::avx512f::Avx512;
                round_trip::<Avx512, 2>();
                round_trip::<Avx512, 4>();
                round_trip::<Avx512, 6>();
            }
            // SAFETY: the CPU has AVX-512F.
            unsafe { avx512() };
        }
    }
}
