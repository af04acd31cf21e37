//! The standalone batch-norm plan against `reference::batch_norm`, on every ISA path and
//! thread count, with each activation fused.

mod common;

use common::{configurations, signed};
use ferrocnn_kernels::ops::{BatchNorm, BatchNorm2d};
use ferrocnn_kernels::{Activation, reference};
use proptest::prelude::*;

fn check(batch: usize, channels: usize, hw: usize, act: Activation) {
    let x: Vec<f32> = signed(batch * channels * hw, hw as u64).iter().map(|v| 4.0 * v).collect();
    let (gamma, beta, mean) = (signed(channels, 1), signed(channels, 2), signed(channels, 3));
    let var: Vec<f32> = signed(channels, 4).iter().map(|v| v.abs() + 0.1).collect();
    let bn = BatchNorm { gamma: &gamma, beta: &beta, mean: &mean, var: &var, eps: 1e-5 };
    let normalised = reference::batch_norm(batch, channels, hw, &x, &gamma, &beta, &mean, &var, 1e-5).unwrap();
    let want = reference::activation(act, &normalised);
    for options in configurations() {
        let plan = BatchNorm2d::new(batch, channels, hw, &bn, act, options).unwrap();
        let mut got = x.clone();
        plan.run(&mut got).unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            // The plan rounds s = gamma/sqrt(var+eps) and t = beta - mean*s to f32 (half an
            // ulp each) and computes x*s + t in one FMA: within 2 ulp of |x*s| + |t| + |y|.
            // The reference rounds once, from f64. Sigmoid adds its own 4 ulp.
            let c = (i / hw) % channels;
            let s = gamma[c] / (var[c] + 1e-5).sqrt();
            let magnitude = (x[i] * s).abs() + (beta[c] - mean[c] * s).abs() + w.abs();
            let ulps = if act == Activation::Sigmoid { 6.0 } else { 2.0 };
            assert!(
                (g - w).abs() <= ulps * f32::EPSILON * magnitude,
                "{options:?} {batch}x{channels}x{hw} {act:?} [{i}]: {g} vs {w}"
            );
        }
    }
}

#[test]
fn edges_and_activations() {
    for act in
        [Activation::Identity, Activation::Relu, Activation::Relu6, Activation::LeakyRelu(0.2), Activation::Sigmoid]
    {
        for (batch, channels, hw) in [(1, 1, 1), (1, 3, 7), (2, 5, 16), (1, 2, 17), (2, 64, 49), (1, 4, 20_000)] {
            check(batch, channels, hw, act);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn random_shapes(batch in 1usize..3, channels in 1usize..20, hw in 1usize..300) {
        check(batch, channels, hw, Activation::Relu);
    }
}

#[test]
fn bad_input_is_an_error_naming_the_field() {
    let ones = [1.0f32; 3];
    let bn = BatchNorm { gamma: &ones, beta: &ones, mean: &ones, var: &ones, eps: 1e-5 };
    let options = Default::default();
    let e = BatchNorm2d::new(1, 4, 5, &bn, Activation::Identity, options).err().unwrap().to_string();
    assert_eq!(e, "`gamma` has 3 elements, the descriptor needs 4");
    let e = BatchNorm2d::new(1, 3, 0, &bn, Activation::Identity, options).err().unwrap().to_string();
    assert!(e.contains("`hw` 0"), "{e}");
    let plan = BatchNorm2d::new(2, 3, 5, &bn, Activation::Identity, options).unwrap();
    let e = plan.run(&mut [0.0; 29]).unwrap_err().to_string();
    assert_eq!(e, "`data` has 29 elements, the descriptor needs 30");
    let var = [1.0, -2.0, 1.0];
    let bn = BatchNorm { var: &var, ..bn };
    assert!(BatchNorm2d::new(1, 3, 5, &bn, Activation::Identity, options).is_err());
}
