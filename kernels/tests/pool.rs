//! Pooling plans against `reference::pool2d`, on every ISA path and thread count.

mod common;

use common::{configurations, signed};
use ferrocnn_kernels::ops::{GlobalPool2d, Pool2d};
use ferrocnn_kernels::{Padding2d, Pool2dDesc, PoolKind, reference};
use proptest::prelude::*;

/// Max pooling selects values: equal to the reference exactly. Average: an f32 sum of n
/// terms times a reciprocal, against an f64 sum divided: within (n + 2) * eps * max|x|.
fn check(desc: &Pool2dDesc, input: &[f32]) {
    let want = reference::pool2d(desc, input).unwrap();
    let n = (desc.kernel_h * desc.kernel_w) as f32;
    let max_abs = input.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for options in configurations() {
        let plan = Pool2d::new(desc, options).unwrap();
        let mut got = vec![f32::NAN; plan.shape().output_len];
        let mut scratch = vec![f32::NAN; plan.scratch_len()];
        plan.run(input, &mut got, &mut scratch).unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            match desc.kind {
                PoolKind::Max => assert_eq!(g, w, "{desc:?} {options:?}: output {i}"),
                PoolKind::Avg => {
                    let bound = (n + 2.0) * f32::EPSILON * max_abs + f32::MIN_POSITIVE;
                    assert!((g - w).abs() <= bound, "{desc:?} {options:?}: output {i}: {g} vs {w}");
                }
            }
        }
    }
}

fn desc_strategy() -> impl Strategy<Value = Pool2dDesc> {
    (
        prop_oneof![Just(PoolKind::Max), Just(PoolKind::Avg)],
        (1usize..=2, 1usize..=9, 1usize..=40, 1usize..=40),
        (1usize..=5, 1usize..=5, 1usize..=3, 1usize..=3, 0usize..=2, 0usize..=2),
        (1usize..=2, any::<bool>(), any::<bool>()),
    )
        .prop_map(|(kind, (batch, channels, h, w), (kh, kw, sh, sw, ph, pw), (dilation, ceil, include))| {
            let dilation = if kind == PoolKind::Max { dilation } else { 1 };
            // Shrink the window to fit the padded input, and padding to at most half of it
            // (PyTorch's rule), so every window holds at least one input.
            let fit = |extent: usize, pad: usize, k: usize| k.min((extent + 2 * pad - 1) / dilation + 1).max(1);
            let (kh, kw) = (fit(h, ph, kh), fit(w, pw, kw));
            let (ph, pw) = (ph.min(kh / 2), pw.min(kw / 2));
            let mut d = Pool2dDesc::new(kind, batch, channels, (h, w), 1)
                .padding(Padding2d::symmetric(ph, pw))
                .dilation(dilation)
                .ceil_mode(ceil)
                .count_include_pad(include);
            (d.kernel_h, d.kernel_w, d.stride_h, d.stride_w) = (kh, kw, sh, sw);
            d
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_shapes_match_reference(desc in desc_strategy(), seed in 0u64..1000) {
        if let Ok(s) = desc.validate() {
            check(&desc, &signed(s.input_len, seed));
        }
    }

    /// Max 3x3 pooling at stride 1 and 2, padded 1 across (on AVX-512 the shifted plane, at
    /// stride 2 on even widths: rows outside read -inf, columns outside masked off), with
    /// the top and bottom padded or not and in ceil mode or not (the fallbacks where the
    /// output is not as wide as the input, or half of it); widths across the vector
    /// lengths, heights from one row.
    #[test]
    fn random_same_width_max_pools_match_reference(
        batch in 1usize..=2, channels in 1usize..=5, h in 1usize..=20, w in 1usize..=40, stride in 1usize..=2,
        top in 0usize..=1, bottom in 0usize..=1, ceil in any::<bool>(), seed in 0u64..1000,
    ) {
        let desc = Pool2dDesc::new(PoolKind::Max, batch, channels, (h, w), 3)
            .stride(stride)
            .padding(Padding2d { top, bottom, left: 1, right: 1 })
            .ceil_mode(ceil);
        if let Ok(s) = desc.validate() {
            check(&desc, &signed(s.input_len, seed));
        }
    }
}

/// The pools of real networks, and the edges: ResNet's 3x3 s2 p1, VGG's 2x2 s2, GoogLeNet's
/// 3x3 s2 with ceil_mode, a 3x3 s1 p1 (Inception's pool branch), stride 3, a 1x1 map, a
/// window as large as the input, widths just around the vector lengths.
#[test]
fn network_and_edge_shapes() {
    let cases = [
        Pool2dDesc::new(PoolKind::Max, 1, 3, (112, 112), 3).stride(2).pad(1),
        Pool2dDesc::new(PoolKind::Max, 1, 4, (56, 56), 2),
        Pool2dDesc::new(PoolKind::Max, 1, 2, (57, 57), 3).stride(2).ceil_mode(true),
        Pool2dDesc::new(PoolKind::Max, 1, 3, (28, 28), 3).stride(1).pad(1),
        Pool2dDesc::new(PoolKind::Avg, 2, 3, (28, 28), 3).stride(1).pad(1).count_include_pad(false),
        Pool2dDesc::new(PoolKind::Avg, 1, 3, (29, 31), 3).stride(2).pad(1).ceil_mode(true),
        Pool2dDesc::new(PoolKind::Avg, 1, 2, (20, 20), 3).stride(3),
        Pool2dDesc::new(PoolKind::Max, 1, 1, (1, 1), 1),
        Pool2dDesc::new(PoolKind::Avg, 1, 1, (7, 7), 7),
        Pool2dDesc::new(PoolKind::Max, 1, 2, (5, 17), 2).stride(1),
        Pool2dDesc::new(PoolKind::Max, 1, 2, (5, 33), 3).stride(2).dilation(2),
        Pool2dDesc::new(PoolKind::Avg, 1, 2, (5, 65), 2).stride(2),
        // GoogLeNet's pools on maps narrower than a vector: 3x3 s1 p1 ceil over 14x14, and
        // 2x2 s2 ceil 14 -> 7; 7x7 s1.
        Pool2dDesc::new(PoolKind::Max, 1, 5, (14, 14), 3).stride(1).pad(1).ceil_mode(true),
        Pool2dDesc::new(PoolKind::Max, 2, 3, (14, 14), 2).stride(2).ceil_mode(true),
        Pool2dDesc::new(PoolKind::Max, 1, 3, (7, 7), 3).stride(1).pad(1),
        // Xception's TensorFlow "same" on an even map: the bottom and right padded only.
        Pool2dDesc::new(PoolKind::Max, 1, 3, (74, 74), 3).stride(2).padding(Padding2d {
            top: 0,
            bottom: 1,
            left: 0,
            right: 1,
        }),
        Pool2dDesc::new(PoolKind::Max, 1, 3, (9, 10), 3).stride(2).padding(Padding2d {
            top: 1,
            bottom: 1,
            left: 0,
            right: 1,
        }),
    ];
    for (i, d) in cases.iter().enumerate() {
        let s = d.validate().unwrap();
        check(d, &signed(s.input_len, i as u64));
    }
}

#[test]
fn global_pooling_matches_reference() {
    // Whole groups of 16 (and of AVX2's 8) planes with and without a partial last vector,
    // leftover planes, planes narrower than a vector, and fewer planes than a group.
    for (batch, channels, hw) in
        [(1, 2048, 49), (2, 5, 1), (1, 3, 17), (3, 7, 64), (1, 40, 9), (1, 33, 16), (1, 35, 20), (2, 17, 8)]
    {
        let x = signed(batch * channels * hw, hw as u64);
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let want = reference::global_pool2d(kind, batch, channels, hw, &x).unwrap();
            for options in configurations() {
                let plan = GlobalPool2d::new(kind, batch, channels, hw, options).unwrap();
                let mut got = vec![f32::NAN; batch * channels];
                plan.run(&x, &mut got).unwrap();
                for (g, w) in got.iter().zip(&want) {
                    // Sums of hw terms of |x| < 1 in f32: within (hw + 2) * eps.
                    assert!((g - w).abs() <= (hw as f32 + 2.0) * f32::EPSILON, "{kind:?} {options:?}: {g} vs {w}");
                }
            }
        }
    }
}

#[test]
fn adaptive_average_pooling_matches_reference() {
    use ferrocnn_kernels::ops::AdaptiveAvgPool2d;
    // AlexNet's 7x7 -> 6x6 (torchvision at 256x256 input too), VGG's identity 7x7, and
    // windows that overlap (5 -> 3) or repeat (2 -> 5).
    for (batch, channels, input, output) in
        [(1, 256, (7, 7), (6, 6)), (2, 3, (7, 7), (7, 7)), (1, 4, (5, 9), (3, 4)), (1, 2, (2, 3), (5, 7))]
    {
        let x = signed(batch * channels * input.0 * input.1, 9);
        let want = reference::adaptive_avg_pool2d(batch, channels, input, output, &x).unwrap();
        let plan = AdaptiveAvgPool2d::new(batch, channels, input, output).unwrap();
        let mut got = vec![f32::NAN; want.len()];
        plan.run(&x, &mut got).unwrap();
        // An f32 sum of at most h*w terms of |x| < 1 against f64: within (h*w + 2) * eps.
        let bound = (input.0 * input.1 + 2) as f32 * f32::EPSILON;
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= bound, "{input:?} -> {output:?}: {g} vs {w}");
        }
    }
    assert!(AdaptiveAvgPool2d::new(1, 1, (0, 3), (1, 1)).is_err());
}

#[test]
fn bad_inputs_are_errors() {
    let d = Pool2dDesc::new(PoolKind::Max, 1, 2, (8, 8), 2);
    let plan = Pool2d::new(&d, Default::default()).unwrap();
    let mut scratch = vec![0.0; plan.scratch_len()];
    let e = plan.run(&[0.0; 127], &mut [0.0; 32], &mut scratch).unwrap_err().to_string();
    assert_eq!(e, "`input` has 127 elements, the descriptor needs 128");
    let e = plan.run(&[0.0; 128], &mut [0.0; 31], &mut scratch).unwrap_err().to_string();
    assert_eq!(e, "`output` has 31 elements, the descriptor needs 32");
    let e = plan.run(&[0.0; 128], &mut [0.0; 32], &mut []).unwrap_err().to_string();
    assert!(e.contains("`scratch` has 0 floats, the plan needs"), "{e}");
    let e =
        Pool2d::new(&Pool2dDesc::new(PoolKind::Max, 1, 2, (2, 2), 3), Default::default()).err().unwrap().to_string();
    assert!(e.contains("kernel 3"), "{e}");
    assert!(GlobalPool2d::new(PoolKind::Avg, 1, 2, 0, Default::default()).is_err());
}
