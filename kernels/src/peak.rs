//! The machine's fp32 FMA peak, measured: a loop of independent fused multiply-adds and
//! nothing else, per instruction-set path. Benchmarks report their GFLOP/s as a fraction of
//! this rather than of a figure from a data sheet (on this project's Zen 5 host, AVX-512
//! retires two 512-bit FMAs a cycle: twice the AVX2 rate that is often quoted).

use crate::arch::simd::Simd;
use crate::dispatch::{Isa, table};
use std::time::Instant;

/// `iters` rounds of CHAINS independent FMAs on `S`; returns a value the optimiser cannot
/// drop. CHAINS must cover latency x pipes (4 x 2 = 8 on Zen 5) and fit the registers
/// (each ISA's shell picks it).
///
/// # Safety
/// `S` is available on this CPU.
#[inline(always)]
pub(crate) unsafe fn fma_loop<S: Simd, const CHAINS: usize>(iters: usize) -> f32 {
    // SAFETY: `S` is available (caller's contract); the stores go to a local array.
    unsafe {
        let (a, b) = (S::splat(0.999_999), S::splat(1e-7));
        let mut acc = [S::zero(); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = S::mul_add(*x, a, b);
            }
        }
        let mut sum = S::zero();
        for x in acc {
            sum = S::add(sum, x);
        }
        let mut lanes = [0.0f32; 16];
        S::store(lanes.as_mut_ptr(), sum);
        lanes[0]
    }
}

/// Single-thread FMA peak of `isa` in GFLOP/s (2 flops per lane per FMA), timed over about
/// `seconds`. `Err` if the CPU lacks `isa`.
pub fn fma_peak_gflops(isa: Isa, seconds: f64) -> crate::Result<f64> {
    let kernels = table(isa)?;
    // Flops per iteration: FMAs of all chains x lanes x 2.
    let per_iter = 2.0 * kernels.lanes as f64 * kernels.fma_chains as f64;
    let mut iters = 1 << 16;
    loop {
        let start = Instant::now();
        // SAFETY: `table` accepted `isa`, so the CPU runs its FMA loop.
        std::hint::black_box(unsafe { (kernels.fma_loop)(iters) });
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= seconds || iters >= 1 << 40 {
            return Ok(per_iter * iters as f64 / elapsed / 1e9);
        }
        iters = (iters as f64 * (seconds / elapsed.max(1e-6)).clamp(2.0, 100.0)) as usize;
    }
}
