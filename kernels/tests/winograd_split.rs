//! Kernels larger than 3x3 as one 3x3 Winograd layer over shifted copies of the input
//! (`Algo::WinogradSplit`), against the f64 reference on every ISA path and thread count.
//!
//! The error bound is the 3x3 layer's (see `winograd.rs`): `factor * sqrt(n) * eps` with n
//! its dot-product length, pieces x C/g x 9 (the zero taps past R x S included), and the
//! factor of F(4x4), the larger of the two variants the split runs (`Auto`'s choice for
//! the 3x3 layer, F(2x2) where that is not Winograd).

mod common;

use common::{configurations, kaiming, relative_error, signed};
use ferrocnn_kernels::{Activation, Algo, ChannelSlice, Conv2d, Conv2dDesc, Epilogue, Padding2d, reference};
use proptest::prelude::*;

fn bound(desc: &Conv2dDesc) -> f32 {
    let pieces = desc.kernel_h.div_ceil(3) * desc.kernel_w.div_ceil(3);
    let n = pieces * desc.in_channels / desc.groups * 9;
    32.0 * (n as f32).sqrt() * f32::EPSILON
}

/// The split on every configuration, its scratch and output starting as NaN.
fn check(desc: &Conv2dDesc, seed: u64) {
    let s = desc.validate().unwrap();
    let (x, w) = (signed(s.input_len, seed), kaiming(desc, seed + 1));
    let want = reference::conv2d(desc, &x, &w, None).unwrap();
    for options in configurations() {
        let plan = Conv2d::with_options(desc, &w, None, &Epilogue::new(), Algo::WinogradSplit, options).unwrap();
        assert_eq!(plan.algo(), Algo::WinogradSplit);
        let mut out = vec![f32::NAN; s.output_len];
        let mut scratch = vec![f32::NAN; plan.scratch_len()];
        plan.run(&x, None, &mut out, &mut scratch).unwrap();
        let error = relative_error(&out, &want);
        assert!(error <= bound(desc), "{desc:?} {options:?} [{}]: error {error:e}", plan.kernel_name());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any kernel from 3 to 7 on a side (one side above 3), size, padding, batch, channel
    /// counts and groups.
    #[test]
    fn random_shapes_match_reference(
        batch in 1usize..=2, c in 1usize..=12, k in 1usize..=12, r in 3usize..=7, q in 3usize..=7,
        h in 1usize..=20, w in 1usize..=20, top in 0usize..=3, bottom in 0usize..=3, left in 0usize..=3,
        right in 0usize..=3, g_seed in 0usize..8, seed in 0u64..1000,
    ) {
        prop_assume!(r.max(q) > 3);
        prop_assume!(h + top + bottom >= r && w + left + right >= q);
        let groups = common::group_count(c, k, g_seed);
        let desc = Conv2dDesc::new(batch, c, (h, w), k, (r, q))
            .padding(Padding2d { top, bottom, left, right })
            .groups(groups);
        check(&desc, seed);
    }
}

/// AlexNet's 5x5 (at a third of its channels), a map exactly the kernel's size, padding
/// wider than the map, a 4x4 kernel (pieces past it all zero), 7x7 and 3x5 kernels, a
/// single row, and padding on one side only.
#[test]
fn edge_shapes() {
    let cases = [
        Conv2dDesc::new(1, 21, (27, 27), 64, (5, 5)).pad(2),
        Conv2dDesc::new(1, 3, (5, 5), 4, (5, 5)),
        Conv2dDesc::new(1, 2, (1, 1), 3, (5, 5)).pad(2),
        Conv2dDesc::new(2, 5, (9, 8), 6, (4, 4)).pad(1),
        Conv2dDesc::new(1, 4, (16, 11), 9, (7, 7)).pad(3),
        Conv2dDesc::new(1, 6, (10, 12), 5, (3, 5)).padding(Padding2d { top: 1, bottom: 1, left: 2, right: 2 }),
        Conv2dDesc::new(1, 4, (1, 30), 4, (3, 5)).padding(Padding2d { top: 1, bottom: 1, left: 0, right: 0 }),
        Conv2dDesc::new(1, 8, (12, 12), 8, (5, 5)).padding(Padding2d { top: 0, bottom: 3, left: 3, right: 0 }),
        Conv2dDesc::new(1, 8, (10, 10), 8, (5, 5)).pad(2).groups(4),
    ];
    for (i, desc) in cases.iter().enumerate() {
        check(desc, i as u64);
    }
}

/// Bias, scale, shift, residual and the activation reach the 3x3 layer's output transform,
/// and a concat branch's channels are written in place (the same values as a whole-output
/// run), the others left alone.
#[test]
fn fused_epilogue_and_channel_slice() {
    let desc = Conv2dDesc::new(2, 7, (11, 13), 10, (5, 5)).pad(2);
    let s = desc.validate().unwrap();
    let k = desc.out_channels;
    let (x, w) = (signed(s.input_len, 1), kaiming(&desc, 2));
    let (bias, shift, residual) = (signed(k, 3), signed(k, 5), signed(s.output_len, 6));
    let scale: Vec<f32> = signed(k, 4).iter().map(|v| 2.0 * v).collect();
    let conv = reference::conv2d(&desc, &x, &w, Some(&bias)).unwrap();
    let ep = Epilogue::new().scale(scale).shift(shift).residual().activation(Activation::Relu6);
    let mut want = conv.clone();
    reference::apply_epilogue(desc.batch, k, s.out_pixels(), &mut want, &ep, Some(&residual)).unwrap();
    let (total, first, pixels) = (14, 3, s.out_pixels());
    for options in configurations() {
        let plan = Conv2d::with_options(&desc, &w, Some(&bias), &ep, Algo::WinogradSplit, options).unwrap();
        let mut scratch = vec![f32::NAN; plan.scratch_len()];
        let mut out = vec![f32::NAN; s.output_len];
        plan.run(&x, Some(&residual), &mut out, &mut scratch).unwrap();
        // The conv's bound, scaled by |scale| <= 2, over outputs of about the same size.
        let error = relative_error(&out, &want);
        assert!(error <= 2.0 * bound(&desc), "{options:?}: error {error:e}");

        let mut wide = vec![f32::NAN; desc.batch * total * pixels];
        let mut wide_residual = vec![0.0f32; desc.batch * total * pixels];
        for n in 0..desc.batch {
            let at = (n * total + first) * pixels;
            wide_residual[at..at + k * pixels].copy_from_slice(&residual[n * k * pixels..][..k * pixels]);
        }
        plan.run_into(&x, Some(&wide_residual), &mut wide, ChannelSlice { total, first }, &mut scratch).unwrap();
        for n in 0..desc.batch {
            for c in 0..total {
                let got = &wide[(n * total + c) * pixels..][..pixels];
                if (first..first + k).contains(&c) {
                    // The same plan on the same thread count sums in the same order: the
                    // slice holds exactly what `run` wrote.
                    let whole = &out[(n * k + c - first) * pixels..][..pixels];
                    assert_eq!(got, whole, "{options:?} image {n} channel {c}");
                } else {
                    assert!(got.iter().all(|v| v.is_nan()), "{options:?}: channel {c} outside the slice was written");
                }
            }
        }
    }
}

/// `Auto` splits a larger kernel where its 3x3 layer runs F(4x4) (AlexNet's 5x5) and
/// leaves it to im2col where that layer would run F(2x2) or no Winograd at all (LeNet's
/// 6x14x14 -> 16, a 3-channel input); `Tune` may keep the split, one of the concrete
/// algorithms.
#[test]
fn auto_splits_where_the_3x3_layer_runs_f4_and_tune_times_the_split() {
    let auto = |desc: &Conv2dDesc| Conv2d::new(desc, &kaiming(desc, 1), None, &Epilogue::new(), Algo::Auto).unwrap();
    let alexnet = Conv2dDesc::new(1, 64, (27, 27), 192, (5, 5)).pad(2);
    let plan = auto(&alexnet);
    assert_eq!(plan.algo(), Algo::WinogradSplit);
    assert!(plan.kernel_name().starts_with("winograd-f4 "), "{}", plan.kernel_name());
    for im2col in [
        Conv2dDesc::new(1, 32, (14, 14), 64, (5, 5)).pad(2),
        Conv2dDesc::new(1, 6, (14, 14), 16, (5, 5)),
        Conv2dDesc::new(1, 3, (32, 32), 6, (5, 5)),
    ] {
        assert_eq!(auto(&im2col).algo(), Algo::Im2col, "{im2col:?}");
    }
    assert!(Algo::CONCRETE.contains(&Algo::WinogradSplit));
}

#[test]
fn other_shapes_are_refused_with_the_reason() {
    let strided = Conv2dDesc::new(1, 4, (9, 9), 4, (5, 5)).pad(2).stride(2);
    let e = Conv2d::new(&strided, &[0.0; 400], None, &Epilogue::new(), Algo::WinogradSplit).err().unwrap();
    assert_eq!(
        e.to_string(),
        "conv2d: winograd-split needs a kernel of at least 3x3 and larger than 3x3, stride 1 and dilation 1; got 5x5, stride 2x2, dilation 1x1"
    );
    let three = Conv2dDesc::new(1, 4, (9, 9), 4, (3, 3)).pad(1);
    assert!(Conv2d::new(&three, &[0.0; 144], None, &Epilogue::new(), Algo::WinogradSplit).is_err());
    let row = Conv2dDesc::new(1, 4, (9, 9), 4, (1, 5));
    assert!(Conv2d::new(&row, &[0.0; 80], None, &Epilogue::new(), Algo::WinogradSplit).is_err());
}
