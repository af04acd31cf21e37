//! The input and output transforms, vectorised across the tiles of a tile row.
//!
//! A vector holds the same element of `LANES` horizontally adjacent tiles. Their inputs are
//! `m` columns apart, so the block's image rows are first split into their `m` column
//! phases (`deinterleave`): element `i'` of tile `tx` is then entry `tx + i'/m` of phase
//! `i' % m`, and every load is a plain (or, at the end of a tile row, partial) vector load.
//! The output goes the other way: the `m` results of each output row are interleaved back
//! through a small buffer. Transforms are products with constant matrices; after unrolling
//! the compiler sees every coefficient, so zeros vanish and ±1 become additions.

use crate::arch::simd::Simd;
use crate::epilogue::Activation;
use crate::gemm::epilogue::{EpilogueTile, epilogue};

/// The input transform of one block of tile rows, all channels.
pub(crate) struct InputJob {
    /// Deinterleaved rows: channel c, row i, phase r, entry q at `((c*rows + i)*m + r)*qw + q`.
    pub q: *const f32,
    pub channels: usize,
    /// Image rows of the block: `tile_rows * m + 2`.
    pub rows: usize,
    /// Entries per phase: `tiles_w + 1`.
    pub qw: usize,
    pub tile_rows: usize,
    pub tiles_w: usize,
    /// Transformed input: element xi, channel c, tile t at `(xi*channels + c)*vs + t`.
    pub v: *mut f32,
    pub vs: usize,
}

/// The output transform and epilogue of one block of tile rows, for some channels.
pub(crate) struct OutputJob {
    /// GEMM results: element xi, channel k, tile t at `xi*xi_stride + k*ms + t`.
    pub m: *const f32,
    pub xi_stride: usize,
    pub ms: usize,
    pub channels: usize,
    pub tile_rows: usize,
    pub tiles_w: usize,
    /// Channel 0, first row of the block; channels `plane` apart, rows `out_w`.
    pub out: *mut f32,
    pub plane: usize,
    pub out_w: usize,
    /// Output rows of the block (the last block's last tiles may hang over the map).
    pub out_rows: usize,
    /// Per channel, from channel 0 of the job, or null.
    pub scale: *const f32,
    pub shift: *const f32,
    /// Same layout as `out`, or null.
    pub residual: *const f32,
    pub activation: Activation,
}

/// Largest `m * LANES` of any variant and path (F(6x6), 16 lanes): the interleave buffer.
const INTERLEAVE_MAX: usize = 6 * 16;

/// `sum_i coefs[i] * x[i]`, for coefficients known at compile time after inlining.
#[inline(always)]
unsafe fn combine<S: Simd, const N: usize>(coefs: &[f32; N], x: &[S::V; N]) -> S::V {
    // SAFETY: `S` is available (caller's contract).
    unsafe {
        let mut acc: Option<S::V> = None;
        for (&c, &v) in coefs.iter().zip(x) {
            if c == 0.0 {
                continue;
            }
            acc = Some(match acc {
                None if c == 1.0 => v,
                None if c == -1.0 => S::sub(S::zero(), v),
                None => S::mul(S::splat(c), v),
                Some(a) if c == 1.0 => S::add(a, v),
                Some(a) if c == -1.0 => S::sub(a, v),
                Some(a) => S::mul_add(S::splat(c), v, a),
            });
        }
        acc.unwrap_or(S::zero())
    }
}

/// V = BT d B for every tile of the job.
///
/// # Safety
/// `q` holds the job's `channels * rows * m * qw` floats, `v` is writable for
/// `A*A * channels * vs` floats, `vs >= tile_rows * tiles_w`, `rows >= tile_rows*M + 2`;
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn input_transform<S: Simd, const M: usize, const A: usize>(job: &InputJob, bt: &[[f32; A]; A]) {
    // SAFETY: tile (ty, tx) reads rows ty*M + i < rows and entries tx + i'/M <= tiles_w < qw
    // of each phase (partial loads read only the tiles that exist); it writes entry
    // ty*tiles_w + tx < vs of each V row.
    unsafe {
        for c in 0..job.channels {
            for ty in 0..job.tile_rows {
                let mut tx0 = 0;
                while tx0 < job.tiles_w {
                    let n = S::LANES.min(job.tiles_w - tx0);
                    let mut rows = [[S::zero(); A]; A];
                    for (i, row) in rows.iter_mut().enumerate() {
                        let line = job.q.add((c * job.rows + ty * M + i) * M * job.qw + tx0);
                        let mut d = [S::zero(); A];
                        for (ip, dv) in d.iter_mut().enumerate() {
                            let p = line.add((ip % M) * job.qw + ip / M);
                            *dv = if n == S::LANES { S::load(p) } else { S::load_partial(p, n) };
                        }
                        for (jp, out) in row.iter_mut().enumerate() {
                            *out = combine::<S, A>(&bt[jp], &d);
                        }
                    }
                    let base = job.v.add(c * job.vs + ty * job.tiles_w + tx0);
                    for jp in 0..A {
                        let column: [S::V; A] = core::array::from_fn(|i| rows[i][jp]);
                        for (j, bt_row) in bt.iter().enumerate() {
                            let value = combine::<S, A>(bt_row, &column);
                            let p = base.add((j * A + jp) * job.channels * job.vs);
                            if n == S::LANES { S::store(p, value) } else { S::store_partial(p, n, value) }
                        }
                    }
                    tx0 += S::LANES;
                }
            }
        }
    }
}

/// Y = AT m A for every tile of the job, interleaved into the output rows, then the
/// epilogue over each channel's rows while they are in L1.
///
/// # Safety
/// `m` holds `A*A` blocks of `channels` rows of `tile_rows * tiles_w` floats at the job's
/// strides; `out` (and `residual`, if not null) is valid for `channels` planes of
/// `out_rows * out_w` floats, `plane` apart; `out_rows <= tile_rows * M` and
/// `out_w <= tiles_w * M`; `scale`/`shift` are null or hold `channels` floats;
/// `S::LANES <= 16`; `S` is available.
#[inline(always)]
pub(crate) unsafe fn output_transform<S: Simd, const M: usize, const A: usize>(job: &OutputJob, at: &[[f32; A]; M]) {
    debug_assert!(M * S::LANES <= INTERLEAVE_MAX);
    // SAFETY: tile (ty, tx) reads entry ty*tiles_w + tx of its M rows and writes output
    // rows ty*M + j < out_rows, columns tx*M + j' < out_w, of its channel's plane.
    unsafe {
        let mut buffer = [0.0f32; INTERLEAVE_MAX];
        let at_ptr = |e: *const f32, k: usize| if e.is_null() { e } else { e.add(k) };
        for k in 0..job.channels {
            let out = job.out.add(k * job.plane);
            for ty in 0..job.tile_rows {
                let rows_here = M.min(job.out_rows.saturating_sub(ty * M));
                let mut tx0 = 0;
                while tx0 < job.tiles_w {
                    let n = S::LANES.min(job.tiles_w - tx0);
                    let first = job.m.add(k * job.ms + ty * job.tiles_w + tx0);
                    let mut rows = [[S::zero(); M]; A];
                    for (i, row) in rows.iter_mut().enumerate() {
                        let mut x = [S::zero(); A];
                        for (ip, xv) in x.iter_mut().enumerate() {
                            let p = first.add((i * A + ip) * job.xi_stride);
                            *xv = if n == S::LANES { S::load(p) } else { S::load_partial(p, n) };
                        }
                        for (jp, out) in row.iter_mut().enumerate() {
                            *out = combine::<S, A>(&at[jp], &x);
                        }
                    }
                    let x0 = tx0 * M;
                    let cols = (n * M).min(job.out_w - x0);
                    for (j, at_row) in at.iter().enumerate().take(rows_here) {
                        for jp in 0..M {
                            let column: [S::V; A] = core::array::from_fn(|i| rows[i][jp]);
                            S::store(buffer.as_mut_ptr().add(jp * S::LANES), combine::<S, A>(at_row, &column));
                        }
                        let line = out.add((ty * M + j) * job.out_w + x0);
                        for x in 0..cols {
                            *line.add(x) = buffer[(x % M) * S::LANES + x / M];
                        }
                    }
                    tx0 += S::LANES;
                }
            }
            let tile = EpilogueTile {
                rows: 1,
                cols: job.out_rows * job.out_w,
                c: out,
                ldc: job.out_rows * job.out_w,
                scale: at_ptr(job.scale, k),
                shift: at_ptr(job.shift, k),
                residual: if job.residual.is_null() { job.residual } else { job.residual.add(k * job.plane) },
                activation: job.activation,
            };
            if !(tile.scale.is_null()
                && tile.shift.is_null()
                && tile.residual.is_null()
                && tile.activation == Activation::Identity)
            {
                epilogue::<S>(&tile);
            }
        }
    }
}
