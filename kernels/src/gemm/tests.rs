//! Every microkernel family of every ISA this CPU runs, swept over every tile edge.
//!
//! Data are small integers, so every product and sum is exact in f32 and the comparison
//! is equality, not a tolerance. C starts as NaN: a first pass that read C (beta != 0)
//! would leave NaN behind.

use super::blocking::Blocking;
use super::driver::{GemmTask, IndirectIndex, IndirectSource, Operand, TaskEpilogue};
use super::in_place::InPlaceRows;
use super::microkernel::TileKernel;
use super::pack::{PackedPanels, StridedSource};
use super::parallel::Split;
use crate::aligned::{ALIGN, ALIGN_FLOATS};
use crate::dispatch::{supported_isas, table};
use crate::epilogue::Activation;

/// Small signed integers from a fixed sequence.
fn ints(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) % 7) as f32 - 3.0
        })
        .collect()
}

/// How the test hands A to the GEMM.
#[derive(Clone, Copy, PartialEq)]
enum AKind {
    /// Packed once, ahead.
    Packed,
    /// Packed block by block as the GEMM runs.
    OnTheFly,
    /// Read in place: A[i][k] = data[bases[i] + offsets[k]], here bases[i] = i*k.
    Indirect,
}

/// How the test hands B to the GEMM.
#[derive(Clone, Copy, PartialEq, Debug)]
enum BKind {
    /// Packed once, ahead (as convolution weights are).
    Packed,
    /// Packed block by block as the GEMM runs.
    OnTheFly,
    /// Read where it lies (row-major, k rows of n floats), its partial last panel copied.
    InPlace,
}

const B_KINDS: [BKind; 3] = [BKind::Packed, BKind::OnTheFly, BKind::InPlace];

struct Case {
    tile: &'static TileKernel,
    m: usize,
    n: usize,
    k: usize,
    /// C as the transpose: element (i, j) at i + j*m.
    transposed: bool,
    a_kind: AKind,
    b_kind: BKind,
    blocking: Blocking,
    threads: usize,
    epilogue: bool,
    /// With the epilogue, whether it adds a residual (the transposed store has a path
    /// for each).
    residual: bool,
    /// With the epilogue: the microkernels apply identity, ReLU and ReLU6 as they store,
    /// the tile epilogue after them the others.
    activation: Activation,
}

/// The activations the epilogue cases cycle through: exact on small integers.
const ACTIVATIONS: [Activation; 4] =
    [Activation::Relu, Activation::Relu6, Activation::Identity, Activation::LeakyRelu(0.5)];

fn check(case: &Case, kernels: &'static crate::dispatch::KernelTable) {
    let Case { tile, m, n, k, transposed, .. } = *case;
    let a = ints(m * k, (m * 131 + k) as u64);
    let b = ints(k * n, (n * 71 + k) as u64 + 1);
    let residual = ints(m * n, 5);
    let scale: Vec<f32> = (0..m.max(n)).map(|c| (c % 3) as f32 - 1.0).collect();
    let shift: Vec<f32> = (0..m.max(n)).map(|c| (c % 5) as f32).collect();
    let (rs, cs) = if transposed { (1, m) } else { (n, 1) };
    // Expected, exact: channels are memory rows, i.e. i (row-major) or j (transposed).
    let mut want = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut v: f32 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            if case.epilogue {
                let ch = if transposed { j } else { i };
                let added = if case.residual { residual[i * rs + j * cs] } else { 0.0 };
                v = case.activation.apply(v * scale[ch] + shift[ch] + added);
            }
            want[i * rs + j * cs] = v;
        }
    }
    let a_src = StridedSource { data: &a, free_len: m, k_len: k, free_stride: k, k_stride: 1 };
    let b_src = StridedSource { data: &b, free_len: n, k_len: k, free_stride: 1, k_stride: n };
    let a_packed = PackedPanels::new(&a_src, tile.mr);
    let b_packed = PackedPanels::new(&b_src, tile.nr);
    let index = IndirectIndex::new((0..k).collect(), (0..m).map(|i| i * k).collect()).unwrap();
    let a_op = match case.a_kind {
        AKind::Packed => Operand::Packed(a_packed.view()),
        AKind::OnTheFly => Operand::Source(&a_src),
        AKind::Indirect => Operand::Indirect(IndirectSource::new(&a, &index).unwrap()),
    };
    let mut c = vec![f32::NAN; m * n];
    // The indirect kernels read B packed.
    let b_kind =
        if case.a_kind == AKind::Indirect && case.b_kind == BKind::InPlace { BKind::OnTheFly } else { case.b_kind };
    let epilogue = if case.epilogue {
        TaskEpilogue {
            channels_on_rows: !transposed,
            scale: scale.as_ptr(),
            shift: shift.as_ptr(),
            residual: if case.residual { residual.as_ptr() } else { std::ptr::null() },
            activation: case.activation,
        }
    } else {
        TaskEpilogue {
            channels_on_rows: !transposed,
            scale: std::ptr::null(),
            shift: std::ptr::null(),
            residual: std::ptr::null(),
            activation: Activation::Identity,
        }
    };
    let task = GemmTask {
        m,
        n,
        k,
        a: a_op,
        b: match b_kind {
            BKind::Packed => Operand::Packed(b_packed.view()),
            BKind::OnTheFly => Operand::Source(&b_src),
            // `b` is exactly k x n: a whole panel read past its last row would leave it.
            BKind::InPlace => Operand::InPlace(InPlaceRows::new(b_src).unwrap()),
        },
        c: c.as_mut_ptr(),
        rs_c: rs,
        cs_c: cs,
        epilogue,
        tile,
        kernels,
        blocking: case.blocking,
        then: None,
    };
    let feeds = (task.a.feed(), task.b.feed());
    let split = Split::new(m, n, tile, feeds, case.threads);
    let mut scratch = vec![0.0f32; split.scratch_len(feeds, tile, case.blocking, transposed)];
    // SAFETY: all buffers are sized for m, n, k above; the table came from `table`.
    unsafe { super::parallel::run(&task, &split, &mut scratch) };
    assert!(
        c == want,
        "{} m={m} n={n} k={k} transposed={transposed} epilogue={} residual={} {:?} indirect={} b={:?}: got {c:?}, want {want:?}",
        tile.name,
        case.epilogue,
        case.residual,
        case.activation,
        case.a_kind == AKind::Indirect,
        b_kind
    );
}

#[test]
fn every_family_on_every_edge() {
    for isa in supported_isas() {
        let t = table(isa).unwrap();
        for tile in t.tiles {
            for m in 1..=2 * tile.mr {
                for n in 1..=2 * tile.nr {
                    for k in 1..=17 {
                        // Alternate the layouts and paths so each (m, n) meets all of them.
                        let transposed = (m + n + k) % 2 == 1;
                        let case = Case {
                            tile,
                            m,
                            n,
                            k,
                            transposed,
                            a_kind: [AKind::Packed, AKind::OnTheFly, AKind::Indirect][(m + k) % 3],
                            b_kind: B_KINDS[(m + 2 * k) % 3],
                            blocking: Blocking { kc: 17, nc: tile.nr },
                            threads: 1,
                            epilogue: k % 4 == 1,
                            residual: k % 8 == 1,
                            activation: ACTIVATIONS[(m + n) % 4],
                        };
                        check(&case, t);
                    }
                }
            }
        }
    }
}

#[test]
fn k_blocks_and_threads_and_panel_blocks() {
    // Blocks deeper and narrower than the problem: several passes over K (accumulating
    // into C), several B blocks, and two threads splitting either axis.
    for isa in supported_isas() {
        let t = table(isa).unwrap();
        for tile in t.tiles {
            for (m, n, k) in [(3 * tile.mr + 1, 5 * tile.nr - 3, 50), (2, 7 * tile.nr, 33), (9 * tile.mr, 3, 64)] {
                for (kc, threads, transposed, epilogue) in
                    [(7, 1, false, true), (9, 2, false, true), (16, 2, true, true), (64, 2, false, false)]
                {
                    let case = Case {
                        tile,
                        m,
                        n,
                        k,
                        transposed,
                        a_kind: if threads == 2 && transposed {
                            AKind::OnTheFly
                        } else if kc == 7 {
                            AKind::Indirect
                        } else {
                            AKind::Packed
                        },
                        // Transposed with B packed ahead: the loop that prefetches B.
                        b_kind: if transposed || kc == 9 {
                            BKind::Packed
                        } else if kc == 64 {
                            BKind::InPlace
                        } else {
                            BKind::OnTheFly
                        },
                        blocking: Blocking { kc, nc: 2 * tile.nr },
                        threads,
                        epilogue,
                        residual: m % 2 == 1,
                        activation: ACTIVATIONS[(kc + n) % 4],
                    };
                    check(&case, t);
                }
            }
        }
    }
}

#[test]
fn transposed_parts_of_several_chunks() {
    // A transposed C turns a chunk of row tiles at a time (`transposed_store::chunk_tiles`):
    // parts of two whole chunks and a short one, on one pass over K and on several (the
    // later passes add C's partial sums), split over two threads on either axis.
    for isa in supported_isas() {
        let t = table(isa).unwrap();
        for tile in t.tiles {
            let chunk_rows = super::transposed_store::chunk_tiles(tile.mr, tile.lanes) * tile.mr;
            let (m, n) = (2 * chunk_rows + tile.mr + 3, 2 * tile.nr + tile.lanes + 1);
            for (kc, threads, residual) in [(64, 1, true), (16, 2, false), (16, 1, true)] {
                let case = Case {
                    tile,
                    m,
                    n,
                    k: 40,
                    transposed: true,
                    a_kind: if threads == 2 { AKind::OnTheFly } else { AKind::Packed },
                    b_kind: BKind::Packed,
                    blocking: Blocking { kc, nc: 2 * tile.nr },
                    threads,
                    epilogue: true,
                    residual,
                    activation: ACTIVATIONS[kc % 4],
                };
                check(&case, t);
            }
        }
    }
}

/// Every family fits its register file — MR*NV accumulators, NV B vectors and one broadcast
/// (7x64 on AVX-512 needed 33 of 32 and spilled inside the loop, 40% of peak) — and its
/// panels fit the im2col packer's run buffer.
#[test]
fn every_family_fits_its_registers_and_the_packer() {
    use crate::Isa;
    for isa in Isa::ALL {
        let Ok(t) = table(isa) else { continue };
        // Vector registers, and lanes per register (wide's f32x8 is two SSE registers).
        let (registers, lanes, regs_per_vector) = match isa {
            Isa::Avx512f => (32, 16, 1),
            Isa::Avx2Fma => (16, 8, 1),
            Isa::Portable => (16, 8, 2),
        };
        for tile in t.tiles {
            let nv = tile.nr / lanes;
            let needed = (tile.mr * nv + nv + 1) * regs_per_vector;
            assert!(needed <= registers, "{}: needs {needed} registers of {registers}", tile.name);
            assert!(
                tile.nr <= crate::conv::phases::MAX_RUNS && tile.mr <= crate::conv::phases::MAX_RUNS,
                "{}",
                tile.name
            );
            assert_eq!(tile.by_rows.len(), tile.mr);
            assert_eq!(tile.by_rows_indirect.len(), tile.mr);
            // One narrow set per vector count below the full panel, each for every row count.
            assert_eq!(tile.lanes, lanes, "{}", tile.name);
            assert_eq!(tile.narrow.len(), nv - 1, "{}", tile.name);
            assert!(tile.narrow.iter().all(|set| set.len() == tile.mr), "{}", tile.name);
            assert_eq!(tile.narrow_indirect.len(), nv - 1, "{}", tile.name);
            assert!(tile.narrow_indirect.iter().all(|set| set.len() == tile.mr), "{}", tile.name);
        }
    }
}

/// The vectorised sigmoid of every ISA's epilogue against f64, over [-100, 100]: within
/// 4 ulp relative (e^x's 2 ulp, the add and the division), plus 1e-37 absolute where the
/// exponential is clamped (x < -87.3: the true value is below 2^-126 there).
#[test]
fn sigmoid_is_accurate_on_every_isa() {
    use super::epilogue::EpilogueTile;
    let xs: Vec<f32> = (-20000..=20000).map(|i| i as f32 * 0.005).chain([-1e30, -88.5, 88.5, 1e30]).collect();
    for isa in crate::dispatch::supported_isas() {
        let t = table(isa).unwrap();
        let mut row = xs.clone();
        let tile = EpilogueTile {
            rows: 1,
            cols: row.len(),
            c: row.as_mut_ptr(),
            ldc: row.len(),
            scale: std::ptr::null(),
            shift: std::ptr::null(),
            residual: std::ptr::null(),
            activation: Activation::Sigmoid,
        };
        // SAFETY: one row of `cols` floats at `c`; no vectors; the table passed the CPU check.
        unsafe { (t.epilogue)(&tile) };
        for (&x, &y) in xs.iter().zip(&row) {
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            let err = (y as f64 - want).abs();
            assert!(err <= 4.0 * f32::EPSILON as f64 * want + 1e-37, "{isa}: sigmoid({x}) = {y}, want {want}");
        }
    }
}

/// The prefetches of both loops (B panels down the transposed one, A panels across the
/// row-major one): tile by tile, consecutive shares of the panel read next (the next
/// panel, then the first of the next K block), none after the last, each inside the
/// packed panels; whole when the tiles have k steps enough.
#[test]
fn prefetch_shares_cover_the_next_panel() {
    let t = table(supported_isas()[0]).unwrap();
    let tile = &t.tiles[0];
    let (m, n, k, kc) = (4 * tile.mr + 1, 3 * tile.nr, 100, 40);
    let a = vec![0.0f32; m * k];
    let b = vec![0.0f32; k * n];
    let a_src = StridedSource { data: &a, free_len: m, k_len: k, free_stride: k, k_stride: 1 };
    let b_src = StridedSource { data: &b, free_len: n, k_len: k, free_stride: 1, k_stride: n };
    let (a_packed, b_packed) = (PackedPanels::new(&a_src, tile.mr), PackedPanels::new(&b_src, tile.nr));
    let mut c = vec![0.0f32; m * n];
    let task = GemmTask {
        m,
        n,
        k,
        a: Operand::Packed(a_packed.view()),
        b: Operand::Packed(b_packed.view()),
        c: c.as_mut_ptr(),
        rs_c: 1,
        cs_c: m,
        epilogue: TaskEpilogue {
            channels_on_rows: false,
            scale: std::ptr::null(),
            shift: std::ptr::null(),
            residual: std::ptr::null(),
            activation: Activation::Identity,
        },
        tile,
        kernels: t,
        blocking: Blocking { kc, nc: tile.nr },
        then: None,
    };
    // (operand, its panels' width, its length, the tiles sharing a panel's prefetch)
    for (packed, width, len, shares) in [(&b_packed, tile.nr, n, m.div_ceil(tile.mr)), (&a_packed, tile.mr, m, 2)] {
        let view = packed.view();
        let panels = len.div_ceil(width);
        let (start, end) = (view.ptr(0, 0) as usize, view.ptr(0, 0) as usize + size_of::<f32>() * panels * width * k);
        for pc in (0..k).step_by(kc) {
            for at in (0..len).step_by(width) {
                let next = if at + width < len {
                    Some((at / width + 1, pc))
                } else if pc + kc < k {
                    Some((0, pc + kc))
                } else {
                    None
                };
                let plan = task.next_panel(Operand::Packed(view), width, at, &(0..len), pc, shares);
                let got: Vec<_> = (0..shares).map(|i| plan.share(i)).collect();
                let Some((panel, k0)) = next else {
                    assert!(got.iter().all(|s| s.lines == 0), "nothing follows the last panel");
                    // Unless a GEMM follows: then its first panel of the range, K rows 0 ...
                    let then = PackedPanels::new(if width == tile.nr { &b_src } else { &a_src }, width);
                    let followed = GemmTask { then: Some(then.view()), ..task };
                    let first = followed.next_panel(Operand::Packed(view), width, at, &(0..len), pc, shares);
                    assert_eq!(first.share(0).next, then.view().ptr(0, 0), "the next GEMM's first panel");
                    continue;
                };
                let panel_lines = (kc.min(k - k0) * width).div_ceil(ALIGN_FLOATS);
                let mut expect = view.ptr(panel, k0) as usize;
                let mut fetched = 0;
                for s in got.iter().filter(|s| s.lines > 0) {
                    assert_eq!(s.next as usize, expect, "shares are consecutive from the panel's start");
                    assert!(s.lines <= kc.min(k - pc), "at most one line per k step");
                    assert!(s.next as usize >= start && s.next as usize + ALIGN * (s.lines - 1) < end);
                    expect += ALIGN * s.lines;
                    fetched += s.lines;
                }
                if shares * kc.min(k - pc) >= panel_lines {
                    assert_eq!(fetched, panel_lines, "width {width}, pc {pc}, at {at}");
                }
            }
        }
    }
}
