//! The public GEMM against a naive f64 product, on every ISA path and thread count.

mod common;

use common::{assert_within, configurations, signed, small_ints};
use ferrocnn_kernels::{Activation, Epilogue, Gemm, sgemm};
use proptest::prelude::*;

fn naive(m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut c = vec![0.0; m * n];
    let mut mag = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut t) = (0.0f64, 0.0f64);
            for p in 0..k {
                s += a[i * k + p] as f64 * b[p * n + j] as f64;
                t += (a[i * k + p] * b[p * n + j]).abs() as f64;
            }
            c[i * n + j] = s as f32;
            mag[i * n + j] = t as f32;
        }
    }
    (c, mag)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Tolerance: (k + 2) * eps * sum|a*b| (Higham's dot-product bound with margin).
    #[test]
    fn random_shapes_match_naive(m in 1usize..=150, n in 1usize..=150, k in 1usize..=300, seed in 0u64..1000) {
        let (a, b) = (signed(m * k, seed), signed(k * n, seed + 7));
        let (want, mag) = naive(m, n, k, &a, &b);
        for options in configurations() {
            let mut c = vec![f32::NAN; m * n];
            sgemm(m, n, k, &a, &b, &mut c, &Epilogue::new(), None, options).unwrap();
            assert_within(&c, &want, |i| (k as f32 + 2.0) * f32::EPSILON * mag[i] + f32::MIN_POSITIVE, &format!("{m}x{n}x{k} {options:?}"));
        }
    }
}

#[test]
fn plan_reuse_with_epilogue_is_exact_on_integers() {
    let (m, k) = (37, 29);
    let a = small_ints(m * k, 1);
    let scale: Vec<f32> = (0..m).map(|i| (i % 3) as f32 - 1.0).collect();
    let shift: Vec<f32> = (0..m).map(|i| (i % 4) as f32).collect();
    let ep = Epilogue::new().scale(scale.clone()).shift(shift.clone()).residual().activation(Activation::Relu6);
    for options in configurations() {
        let plan = Gemm::new(m, k, &a, &ep, options).unwrap();
        for n in [1, 5, 64, 130] {
            let b = small_ints(k * n, n as u64);
            let r = small_ints(m * n, 99);
            let (prod, _) = naive(m, n, k, &a, &b);
            let want: Vec<f32> = prod
                .iter()
                .enumerate()
                .map(|(i, v)| (v * scale[i / n] + shift[i / n] + r[i]).clamp(0.0, 6.0))
                .collect();
            let mut c = vec![f32::NAN; m * n];
            let mut scratch = vec![0.0; plan.scratch_len(n)];
            plan.run(n, &b, Some(&r), &mut c, &mut scratch).unwrap();
            assert_eq!(c, want, "n={n} {options:?} [{}]", plan.kernel_name());
        }
    }
}

#[test]
fn bad_inputs_are_errors_with_numbers() {
    let ep = Epilogue::new();
    let opts = ferrocnn_kernels::PlanOptions::default();
    let err = |r: ferrocnn_kernels::Result<()>| r.unwrap_err().to_string();
    let mut c = vec![0.0; 6];
    assert_eq!(
        err(sgemm(2, 3, 4, &[0.0; 7], &[0.0; 12], &mut c, &ep, None, opts)),
        "`a` has 7 elements, the descriptor needs 8"
    );
    assert_eq!(
        err(sgemm(2, 3, 4, &[0.0; 8], &[0.0; 13], &mut c, &ep, None, opts)),
        "`b` has 13 elements, the descriptor needs 12"
    );
    assert_eq!(
        err(sgemm(2, 3, 4, &[0.0; 8], &[0.0; 12], &mut c[1..], &ep, None, opts)),
        "`c` has 5 elements, the descriptor needs 6"
    );
    assert_eq!(
        err(sgemm(0, 3, 4, &[], &[0.0; 12], &mut c, &ep, None, opts)),
        "gemm: `m` 0 and `k` 4 must be at least 1"
    );
    assert_eq!(err(sgemm(2, 0, 4, &[0.0; 8], &[], &mut c, &ep, None, opts)), "gemm: `n` is 0, it must be at least 1");
    assert!(
        err(sgemm(2, 3, 4, &[0.0; 8], &[0.0; 12], &mut c, &ep.clone().residual(), None, opts)).contains("residual")
    );
    let huge = usize::MAX / 2;
    assert!(err(sgemm(huge, 4, huge, &[], &[], &mut c, &ep, None, opts)).contains("overflows"));
    let plan = Gemm::new(2, 4, &[0.0; 8], &ep, opts).unwrap();
    let mut scratch = vec![0.0; plan.scratch_len(3) - 1];
    assert!(err(plan.run(3, &[0.0; 12], None, &mut c, &mut scratch)).contains("`scratch` has"));
}
