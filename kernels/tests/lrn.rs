//! Local response normalisation against `reference::lrn`, on every ISA path and thread count.

mod common;

use common::{configurations, signed};
use ferrocnn_kernels::ops::Lrn;
use ferrocnn_kernels::reference;

#[test]
fn matches_reference() {
    // AlexNet's (size 5, alpha 1e-4, beta 0.75, k 2) and GoogLeNet's (k 1) parameters, a
    // beta off the vector path (0.5, powf), channel counts below and above the window.
    for (batch, channels, hw, size, alpha, beta, k) in [
        (1, 96, 55 * 55, 5, 1e-4, 0.75, 2.0),
        (2, 3, 17, 5, 1e-4, 0.75, 1.0),
        (1, 16, 33, 4, 0.5, 0.75, 1.0),
        (1, 8, 20, 3, 0.3, 0.5, 1.0),
    ] {
        let x: Vec<f32> = signed(batch * channels * hw, hw as u64).iter().map(|v| v * 4.0).collect();
        let want = reference::lrn(batch, channels, hw, &x, size, alpha, beta, k).unwrap();
        for options in configurations() {
            let plan = Lrn::new(batch, channels, hw, size, alpha, beta, k, options).unwrap();
            let mut got = vec![f32::NAN; x.len()];
            plan.run(&x, &mut got).unwrap();
            for (g, w) in got.iter().zip(&want) {
                // A sum of `size` squares (size ulp), two square roots and a division, or
                // powf: within (size + 8) ulp relative.
                let bound = (size as f32 + 8.0) * f32::EPSILON * w.abs() + f32::MIN_POSITIVE;
                assert!((g - w).abs() <= bound, "{channels}x{hw} size {size} beta {beta} {options:?}: {g} vs {w}");
            }
        }
    }
    assert!(Lrn::new(1, 4, 4, 0, 1e-4, 0.75, 2.0, Default::default()).is_err());
    assert!(Lrn::new(1, 4, 4, 5, 1e-4, 0.75, 0.0, Default::default()).is_err());
}
