//! Linear layers against `reference::linear`, on every ISA path and thread count.

mod common;

use common::{configurations, signed};
use ferrocnn_kernels::ops::Linear;
use ferrocnn_kernels::{Activation, reference};

#[test]
fn batches_bias_and_activations_match_reference() {
    for (batch, k, m) in [(1, 1, 1), (1, 17, 5), (1, 300, 67), (1, 4096, 130), (2, 33, 9), (5, 100, 70), (8, 257, 40)] {
        let (x, w, b) = (signed(batch * k, 1), signed(m * k, 2), signed(m, 3));
        let abs = |v: &[f32]| v.iter().map(|a| a.abs()).collect::<Vec<_>>();
        // Higham's dot-product bound, (k + 2) * eps * sum|w*x|, plus the bias's rounding.
        let magnitude = reference::linear(batch, k, m, &abs(&x), &abs(&w), None).unwrap();
        for (bias, act) in
            [(None, Activation::Identity), (Some(&b[..]), Activation::Relu), (Some(&b[..]), Activation::Sigmoid)]
        {
            let mut want = reference::linear(batch, k, m, &x, &w, bias).unwrap();
            want.iter_mut().for_each(|v| *v = act.apply(*v));
            for options in configurations() {
                let plan = Linear::new(k, m, &w, bias, act, options).unwrap();
                let mut y = vec![f32::NAN; batch * m];
                let mut scratch = vec![0.0; plan.scratch_len(batch).unwrap()];
                plan.run(batch, &x, &mut y, &mut scratch).unwrap();
                for (i, (g, e)) in y.iter().zip(&want).enumerate() {
                    let bound = (k as f32 + 3.0) * f32::EPSILON * (magnitude[i] + 1.0) + 4.0 * f32::EPSILON * e.abs();
                    assert!((g - e).abs() <= bound, "{batch}x{k}->{m} {act:?} {options:?}: output {i}: {g} vs {e}");
                }
            }
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let plan = Linear::new(3, 2, &[0.0; 6], None, Activation::Identity, Default::default()).unwrap();
    let err = |r: ferrocnn_kernels::Result<()>| r.unwrap_err().to_string();
    assert_eq!(err(plan.run(1, &[0.0; 2], &mut [0.0; 2], &mut [])), "`input` has 2 elements, the descriptor needs 3");
    assert_eq!(err(plan.run(2, &[0.0; 6], &mut [0.0; 3], &mut [])), "`output` has 3 elements, the descriptor needs 4");
    assert!(err(plan.run(2, &[0.0; 6], &mut [0.0; 4], &mut [])).contains("`scratch` has 0 floats"));
    assert!(err(plan.run(0, &[], &mut [], &mut [])).contains("`batch` is 0"));
    let e = Linear::new(3, 2, &[0.0; 5], None, Activation::Identity, Default::default()).err().unwrap().to_string();
    assert_eq!(e, "`weights` has 5 elements, the descriptor needs 6");
    let e = Linear::from_vec(3, 2, vec![0.0; 7], None, Activation::Identity, Default::default());
    assert_eq!(e.err().unwrap().to_string(), "`weights` has 7 elements, the descriptor needs 6");
}

/// The plan that takes its weights runs exactly as the one that copies them.
#[test]
fn owned_weights_run_as_copied_ones() {
    let (k, m) = (70, 33);
    let (x, w, b) = (signed(2 * k, 1), signed(m * k, 2), signed(m, 3));
    for options in configurations() {
        let copied = Linear::new(k, m, &w, Some(&b), Activation::Relu, options).unwrap();
        let owned = Linear::from_vec(k, m, w.clone(), Some(&b), Activation::Relu, options).unwrap();
        for batch in [1, 2] {
            let run = |plan: &Linear| {
                let mut y = vec![f32::NAN; batch * m];
                let mut scratch = vec![0.0; plan.scratch_len(batch).unwrap()];
                plan.run(batch, &x[..batch * k], &mut y, &mut scratch).unwrap();
                y
            };
            assert_eq!(run(&copied), run(&owned), "batch {batch} {options:?}");
        }
    }
}
