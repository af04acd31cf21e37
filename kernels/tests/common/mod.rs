//! Data and comparisons shared by the kernel tests.
#![allow(dead_code)]

use ferrocnn_kernels::dispatch::supported_isas;
use ferrocnn_kernels::{Conv2dDesc, Isa, PlanOptions};

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

/// Convolution weights at Kaiming scale: uniform on [-a, a] with a^2/3 = 2/n, n = C/g*R*S.
pub fn kaiming(desc: &Conv2dDesc, seed: u64) -> Vec<f32> {
    let s = desc.validate().unwrap();
    let n = (desc.in_channels / desc.groups * desc.kernel_h * desc.kernel_w) as f32;
    let a = (6.0 / n).sqrt();
    signed(s.weight_len, seed).iter().map(|v| v * a).collect()
}

/// Largest |got - want| over the largest |want|; NaN (an unwritten output) is infinite.
pub fn relative_error(got: &[f32], want: &[f32]) -> f32 {
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    got.iter().zip(want).map(|(g, w)| if g.is_nan() { f32::INFINITY } else { (g - w).abs() }).fold(0.0, f32::max)
        / scale
}

/// A group count dividing both `c` and `k`, picked by `seed`: random shapes' groups.
pub fn group_count(c: usize, k: usize, seed: usize) -> usize {
    let divisors: Vec<usize> = (1..=c.min(k)).filter(|&g| c.is_multiple_of(g) && k.is_multiple_of(g)).collect();
    divisors[seed % divisors.len()]
}
