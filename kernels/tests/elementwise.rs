//! Elementwise layers and softmax against `reference`, on every ISA path and thread count.

mod common;

use common::{configurations, signed};
use ferrocnn_kernels::ops::{Activate, Add, ChannelScale, Softmax};
use ferrocnn_kernels::{Activation, reference};

/// Lengths around every vector width, and one long enough to split over threads.
const LENGTHS: [usize; 8] = [1, 7, 8, 15, 16, 17, 33, 70_001];

#[test]
fn activations() {
    for act in
        [Activation::Identity, Activation::Relu, Activation::Relu6, Activation::LeakyRelu(0.1), Activation::Sigmoid]
    {
        for len in LENGTHS {
            let x: Vec<f32> = signed(len, len as u64).iter().map(|v| v * 9.0).collect();
            let want = reference::activation(act, &x);
            for options in configurations() {
                let mut got = x.clone();
                Activate::new(act, options).unwrap().run(&mut got);
                for (g, w) in got.iter().zip(&want) {
                    // Exact but for sigmoid, which is within 4 ulp (its own test in gemm).
                    let bound = if act == Activation::Sigmoid { 4.0 * f32::EPSILON * w.abs() } else { 0.0 };
                    assert!((g - w).abs() <= bound, "{act:?} {options:?} len {len}: {g} vs {w}");
                }
            }
        }
    }
    assert!(Activate::new(Activation::LeakyRelu(f32::NAN), Default::default()).is_err());
}

#[test]
fn add_with_activation() {
    for len in LENGTHS {
        let (a, b) = (signed(len, 1), signed(len, 2));
        let want: Vec<f32> = reference::add(&a, &b).unwrap().iter().map(|v| v.max(0.0)).collect();
        for options in configurations() {
            let mut out = vec![f32::NAN; len];
            Add::new(Activation::Relu, options).unwrap().run(&a, &b, &mut out).unwrap();
            assert_eq!(out, want, "{options:?} len {len}");
        }
    }
    let add = Add::new(Activation::Identity, Default::default()).unwrap();
    let e = add.run(&[0.0; 3], &[0.0; 2], &mut [0.0; 3]).unwrap_err().to_string();
    assert_eq!(e, "`b` has 2 elements, the descriptor needs 3");
}

#[test]
fn channel_scale() {
    for (batch, channels, hw) in [(1, 3, 1), (2, 5, 17), (1, 64, 49), (2, 3, 10_000)] {
        let x = signed(batch * channels * hw, 3);
        let s = signed(batch * channels, 4);
        let want: Vec<f32> = x.iter().enumerate().map(|(i, v)| v * s[i / hw]).collect();
        for options in configurations() {
            let mut got = x.clone();
            ChannelScale::new(batch, channels, hw, options).unwrap().run(&mut got, &s).unwrap();
            assert_eq!(got, want, "{options:?} {batch}x{channels}x{hw}");
        }
    }
    let plan = ChannelScale::new(1, 2, 3, Default::default()).unwrap();
    assert_eq!(
        plan.run(&mut [0.0; 6], &[1.0]).unwrap_err().to_string(),
        "`scale` has 1 elements, the descriptor needs 2"
    );
}

#[test]
fn softmax_rows() {
    for (rows, cols) in [(1, 1), (2, 7), (3, 16), (4, 17), (2, 1000), (40, 1001)] {
        // Logits up to +-1000: without subtracting the max, exp would overflow.
        let x: Vec<f32> = signed(rows * cols, cols as u64).iter().map(|v| v * 20.0 + 980.0).collect();
        let want = reference::softmax(rows, cols, &x).unwrap();
        for options in configurations() {
            let mut got = x.clone();
            Softmax::new(rows, cols, options).unwrap().run(&mut got).unwrap();
            for (g, w) in got.iter().zip(&want) {
                // exp within 2 ulp, x - max exact (Sterbenz, for these logits), a sum of `cols` terms and one
                // division: within (cols + 4) ulp relative.
                assert!(
                    (g - w).abs() <= (cols as f32 + 4.0) * f32::EPSILON * w.abs() + f32::MIN_POSITIVE,
                    "{options:?} {rows}x{cols}: {g} vs {w}"
                );
            }
        }
    }
    assert!(Softmax::new(2, 0, Default::default()).is_err());
}
