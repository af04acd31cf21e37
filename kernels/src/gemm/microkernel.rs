//! The microkernel contract.
//!
//! A microkernel computes one tile of C += A * B from two micro-panels: A's packed, B's
//! packed or read where it lies in a row-major B (its k-rows then `ldb` floats apart, see
//! `in_place.rs`; the phased kernels find each k-row's vectors through offsets, and the
//! indirect ones read A so):
//!
//! ```text
//!            b: kc rows of NR = NV*LANES floats (the "vector" operand)
//!           +--------------------------------+
//!           | b[k][0 .. NR]                  |  loaded as NV vectors per k
//!           +--------------------------------+
//!  a: kc    +--+  +--------------------------------+
//!  rows of  |a0|  | acc[0][0..NV]                  |  ROWS x NV accumulators
//!  MR       |a1|  | acc[1][0..NV]                  |  (ROWS <= MR; MR*NV of them
//!  floats,  |..|  |  ...                           |   must fit the register file
//!  each     |  |  |                                |   with room for NV + 1 more)
//!  broadcast+--+  +--------------------------------+
//! ```
//!
//! per k: NV vector loads of b, ROWS broadcasts of a, ROWS*NV fused multiply-adds. The A
//! panel is packed with stride MR whatever ROWS is, so the frame handles the last rows of M
//! by calling the ROWS < MR instantiation instead of falling to scalar code. The last columns
//! of N are zero-padded in the packed B panel; the frame runs them with a narrow
//! instantiation, which loads and multiplies only the vectors that hold columns, and stores
//! them through a small tile buffer.
//!
//! The tile is written to `c` with row stride `rs_c` and unit column stride, replacing C
//! (`accumulate == false`, so C is never read: beta = 0 holds even for NaN-filled C) or adding
//! to it — and, on a GEMM's last pass, with the epilogue applied in registers on the way
//! ([`StoreEpilogue`]) when the driver passes one.

use super::epilogue::activate;
use crate::Activation;
use crate::aligned::ALIGN_FLOATS;
use crate::arch::simd::Simd;

/// `(kc, a, b, ldb, c, rs_c, accumulate, epilogue, prefetch)`; see the module docs.
pub(crate) type MicrokernelFn =
    unsafe fn(usize, *const f32, *const f32, usize, *mut f32, usize, bool, Option<&StoreEpilogue>, Prefetch);

/// Cache lines of a packed panel later tiles will read, brought into L2 one per k step
/// while this tile computes: `lines` lines from `next` (at most `kc` of them are fetched).
///
/// The tile that first reads a packed weight panel inside a model waits on DRAM at the
/// microkernel's full rate; spread over the tiles of the panel before, the same lines
/// arrive at a fraction of it (`GemmTask::next_panel` has the figures).
#[derive(Clone, Copy)]
pub(crate) struct Prefetch {
    pub next: *const f32,
    pub lines: usize,
}

impl Prefetch {
    pub(crate) const NONE: Prefetch = Prefetch { next: std::ptr::null(), lines: 0 };

    /// The prefetch of k step `k`: line `k`, if there is one.
    #[inline(always)]
    fn step(&self, k: usize) {
        if k < self.lines {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a prefetch never faults, whatever the address.
            unsafe {
                use std::arch::x86_64::*;
                _mm_prefetch::<_MM_HINT_T1>(self.next.wrapping_add(k * ALIGN_FLOATS).cast());
            }
        }
    }
}

/// The epilogue of a row-major tile (rows are output channels) applied as the microkernel
/// stores it: `clamp(x + shift + residual)`, the shift added first, as the sums' start (a
/// scale went into the packed weights).
///
/// Applied after the tile was stored, it cost a second load and store of every vector, and
/// stalled on the first store's cache misses: 1 thread, AVX-512, with scale, shift and ReLU
/// against none (`ferrocnn conv --input 1xCxHxW --out-channels K --kernel 1 --epilogue
/// scale,shift,relu`), 16x112x112 -> 96 took 0.254 ms against 0.171, 64x56x56 -> 256 0.451
/// against 0.397 — small K leaves little arithmetic to hide it behind.
///
/// What is left of its cost is not waiting on the residual's or C's lines: the tile's
/// residual prefetched into L1 and its C lines for writing (`_MM_HINT_ET0`) as the tile
/// starts, 1 thread, three interleaved rounds, left the 1x1 layers with shift, residual
/// and ReLU where they were (64x56x56 -> 256 0.465-0.478 ms with or without, 128x28x28 ->
/// 512 0.428-0.445, 256x56x56 -> 64 0.414-0.431); nor on MobileNetV2's expansions, whose
/// 16 or 24 input channels leave the stores most of a tile's time: the next tile's C lines
/// prefetched for writing as each tile starts (2026-11-25, three rounds), 16x112x112 -> 96
/// with shift and ReLU6 went 0.230-0.236 -> 0.245-0.251 ms, 24x56x56 -> 144 0.111-0.112 ->
/// 0.116-0.118, 64x56x56 -> 256 with a residual 0.467-0.469 -> 0.483-0.487. Nor is it the
/// residual's address against C's modulo 4 KiB (loads that may alias pending stores): the residual moved by
/// 16, 512 and 1024 floats, 128x28x28 -> 512 at 0.416-0.446 ms throughout. The
/// residual costs 64x56x56 -> 256 0.035 ms (233 GFLOP/s with the shift alone, 215 with
/// it); with shift, residual and ReLU these three and 64x56x56 -> 64 run 211-246 GFLOP/s (78-91%
/// of the 270 peak; `ferrocnn conv --input 1xCxHxW --out-channels K --kernel 1 --epilogue
/// shift,residual,relu --threads 1 --iters 100`, two rounds), and ResNet-50's 16 `conv3`
/// layers trail OpenVINO's by 0.05-0.11 ms each inside the model
/// (`tools/peers/openvino_layers.py resnet50 --threads 1` beside `ferrocnn bench resnet50
/// --per-layer --threads 1`).
#[derive(Clone, Copy)]
pub(crate) struct StoreEpilogue {
    /// The tile's first row's shift, or null (zeros): where its sums start. A scale is
    /// folded into the packed weights instead (`PackedPanels::scale_free`; a task whose
    /// epilogue still has one takes the tile epilogue after the store).
    pub shift: *const f32,
    /// The tile's residual, laid out like C at its row stride, or null.
    pub residual: *const f32,
    pub clamp: Clamp,
}

/// The activations cheap enough to inline into every microkernel; the others
/// (LeakyReLU, sigmoid) take the tile epilogue after the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clamp {
    None,
    Relu,
    Relu6,
}

impl Clamp {
    pub(crate) fn of(activation: Activation) -> Option<Clamp> {
        match activation {
            Activation::Identity => Some(Clamp::None),
            Activation::Relu => Some(Clamp::Relu),
            Activation::Relu6 => Some(Clamp::Relu6),
            Activation::LeakyRelu(_) | Activation::Sigmoid => None,
        }
    }
}

/// `(kc, data, offsets, bases, b, c, rs_c, accumulate, prefetch)`: as [`MicrokernelFn`], but A is read
/// in place, not packed: `A[i][k] = data[bases[i] + offsets[k]]`, and B only packed. (With
/// B's row stride an argument too, the general registers ran out beside the row pointers:
/// ResNet-50's transposed 1x1 layers, 2 threads, 4-7% slower.)
pub(crate) type IndirectMicrokernelFn =
    unsafe fn(usize, *const f32, *const usize, *const usize, *const f32, *mut f32, usize, bool, Prefetch);

/// `(kc, a, data, offsets, bases, c, rs_c, accumulate, epilogue, prefetch)`: as
/// [`MicrokernelFn`], but B is read in place through offsets: vector `v` of k-row `k` at
/// `data + bases[v] + offsets[k]` (an im2col matrix in its phase planes, `conv::phases`).
pub(crate) type PhasedMicrokernelFn = unsafe fn(
    usize,
    *const f32,
    *const f32,
    *const usize,
    *const usize,
    *mut f32,
    usize,
    bool,
    Option<&StoreEpilogue>,
    Prefetch,
);

/// A family of microkernels sharing MR and NR: `by_rows[r - 1]` computes `r` rows;
/// `narrow[v - 1][r - 1]` `r` rows of the first `v` vectors of the panel (v < NV), for the
/// last columns of N; `by_rows_indirect[r - 1]` the full width with an indirect A, and
/// `narrow_indirect[v - 1][r - 1]` its first `v` vectors; `by_rows_phased[r - 1]` with B
/// read in place through offsets.
pub(crate) struct TileKernel {
    pub name: &'static str,
    pub mr: usize,
    pub nr: usize,
    /// The floats in one vector of the panel (NR / NV).
    pub lanes: usize,
    pub by_rows: &'static [MicrokernelFn],
    pub narrow: &'static [&'static [MicrokernelFn]],
    pub by_rows_indirect: &'static [IndirectMicrokernelFn],
    pub narrow_indirect: &'static [&'static [IndirectMicrokernelFn]],
    pub by_rows_phased: &'static [PhasedMicrokernelFn],
}

impl TileKernel {
    /// The kernel for `rows` rows and the first `cols` columns of a panel: the narrow one
    /// for the vectors that hold columns where that is fewer than NV. Measured against the
    /// whole padded panel (`ferrocnn conv --input 1xCxHxW --out-channels C --kernel 3 --pad 1
    /// --algo winograd-f4 --threads 1`, medians of five interleaved rounds): 64x56x56 0.480
    /// -> 0.455 ms (its last block 4 tiles wide), 256x14x14 0.576 -> 0.541.
    pub(crate) fn packed(&self, rows: usize, cols: usize) -> MicrokernelFn {
        let vectors = cols.div_ceil(self.lanes);
        if vectors > self.narrow.len() { self.by_rows[rows - 1] } else { self.narrow[vectors - 1][rows - 1] }
    }

    /// [`TileKernel::packed`] with an indirect A. Where the last panel of a transposed
    /// convolution was part filled, the full-width kernel computed its zero columns too.
    /// 1 thread, five interleaved rounds, ms: 960x7x7 -> 160 (three panels of 48 and a
    /// vector) 0.0713-0.0730 -> 0.0643-0.0650, 960x7x7 -> 320 0.126-0.130 -> 0.120-0.127,
    /// 2048x7x7 -> 512 0.427-0.436 -> 0.416-0.425. They also let two threads split a
    /// packed B inside a panel (`parallel::Split`).
    pub(crate) fn indirect(&self, rows: usize, cols: usize) -> IndirectMicrokernelFn {
        let vectors = cols.div_ceil(self.lanes);
        if vectors > self.narrow_indirect.len() {
            self.by_rows_indirect[rows - 1]
        } else {
            self.narrow_indirect[vectors - 1][rows - 1]
        }
    }
}

impl std::fmt::Debug for TileKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Where a tile finds B's k-rows: each k step's `NV` vectors.
trait BRows<const NV: usize> {
    /// k-row `k`'s vectors; called for k = 0, 1, 2, ... in turn.
    ///
    /// # Safety
    /// `S` is available; the row lies where the kernel's contract says.
    unsafe fn load<S: Simd>(&mut self, k: usize) -> [S::V; NV];
}

/// k-rows `ldb` floats apart from `b`: a packed panel, or a row-major B read in place.
struct StridedRows {
    b: *const f32,
    ldb: usize,
}

impl<const NV: usize> BRows<NV> for StridedRows {
    #[inline(always)]
    unsafe fn load<S: Simd>(&mut self, _k: usize) -> [S::V; NV] {
        // SAFETY: the row's NV vectors are readable (caller's contract).
        unsafe {
            let mut bv = [S::zero(); NV];
            for (j, v) in bv.iter_mut().enumerate() {
                *v = S::load(self.b.add(j * S::LANES));
            }
            self.b = self.b.add(self.ldb);
            bv
        }
    }
}

/// Vector `v` of k-row `k` at `vectors[v] + offsets[k]` (`in_place::OffsetRows`).
struct OffsetVectors<const NV: usize> {
    vectors: [*const f32; NV],
    offsets: *const usize,
}

impl<const NV: usize> BRows<NV> for OffsetVectors<NV> {
    #[inline(always)]
    unsafe fn load<S: Simd>(&mut self, k: usize) -> [S::V; NV] {
        // SAFETY: `offsets` holds an entry for k, and each vector there is readable
        // (caller's contract).
        unsafe {
            let offset = *self.offsets.add(k);
            let mut bv = [S::zero(); NV];
            for (j, v) in bv.iter_mut().enumerate() {
                *v = S::load(self.vectors[j].add(offset));
            }
            bv
        }
    }
}

/// The body every ISA instantiates.
///
/// Computes the first `NV` vectors of a panel whose k-rows are `ldb` floats apart (the
/// panel's width when packed, the matrix's row length when read in place).
///
/// # Safety
/// `a` holds `kc * MR` floats, `b` holds `kc` k-rows of `NV * S::LANES` floats, `ldb` floats apart, `c` is writable (and
/// readable if `accumulate`) for `ROWS` rows of `NV * S::LANES` floats at stride `rs_c`; an
/// `epilogue` meets [`finish_in_registers`]'s contract; `S` is available on this CPU.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn microkernel<S: Simd, const MR: usize, const ROWS: usize, const NV: usize>(
    kc: usize,
    a: *const f32,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    rs_c: usize,
    accumulate: bool,
    epilogue: Option<&StoreEpilogue>,
    prefetch: Prefetch,
) {
    // SAFETY: forwarded contract; the strided rows are B's.
    unsafe { packed_a::<S, MR, ROWS, NV, _>(kc, a, StridedRows { b, ldb }, c, rs_c, accumulate, epilogue, prefetch) }
}

/// The body of the phased kernels: B's vector `v` of k-row `k` at `data + bases[v] +
/// offsets[k]`, read where it lies. Each vector is a run of output pixels within one output
/// row, and `offsets[k]` where tap k reads its phase plane (`conv::phases`): packing those
/// runs into a panel first took 12-16% of the ResNet stem.
///
/// # Safety
/// `offsets` holds `kc` entries and `bases` `NV`; `data + bases[v] + offsets[k]` holds
/// `S::LANES` readable floats for each; `a`, `c` and `epilogue` as for [`microkernel`]; `S`
/// is available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn microkernel_phased<S: Simd, const MR: usize, const ROWS: usize, const NV: usize>(
    kc: usize,
    a: *const f32,
    data: *const f32,
    offsets: *const usize,
    bases: *const usize,
    c: *mut f32,
    rs_c: usize,
    accumulate: bool,
    epilogue: Option<&StoreEpilogue>,
    prefetch: Prefetch,
) {
    // SAFETY: forwarded contract: `bases` holds NV entries, and the offset vectors are B's.
    unsafe {
        let vectors: [*const f32; NV] = core::array::from_fn(|j| data.add(*bases.add(j)));
        let rows = OffsetVectors { vectors, offsets };
        packed_a::<S, MR, ROWS, NV, _>(kc, a, rows, c, rs_c, accumulate, epilogue, prefetch)
    }
}

/// The tile over a packed A panel (MR floats a k step, the first ROWS used) and B's rows as
/// `b` finds them, then the epilogue in registers and the store.
///
/// # Safety
/// `a` holds `kc * MR` floats; `b` finds `kc` k-rows; `c` and `epilogue` as for
/// [`microkernel`]; `S` is available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn packed_a<S: Simd, const MR: usize, const ROWS: usize, const NV: usize, B: BRows<NV>>(
    kc: usize,
    a: *const f32,
    mut b: B,
    c: *mut f32,
    rs_c: usize,
    accumulate: bool,
    epilogue: Option<&StoreEpilogue>,
    prefetch: Prefetch,
) {
    // SAFETY: every pointer offset below stays inside the extents the caller guarantees:
    // k < kc, i < ROWS <= MR, j < NV.
    unsafe {
        // The shift is where the sums start: `finish_in_registers` has no multiply-add
        // left to do.
        let mut acc = [[S::zero(); NV]; ROWS];
        if let Some(e) = epilogue.filter(|e| !e.shift.is_null()) {
            for (i, row) in acc.iter_mut().enumerate() {
                *row = [S::splat(*e.shift.add(i)); NV];
            }
        }
        let mut a = a;
        for k in 0..kc {
            prefetch.step(k);
            let bv = b.load::<S>(k);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = S::splat(*a.add(i));
                for (j, v) in row.iter_mut().enumerate() {
                    *v = S::mul_add(ai, bv[j], *v);
                }
            }
            a = a.add(MR);
        }
        if let Some(e) = epilogue {
            finish_in_registers::<S, ROWS, NV>(&mut acc, c, rs_c, accumulate, e);
        }
        store_tile::<S, ROWS, NV>(&acc, c, rs_c, accumulate && epilogue.is_none());
    }
}

/// The body of the indirect kernels: `A[i][k] = data[bases[i] + offsets[k]]`, which reads
/// an image's im2col matrix in place (an "indirect GEMM", as XNNPACK's indirection buffers
/// do for NHWC; here the offsets of the taps are shared by all pixels of a tile). B is a
/// packed panel of `PANEL` vectors a k-row, of which the tile computes the first `NV`
/// from `b` on.
///
/// # Safety
/// `offsets` holds `kc` entries and `bases` `ROWS`; every `bases[i] + offsets[k]` indexes
/// `data`; `b` holds `kc` rows `PANEL * S::LANES` floats apart, `NV` vectors readable in
/// each; `c` as for [`microkernel`]; `S` is available.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn microkernel_indirect<S: Simd, const ROWS: usize, const NV: usize, const PANEL: usize>(
    kc: usize,
    data: *const f32,
    offsets: *const usize,
    bases: *const usize,
    b: *const f32,
    c: *mut f32,
    rs_c: usize,
    accumulate: bool,
    prefetch: Prefetch,
) {
    // SAFETY: offsets stay within the extents the caller guarantees.
    unsafe {
        let mut rows = [data; ROWS];
        for (i, r) in rows.iter_mut().enumerate() {
            *r = data.add(*bases.add(i));
        }
        let mut acc = [[S::zero(); NV]; ROWS];
        let mut b = StridedRows { b, ldb: PANEL * S::LANES };
        for k in 0..kc {
            prefetch.step(k);
            let offset = *offsets.add(k);
            let bv = <StridedRows as BRows<NV>>::load::<S>(&mut b, k);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = S::splat(*rows[i].add(offset));
                for (j, v) in row.iter_mut().enumerate() {
                    *v = S::mul_add(ai, bv[j], *v);
                }
            }
        }
        store_tile::<S, ROWS, NV>(&acc, c, rs_c, accumulate);
    }
}

/// # Safety
/// `c` is writable (and readable if `accumulate`) for `ROWS` rows of `NV * S::LANES` floats
/// at stride `rs_c`.
#[inline(always)]
unsafe fn store_tile<S: Simd, const ROWS: usize, const NV: usize>(
    acc: &[[S::V; NV]; ROWS],
    c: *mut f32,
    rs_c: usize,
    accumulate: bool,
) {
    // SAFETY: offsets stay within the extents the caller guarantees.
    unsafe {
        for (i, row) in acc.iter().enumerate() {
            let c_row = c.add(i * rs_c);
            for (j, &v) in row.iter().enumerate() {
                let p = c_row.add(j * S::LANES);
                if accumulate {
                    S::store(p, S::add(S::load(p), v));
                } else {
                    S::store(p, v);
                }
            }
        }
    }
}

/// The epilogue applied to the accumulators in place, before [`store_tile`] stores them
/// (replacing C: a partial sum in C has been added here). Each step is its own simple
/// loop over the accumulators, chosen once per tile, so that all of them unroll and the
/// accumulators stay in registers. (With the residual and the clamp chosen per vector
/// inside one store loop, the accumulators went through the stack and every GEMM, even
/// without an epilogue, lost a fifth: 16x112x112 -> 96 1x1 0.177 -> 0.226 ms.)
///
/// The shift is not added here: the accumulators started from it (`packed_a`).
///
/// # Safety
/// `c` as for [`store_tile`]; `e`'s residual, when not null, holds `ROWS` rows of
/// `NV * S::LANES` floats at stride `rs_c`.
#[inline(always)]
unsafe fn finish_in_registers<S: Simd, const ROWS: usize, const NV: usize>(
    acc: &mut [[S::V; NV]; ROWS],
    c: *const f32,
    rs_c: usize,
    accumulate: bool,
    e: &StoreEpilogue,
) {
    // SAFETY: offsets stay within the extents the caller guarantees.
    unsafe {
        if accumulate {
            for (i, row) in acc.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = S::add(S::load(c.add(i * rs_c + j * S::LANES)), *v);
                }
            }
        }
        if !e.residual.is_null() {
            for (i, row) in acc.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = S::add(*v, S::load(e.residual.add(i * rs_c + j * S::LANES)));
                }
            }
        }
        // `activate` with the activation a constant in each loop, so its match folds away
        // instead of running per vector. Loops, not closures: a closure left out of line
        // loses the shell's target features and calls every intrinsic (in the channel-blocked
        // depthwise kernel tried and dropped on 2026-11-24, 960x7x7 ran 0.081 ms against
        // 0.022 inlined).
        match e.clamp {
            Clamp::None => {}
            Clamp::Relu => {
                for v in acc.as_flattened_mut() {
                    *v = activate::<S>(*v, Activation::Relu);
                }
            }
            Clamp::Relu6 => {
                for v in acc.as_flattened_mut() {
                    *v = activate::<S>(*v, Activation::Relu6);
                }
            }
        }
    }
}

/// A [`TileKernel`] of `#[target_feature]` shells, one per row count for each kind of A and
/// each narrow width (`narrow` lists the vector counts below `nv`), each carrying the
/// attributes in brackets (the `#[target_feature]` of its ISA).
macro_rules! tile_kernel {
    ($name:literal, $attrs:tt $simd:ty, mr = $mr:literal, nv = $nv:literal, rows = $rows:tt, narrow = [$($narrow:literal),*]) => {
        $crate::gemm::microkernel::TileKernel {
            name: $name,
            mr: $mr,
            nr: $nv * <$simd as $crate::arch::simd::Simd>::LANES,
            lanes: <$simd as $crate::arch::simd::Simd>::LANES,
            by_rows: $crate::gemm::microkernel::tile_kernel!(@rows $attrs $simd, $mr, $nv, $rows),
            narrow: &[$($crate::gemm::microkernel::tile_kernel!(@rows $attrs $simd, $mr, $narrow, $rows)),*],
            by_rows_indirect: $crate::gemm::microkernel::tile_kernel!(@indirect_rows $attrs $simd, $nv, $nv, $rows),
            narrow_indirect: &[$($crate::gemm::microkernel::tile_kernel!(@indirect_rows $attrs $simd, $narrow, $nv, $rows)),*],
            by_rows_phased: $crate::gemm::microkernel::tile_kernel!(@phased_rows $attrs $simd, $mr, $nv, $rows),
        }
    };
    (@phased_rows $attrs:tt $simd:ty, $mr:literal, $nv:literal, [$($rows:literal),+]) => {
        &[$($crate::gemm::microkernel::tile_kernel!(@phased $attrs $simd, $mr, $rows, $nv)),+]
    };
    (@rows $attrs:tt $simd:ty, $mr:literal, $nv:literal, [$($rows:literal),+]) => {
        &[$($crate::gemm::microkernel::tile_kernel!(@packed $attrs $simd, $mr, $rows, $nv)),+]
    };
    (@indirect_rows $attrs:tt $simd:ty, $nv:literal, $panel:literal, [$($rows:literal),+]) => {
        &[$($crate::gemm::microkernel::tile_kernel!(@indirect $attrs $simd, $rows, $nv, $panel)),+]
    };
    (@packed [$(#[$attr:meta])*] $simd:ty, $mr:literal, $rows:literal, $nv:literal) => {{
        $(#[$attr])*
        #[allow(clippy::too_many_arguments)]
        unsafe fn shell(
            kc: usize, a: *const f32, b: *const f32, ldb: usize, c: *mut f32, rs_c: usize, accumulate: bool,
            epilogue: Option<&$crate::gemm::microkernel::StoreEpilogue>,
            prefetch: $crate::gemm::microkernel::Prefetch,
        ) {
            // SAFETY: forwarded contract of `microkernel`; the dispatcher selects this shell
            // only when the CPU has the features it is compiled for.
            unsafe {
                $crate::gemm::microkernel::microkernel::<$simd, $mr, $rows, $nv>(
                    kc, a, b, ldb, c, rs_c, accumulate, epilogue, prefetch,
                )
            }
        }
        shell as $crate::gemm::microkernel::MicrokernelFn
    }};
    (@indirect [$(#[$attr:meta])*] $simd:ty, $rows:literal, $nv:literal, $panel:literal) => {{
        $(#[$attr])*
        #[allow(clippy::too_many_arguments)]
        unsafe fn shell(
            kc: usize, data: *const f32, offsets: *const usize, bases: *const usize, b: *const f32, c: *mut f32,
            rs_c: usize, accumulate: bool, prefetch: $crate::gemm::microkernel::Prefetch,
        ) {
            // SAFETY: forwarded contract of `microkernel_indirect`; selected only on CPUs
            // with the features it is compiled for.
            unsafe {
                $crate::gemm::microkernel::microkernel_indirect::<$simd, $rows, $nv, $panel>(
                    kc, data, offsets, bases, b, c, rs_c, accumulate, prefetch,
                )
            }
        }
        shell as $crate::gemm::microkernel::IndirectMicrokernelFn
    }};
    (@phased [$(#[$attr:meta])*] $simd:ty, $mr:literal, $rows:literal, $nv:literal) => {{
        $(#[$attr])*
        #[allow(clippy::too_many_arguments)]
        unsafe fn shell(
            kc: usize, a: *const f32, data: *const f32, offsets: *const usize, bases: *const usize, c: *mut f32,
            rs_c: usize, accumulate: bool, epilogue: Option<&$crate::gemm::microkernel::StoreEpilogue>,
            prefetch: $crate::gemm::microkernel::Prefetch,
        ) {
            // SAFETY: forwarded contract of `microkernel_phased`; selected only on CPUs with
            // the features it is compiled for.
            unsafe {
                $crate::gemm::microkernel::microkernel_phased::<$simd, $mr, $rows, $nv>(
                    kc, a, data, offsets, bases, c, rs_c, accumulate, epilogue, prefetch,
                )
            }
        }
        shell as $crate::gemm::microkernel::PhasedMicrokernelFn
    }};
}
pub(crate) use tile_kernel;
