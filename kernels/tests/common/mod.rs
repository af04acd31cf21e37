//! Data and comparisons shared by the kernel tests.
#![allow(dead_code)]

use ferrocnn_kernels::dispatch::supported_isas;
use ferrocnn_kernels::{Isa, PlanOptions};

/// Every ISA path this CPU runs, with 1 and 2 threads: the configurations each fast kernel
/// is checked under.
pub fn configurations() -> Vec<PlanOptions> {
    supported_isas().into_iter().flat_map(|isa| [1, 2].map(|threads| PlanOptions { isa, threads })).collect()
}

pub fn isas() -> Vec<Isa> {
    supported_isas()
}

/// Zero-mean values in [-1, 1) from SplitMix64: signed data, so cancellation is exercised.
pub fn signed(len: usize, seed: u64) -> Vec<f32> {
    ferrocnn_kernels::random::signed_uniform(len, seed)
}

/// Integers in -3..=3: products and sums stay exact in f32, so results compare equal.
pub fn small_ints(len: usize, seed: u64) -> Vec<f32> {
    signed(len, seed).iter().map(|v| (v * 3.5).round().clamp(-3.0, 3.0)).collect()
}

/// Checks `got` against `want` element by element: |got - want| <= bound[i].
pub fn assert_within(got: &[f32], want: &[f32], bound: impl Fn(usize) -> f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let b = bound(i);
        assert!((g - w).abs() <= b, "{what}: element {i}: got {g}, want {w}, |diff| {} > bound {b}", (g - w).abs());
    }
}
