//! Convolution plans against `reference::conv2d`, on every ISA path and thread count.

mod common;

use common::{assert_within, configurations, signed, small_ints};
use ferrocnn_kernels::{
    Activation, Algo, Conv2d, Conv2dDesc, Epilogue, Error, Padding2d, PlanOptions, dispatch::supported_isas, reference,
};
use proptest::prelude::*;

/// Tolerance of the GEMM algorithms (im2col, gemm1x1): a float dot product of n terms is
/// within n * eps * sum|w*x| of the exact value (Higham, Accuracy and Stability of Numerical
/// Algorithms, eq. 3.5, with margin: gamma_n ~ n*eps/2); the f64 reference contributes
/// half an ulp of the result.
fn gemm_bound(reduction: usize, magnitude: f32, want: f32) -> f32 {
    (reduction as f32 + 2.0) * f32::EPSILON * magnitude + f32::EPSILON * want.abs() + f32::MIN_POSITIVE
}

fn run_plan(plan: &Conv2d, input: &[f32], residual: Option<&[f32]>) -> Vec<f32> {
    let mut out = vec![f32::NAN; plan.shape().output_len];
    let mut scratch = vec![f32::NAN; plan.scratch_len()];
    plan.run(input, residual, &mut out, &mut scratch).expect("run");
    out
}

/// Every algorithm that applies, on every configuration, against the reference.
fn check_all(desc: &Conv2dDesc, input: &[f32], weights: &[f32]) {
    let shape = desc.validate().unwrap();
    let want = reference::conv2d(desc, input, weights, None).unwrap();
    let magnitude = reference::conv2d_magnitude(desc, input, weights).unwrap();
    for options in configurations() {
        for algo in [Algo::Auto, Algo::Im2col, Algo::Gemm1x1, Algo::Depthwise] {
            if !algo.applies_to(desc) {
                continue;
            }
            let plan = Conv2d::with_options(desc, weights, None, &Epilogue::new(), algo, options).unwrap();
            if matches!(plan.algo(), Algo::WinogradF2 | Algo::WinogradF4 | Algo::WinogradF6 | Algo::WinogradSplit) {
                // Auto's Winograd choices have their own bound, checked with them
                // (winograd.rs, winograd_split.rs); this one is for products summed directly.
                continue;
            }
            let got = run_plan(&plan, input, None);
            let what = format!("{desc:?} {options:?} {} [{}]", plan.algo(), plan.kernel_name());
            assert_within(&got, &want, |i| gemm_bound(shape.reduction, magnitude[i], want[i]), &what);
        }
    }
}

/// A random valid descriptor: the kernel is shrunk to fit the padded input.
fn desc_strategy() -> impl Strategy<Value = Conv2dDesc> {
    (1usize..=3, 1usize..=70, 1usize..=70, 1usize..=20, 1usize..=20, 1usize..=7, 1usize..=7)
        .prop_flat_map(|(batch, c, k, h, w, r, s)| {
            (Just((batch, c, k, h, w, r, s)), 1usize..=3, 0usize..=3, 0usize..=3, 1usize..=2, 1usize..=70)
        })
        .prop_map(|((batch, c, k, h, w, r, s), stride, pad_h, pad_w, dilation, g_seed)| {
            let groups = common::group_count(c, k, g_seed);
            let fit =
                |extent: usize, pad: usize, kernel: usize| kernel.min((extent + 2 * pad - 1) / dilation + 1).max(1);
            Conv2dDesc::new(batch, c, (h, w), k, (fit(h, pad_h, r), fit(w, pad_w, s)))
                .stride(stride)
                .dilation(dilation)
                .groups(groups)
                .padding(Padding2d::symmetric(pad_h, pad_w))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_shapes_match_reference(desc in desc_strategy(), seed in 0u64..1000) {
        let s = desc.validate().unwrap();
        let input = signed(s.input_len, seed);
        let weights = signed(s.weight_len, seed + 1);
        check_all(&desc, &input, &weights);
    }

    /// Depthwise: groups == C, a channel multiplier, maps wide enough for the vector
    /// interior (and its overlapped last vector) at every ISA's width.
    #[test]
    fn random_depthwise_shapes_match_reference(
        batch in 1usize..=2, c in 1usize..=12, mult in 1usize..=3, h in 1usize..=12, w in 1usize..=40,
        k in 1usize..=7, stride in 1usize..=3, pad in 0usize..=3, dilation in 1usize..=2, seed in 0u64..1000,
    ) {
        let fit = |extent: usize| k.min((extent + 2 * pad - 1) / dilation + 1).max(1);
        let desc = Conv2dDesc::new(batch, c, (h, w), c * mult, (fit(h), fit(w)))
            .stride(stride).pad(pad).dilation(dilation).groups(c);
        let s = desc.validate().unwrap();
        check_all(&desc, &signed(s.input_len, seed), &signed(s.weight_len, seed + 1));
    }

    /// Depthwise at stride 1 with the output as wide as the input, or at stride 2 with it
    /// half as wide, 3x3 and 5x5, centred across (on AVX-512 without dilation the shifted
    /// plane: every tap loaded at its offset from a copy without padding, at stride 2 a
    /// copy split into even and odd columns, the taps outside the row masked off; elsewhere
    /// the flattened plane), with any top and bottom padding and dilation down; and, one case
    /// in four, with the padding split unevenly across or a dilation across (the
    /// fallbacks). Widths below, at and across the 8- and 16-lane vectors (up to 8, two rows
    /// share a vector at stride 1), odd ones at stride 2 (the fallback), heights from one row;
    /// the maps padded to at most 512 pixels take the channels across the lanes instead.
    #[test]
    fn random_same_width_depthwise_matches_reference(
        batch in 1usize..=2, c in 1usize..=6, mult in 1usize..=2, h in 1usize..=48, w in 1usize..=37,
        five in any::<bool>(), dilation_h in 1usize..=2, top in 0usize..=4, bottom in 0usize..=4,
        uneven in 0usize..4, stride in 1usize..=2, seed in 0u64..1000,
    ) {
        let k = if five { 5 } else { 3 };
        let dilation_w = if uneven == 1 { 2 } else { 1 };
        let across = (k - 1) * dilation_w;
        let left = if uneven == 0 { across / 2 - 1 } else { across / 2 };
        let padding = Padding2d { top, bottom, left, right: across - left };
        let mut desc = Conv2dDesc::new(batch, c, (h, w), c * mult, (k, k)).padding(padding).groups(c).stride(stride);
        (desc.dilation_h, desc.dilation_w) = (dilation_h, dilation_w);
        prop_assume!(desc.validate().is_ok());
        let s = desc.validate().unwrap();
        check_all(&desc, &signed(s.input_len, seed), &signed(s.weight_len, seed + 1));
    }

    /// Depthwise on maps the channels-across-the-lanes path takes (padded to at most 512
    /// pixels): channel counts within one and across several groups of 8 and 16 lanes, a
    /// multiplier, 3x3 and 5x5 windows at strides 1-3, any padding on each side, dilation;
    /// with the epilogue fused (scale, shift, an activation, with and without a residual).
    #[test]
    fn random_small_map_depthwise_matches_reference(
        batch in 1usize..=2, c in 1usize..=40, mult in 1usize..=2, h in 1usize..=14, w in 1usize..=14,
        five in any::<bool>(), stride in 1usize..=3, pads in [0usize..3, 0..3, 0..3, 0..3], dilation in 1usize..=2,
        activation in 0usize..5, seed in 0u64..1000,
    ) {
        let k = if five { 5 } else { 3 };
        let padding = Padding2d { top: pads[0], bottom: pads[1], left: pads[2], right: pads[3] };
        let desc = Conv2dDesc::new(batch, c, (h, w), c * mult, (k, k))
            .padding(padding).stride(stride).dilation(dilation).groups(c);
        prop_assume!(desc.validate().is_ok());
        check_fused(&desc, &[ACTIVATIONS[activation]], seed);
    }

    #[test]
    fn random_1x1_shapes_match_reference(
        batch in 1usize..=2, c in 1usize..=70, k in 1usize..=70, h in 1usize..=20, w in 1usize..=20, seed in 0u64..1000,
    ) {
        let desc = Conv2dDesc::new(batch, c, (h, w), k, (1, 1));
        let s = desc.validate().unwrap();
        check_all(&desc, &signed(s.input_len, seed), &signed(s.weight_len, seed + 1));
    }
}

#[test]
fn integer_data_is_exact() {
    // Small integers: every product and partial sum is exact, so all paths agree exactly.
    let desc = Conv2dDesc::new(2, 19, (11, 13), 37, (3, 3)).pad(1).stride(2);
    let s = desc.validate().unwrap();
    let (x, w) = (small_ints(s.input_len, 3), small_ints(s.weight_len, 4));
    let want = reference::conv2d(&desc, &x, &w, None).unwrap();
    for options in configurations() {
        let plan = Conv2d::with_options(&desc, &w, None, &Epilogue::new(), Algo::Im2col, options).unwrap();
        assert_eq!(run_plan(&plan, &x, None), want, "{options:?}");
    }
}

/// Named shapes at the edges: 1x1 images, channel counts off the vector width, kernels as
/// large as the padded input, maps of one pixel (the transposed layout with one row, where
/// a channel-axis bug once hid), asymmetric "same" padding, depthwise-like groups.
#[test]
fn edge_shapes() {
    let cases = [
        Conv2dDesc::new(1, 1, (1, 1), 1, (1, 1)),
        Conv2dDesc::new(3, 5, (1, 1), 7, (3, 3)).pad(1),
        Conv2dDesc::new(1, 17, (9, 9), 33, (9, 9)),
        Conv2dDesc::new(1, 3, (4, 5), 2, (6, 7)).pad(1),
        Conv2dDesc::new(1, 64, (3, 3), 128, (3, 3)),
        Conv2dDesc::new(1, 64, (7, 7), 96, (3, 3)).pad(1),
        Conv2dDesc::new(1, 24, (14, 14), 24, (3, 3)).pad(1).groups(24),
        // Depthwise stride 2 on its parity planes (padded maps past 512 pixels): TensorFlow's
        // "same" on an even map pads only the bottom and right (odd left padding moves the
        // evens to the odd plane); 5x5 through the register-held filter; an odd map with
        // dilation takes the rows.
        Conv2dDesc::new(1, 5, (16, 34), 5, (3, 3)).stride(2).same().unwrap().groups(5),
        Conv2dDesc::new(2, 3, (17, 33), 6, (5, 5)).stride(2).pad(2).groups(3),
        Conv2dDesc::new(1, 4, (31, 31), 4, (3, 3)).stride(2).pad(2).dilation(2).groups(4),
        // The channels across the lanes (padded maps up to 512 pixels): one pixel, a 5x5
        // window wider than the map, a partial group of 17 channels with a multiplier, the
        // largest map taken (16 x 32 padded), stride 2 with dilation.
        Conv2dDesc::new(1, 3, (1, 1), 3, (3, 3)).pad(1).groups(3),
        Conv2dDesc::new(1, 17, (3, 3), 17, (5, 5)).pad(2).groups(17),
        Conv2dDesc::new(1, 7, (7, 7), 7, (5, 5)).pad(2).groups(7),
        Conv2dDesc::new(1, 17, (14, 30), 34, (3, 3)).pad(1).groups(17),
        Conv2dDesc::new(1, 4, (15, 15), 4, (3, 3)).stride(2).pad(2).dilation(2).groups(4),
        // The shifted plane (padded maps past 512 pixels): one row, one column (every
        // off-centre tap masked), two rows a vector (7 wide), a map of exactly 32 16-lane
        // vectors, one pixel past the channels across the lanes (16 x 33 padded), and all
        // the padding on one side (the flattened plane instead).
        Conv2dDesc::new(1, 3, (1, 200), 3, (5, 5)).pad(2).groups(3),
        Conv2dDesc::new(1, 3, (200, 1), 6, (3, 3)).pad(1).groups(3),
        Conv2dDesc::new(1, 2, (60, 7), 2, (3, 3)).pad(1).groups(2),
        Conv2dDesc::new(1, 2, (16, 32), 2, (5, 5)).pad(2).groups(2),
        Conv2dDesc::new(1, 2, (14, 31), 2, (3, 3)).pad(1).groups(2),
        Conv2dDesc::new(1, 2, (30, 17), 2, (3, 3))
            .padding(Padding2d { top: 0, bottom: 2, left: 0, right: 2 })
            .groups(2),
        Conv2dDesc::new(2, 6, (10, 8), 4, (3, 3)).stride(2).same().unwrap(),
        Conv2dDesc::new(1, 4, (12, 12), 8, (3, 3)).dilation(2).pad(2).groups(2),
        Conv2dDesc::new(1, 3, (20, 20), 16, (7, 7)).stride(2).pad(3),
        // Strided layers whose output rows are whole vectors, read in place from the phase
        // planes (`OffsetRows`): a stem whose 48-pixel tiles cross output rows of 32 and end
        // in a partial panel, under a partial panel of output channels; a 3x3 stride-2 stem
        // of two images with 16-wide rows; 8-wide rows (whole vectors on the 8-lane paths).
        Conv2dDesc::new(1, 3, (64, 64), 20, (7, 7)).stride(2).pad(3),
        Conv2dDesc::new(2, 3, (32, 31), 8, (3, 3)).stride(2).pad(1),
        Conv2dDesc::new(1, 4, (16, 16), 6, (5, 5)).stride(2).pad(2),
        Conv2dDesc::new(1, 70, (2, 20), 65, (1, 1)),
        // Strided layers whose taps read only some stride phases (the others are not copied
        // and hold the NaN scratch): 1x1 at stride 2 (ResNet's downsampling, phase (0, 0)),
        // with padding, at stride 3, and 3x3 at stride 2 with dilation 2.
        Conv2dDesc::new(1, 24, (28, 28), 40, (1, 1)).stride(2),
        Conv2dDesc::new(2, 5, (9, 12), 7, (1, 1)).stride(2).pad(1),
        Conv2dDesc::new(1, 6, (13, 11), 9, (1, 1)).stride(3),
        Conv2dDesc::new(1, 8, (17, 15), 12, (3, 3)).stride(2).dilation(2).pad(2),
        // Regression (found by proptest): with dilation, a tap's whole run can lie past the
        // right edge (iw0 - pad > W); the empty copy once sliced out of bounds.
        // W = 1, pad 3, dilation 2, tap s = 3: iw0 = 6 > pad + W = 4.
        Conv2dDesc::new(1, 2, (5, 1), 3, (1, 4)).padding(Padding2d::symmetric(0, 3)).dilation(2),
    ];
    for (i, desc) in cases.iter().enumerate() {
        let s = desc.validate().unwrap();
        check_all(desc, &signed(s.input_len, i as u64), &signed(s.weight_len, 100 + i as u64));
    }
}

const ACTIVATIONS: [Activation; 5] =
    [Activation::Identity, Activation::Relu, Activation::Relu6, Activation::LeakyRelu(0.1), Activation::Sigmoid];

#[test]
fn fused_epilogue_matches_unfused() {
    // bias, scale, shift, residual and each activation, on a row-major and a transposed
    // layout (a 3x3 map with many channels goes transposed on AVX-512).
    for desc in [
        Conv2dDesc::new(2, 8, (9, 10), 12, (3, 3)).pad(1),
        Conv2dDesc::new(1, 32, (3, 3), 64, (3, 3)).pad(1),
        // MobileNetV2's depthwise: bias (folded BN), ReLU6 and a residual, fused; at
        // stride 1 (on AVX-512 the shifted plane: one row per vector, and two rows per
        // vector on a 7-wide map) and 2 (parity planes); on a 7x7 map with two images and a
        // channel multiplier, the channels across the lanes.
        Conv2dDesc::new(1, 24, (14, 40), 24, (3, 3)).pad(1).groups(24),
        Conv2dDesc::new(1, 24, (70, 7), 24, (3, 3)).pad(1).groups(24),
        Conv2dDesc::new(2, 24, (7, 7), 48, (3, 3)).pad(1).groups(24),
        Conv2dDesc::new(1, 24, (15, 40), 24, (3, 3)).stride(2).pad(1).groups(24),
        // A stem read in place from its phase planes, the epilogue in the phased kernels.
        Conv2dDesc::new(1, 3, (64, 64), 20, (7, 7)).stride(2).pad(3),
        // 1x1 on a 7x7 map (transposed on AVX-512): 160 channels end on a panel one vector
        // wide (the narrow indirect kernels); 320 split over two threads inside a panel.
        Conv2dDesc::new(1, 64, (7, 7), 160, (1, 1)),
        Conv2dDesc::new(1, 64, (7, 7), 320, (1, 1)),
    ] {
        check_fused(&desc, &ACTIVATIONS, 1);
    }
}

/// `desc` with bias, scale, shift, a residual and each of `activations` fused, on every
/// configuration, against the reference convolution followed by the reference epilogue.
fn check_fused(desc: &Conv2dDesc, activations: &[Activation], seed: u64) {
    let s = desc.validate().unwrap();
    let k = desc.out_channels;
    let (x, w) = (signed(s.input_len, seed), signed(s.weight_len, seed + 1));
    let bias = signed(k, seed + 2);
    let scale: Vec<f32> = signed(k, seed + 3).iter().map(|v| 4.0 * v).collect();
    let shift: Vec<f32> = signed(k, seed + 4).iter().map(|v| 6.0 * v).collect();
    let residual: Vec<f32> = signed(s.output_len, seed + 5).iter().map(|v| 3.0 * v).collect();
    let conv = reference::conv2d(desc, &x, &w, Some(&bias)).unwrap();
    let magnitude = reference::conv2d_magnitude(desc, &x, &w).unwrap();
    for &act in activations {
        for with_residual in [true, false] {
            let mut ep = Epilogue::new().scale(scale.clone()).shift(shift.clone()).activation(act);
            if with_residual {
                ep = ep.residual();
            }
            let residual = with_residual.then_some(&residual[..]);
            let mut want = conv.clone();
            reference::apply_epilogue(desc.batch, k, s.out_h * s.out_w, &mut want, &ep, residual).unwrap();
            for options in configurations() {
                let plan = Conv2d::with_options(desc, &w, Some(&bias), &ep, Algo::Auto, options).unwrap();
                let got = run_plan(&plan, &x, residual);
                // The GEMM bound on the sum, scaled by |scale| (<= 4), plus a few ulps for the
                // shift, residual and activation applied in f32 (sigmoid's slope is <= 1/4),
                // relative to the largest value those steps add: 13 >= |shift| (6) +
                // |residual| (3) + |scale * bias| (4). A GEMM plan folds the scale into its
                // packed weights: each w * scale rounds once, one eps of |scale| times the
                // magnitude, the rounding the multiply by the scale after the sum made before;
                // the bound's K + 2 eps hold it.
                let bound = |i: usize| {
                    let c = (i / (s.out_h * s.out_w)) % k;
                    scale[c].abs() * gemm_bound(s.reduction, magnitude[i] + bias[c].abs(), conv[i])
                        + 8.0 * f32::EPSILON * (want[i].abs() + 13.0)
                };
                let what = format!("{desc:?} {act:?} residual {with_residual} {options:?} [{}]", plan.kernel_name());
                assert_within(&got, &want, bound, &what);
            }
        }
    }
}

#[test]
fn reference_algo_runs_in_plans() {
    let desc = Conv2dDesc::new(1, 3, (5, 5), 2, (3, 3)).pad(1);
    let s = desc.validate().unwrap();
    let (x, w) = (signed(s.input_len, 1), signed(s.weight_len, 2));
    let plan = Conv2d::new(&desc, &w, None, &Epilogue::new().activation(Activation::Relu), Algo::Reference).unwrap();
    let mut want = reference::conv2d(&desc, &x, &w, None).unwrap();
    want.iter_mut().for_each(|v| *v = v.max(0.0));
    assert_eq!(run_plan(&plan, &x, None), want);
    assert_eq!(plan.algo(), Algo::Reference);
}

#[test]
fn auto_picks_gemm1x1_for_pointwise() {
    let desc = Conv2dDesc::new(1, 16, (4, 4), 8, (1, 1));
    let plan = Conv2d::new(&desc, &vec![0.0; 128], None, &Epilogue::new(), Algo::Auto).unwrap();
    assert_eq!(plan.algo(), Algo::Gemm1x1);
    let desc = desc.stride(2);
    let plan = Conv2d::new(&desc, &vec![0.0; 128], None, &Epilogue::new(), Algo::Auto).unwrap();
    assert_eq!(plan.algo(), Algo::Im2col);
    // groups == C > 1 is depthwise; one channel in one group stays a GEMM.
    let dw = Conv2dDesc::new(1, 16, (8, 8), 32, (3, 3)).pad(1).groups(16);
    assert_eq!(Conv2d::new(&dw, &[0.0; 288], None, &Epilogue::new(), Algo::Auto).unwrap().algo(), Algo::Depthwise);
    let one = Conv2dDesc::new(1, 1, (8, 8), 6, (3, 3));
    assert_eq!(Conv2d::new(&one, &[0.0; 54], None, &Epilogue::new(), Algo::Auto).unwrap().algo(), Algo::Im2col);
    let e = Conv2d::new(&desc, &vec![0.0; 128], None, &Epilogue::new(), Algo::Depthwise).err().unwrap().to_string();
    assert_eq!(e, "conv2d: depthwise needs groups == in_channels; got groups 1, in_channels 16");
}

/// Every bad input is an `Err` whose message names the field and the numbers.
#[test]
fn bad_inputs_are_errors_with_numbers() {
    let desc = Conv2dDesc::new(1, 4, (6, 6), 8, (3, 3)).pad(1);
    let s = desc.validate().unwrap();
    let w = vec![0.0; s.weight_len];
    let new = |d: &Conv2dDesc, w: &[f32], b: Option<&[f32]>, e: &Epilogue, a: Algo| {
        Conv2d::new(d, w, b, e, a).err().map(|e| e.to_string()).unwrap_or_default()
    };
    let ep = Epilogue::new();
    assert_eq!(new(&desc, &w[1..], None, &ep, Algo::Auto), "`weights` has 287 elements, the descriptor needs 288");
    assert_eq!(new(&desc, &w, Some(&[0.0; 7]), &ep, Algo::Auto), "`bias` has 7 elements, the descriptor needs 8");
    assert_eq!(
        new(&desc, &w, None, &Epilogue::new().scale(vec![1.0; 9]), Algo::Auto),
        "`epilogue scale` has 9 elements, the descriptor needs 8"
    );
    assert!(new(&desc, &w, None, &ep, Algo::Gemm1x1).contains("gemm1x1 needs a 1x1 kernel"));
    assert!(new(&desc.groups(3), &w, None, &ep, Algo::Auto).contains("`groups` 3 does not divide `in_channels` 4"));
    assert!(new(&desc.pad(0).stride(1), &w, None, &ep, Algo::Auto).is_empty(), "6x6 valid 3x3 is fine");
    let big = Conv2dDesc::new(1, 4, (2, 2), 8, (5, 5));
    assert!(
        new(&big, &vec![0.0; 800], None, &ep, Algo::Auto)
            .contains("kernel 5 (dilation 1, spans 5) is larger than the padded input 2")
    );
    let zero = Conv2dDesc::new(0, 4, (6, 6), 8, (3, 3));
    assert_eq!(new(&zero, &w, None, &ep, Algo::Auto), "conv2d: `batch` is 0, it must be at least 1");
    let huge = Conv2dDesc::new(1 << 40, 1 << 20, (1 << 20, 1 << 20), 8, (1, 1));
    assert!(matches!(Conv2d::new(&huge, &w, None, &ep, Algo::Auto), Err(Error::Overflow(_))));

    // run: every buffer length checked, residual presence checked.
    let plan = Conv2d::new(&desc, &w, None, &ep, Algo::Auto).unwrap();
    let (x, mut out, mut scratch) = (vec![0.0; s.input_len], vec![0.0; s.output_len], vec![0.0; plan.scratch_len()]);
    let err = |r: ferrocnn_kernels::Result<()>| r.unwrap_err().to_string();
    assert_eq!(
        err(plan.run(&x[1..], None, &mut out, &mut scratch)),
        "`input` has 143 elements, the descriptor needs 144"
    );
    assert_eq!(
        err(plan.run(&x, None, &mut out[1..], &mut scratch)),
        "`output` has 287 elements, the descriptor needs 288"
    );
    assert!(
        err(plan.run(&x, Some(&out.clone()), &mut out, &mut scratch))
            .contains("`residual` given but the epilogue adds none")
    );
    let short = plan.scratch_len() - 1;
    assert!(
        err(plan.run(&x, None, &mut out, &mut scratch[..short])).contains(&format!("`scratch` has {short} floats"))
    );
    let with_res = Conv2d::new(&desc, &w, None, &Epilogue::new().residual(), Algo::Auto).unwrap();
    assert!(err(with_res.run(&x, None, &mut out, &mut scratch)).contains("adds a residual but `residual` is None"));
    let r = vec![0.0; s.output_len + 1];
    assert_eq!(
        err(with_res.run(&x, Some(&r), &mut out, &mut scratch)),
        "`residual` has 289 elements, the descriptor needs 288"
    );
}

#[test]
fn every_supported_isa_can_be_chosen() {
    let desc = Conv2dDesc::new(1, 4, (6, 6), 8, (3, 3)).pad(1);
    for isa in supported_isas() {
        let plan = Conv2d::with_options(
            &desc,
            &[0.0; 288],
            None,
            &Epilogue::new(),
            Algo::Im2col,
            PlanOptions { isa, threads: 1 },
        )
        .unwrap();
        assert_eq!(plan.isa(), isa);
    }
}

/// A conv writing its channels into the middle of a concat buffer: the slice matches the
/// reference (with a residual in the same layout) and every channel outside it is still NaN,
/// so nothing outside was written. Row-major and transposed layouts and the reference.
#[test]
fn run_into_writes_only_its_channel_slice() {
    use ferrocnn_kernels::ChannelSlice;
    for desc in [
        Conv2dDesc::new(2, 8, (9, 10), 12, (3, 3)).pad(1),
        Conv2dDesc::new(2, 32, (3, 3), 64, (3, 3)).pad(1),
        Conv2dDesc::new(1, 16, (5, 5), 8, (1, 1)),
        Conv2dDesc::new(2, 6, (7, 33), 12, (3, 3)).pad(1).stride(2).groups(6),
    ] {
        let s = desc.validate().unwrap();
        let (k, hw) = (desc.out_channels, s.out_h * s.out_w);
        let slice = ChannelSlice { total: k + 7, first: 3 };
        let (x, w) = (signed(s.input_len, 1), signed(s.weight_len, 2));
        let full_len = desc.batch * slice.total * hw;
        let residual = signed(full_len, 3);
        let ep = Epilogue::new().residual().activation(Activation::Relu);
        let conv = reference::conv2d(&desc, &x, &w, None).unwrap();
        let magnitude = reference::conv2d_magnitude(&desc, &x, &w).unwrap();
        for options in configurations() {
            for algo in [Algo::Auto, Algo::Reference] {
                let plan = Conv2d::with_options(&desc, &w, None, &ep, algo, options).unwrap();
                let mut out = vec![f32::NAN; full_len];
                let mut scratch = vec![0.0; plan.scratch_len()];
                plan.run_into(&x, Some(&residual), &mut out, slice, &mut scratch).unwrap();
                for n in 0..desc.batch {
                    for c in 0..slice.total {
                        for p in 0..hw {
                            let i = (n * slice.total + c) * hw + p;
                            if c < slice.first || c >= slice.first + k {
                                assert!(out[i].is_nan(), "channel {c} outside the slice was written");
                                continue;
                            }
                            let j = (n * k + c - slice.first) * hw + p;
                            let want = (conv[j] + residual[i]).max(0.0);
                            let bound =
                                gemm_bound(s.reduction, magnitude[j], conv[j]) + 2.0 * f32::EPSILON * want.abs();
                            assert!((out[i] - want).abs() <= bound, "{options:?} {algo}: {} vs {want}", out[i]);
                        }
                    }
                }
            }
        }
        let plan = Conv2d::new(&desc, &w, None, &Epilogue::new(), Algo::Auto).unwrap();
        let bad = ChannelSlice { total: k + 2, first: 3 };
        let err =
            plan.run_into(&x, None, &mut vec![0.0; desc.batch * (k + 2) * hw], bad, &mut vec![0.0; plan.scratch_len()]);
        assert!(err.unwrap_err().to_string().contains(&format!("do not fit an output of `total` {} channels", k + 2)));
    }
}
