//! Winograd F(2x2), F(4x4) and F(6x6) against the f64 reference, on every ISA path and
//! thread count.
//!
//! Error is measured as the largest |got - want| over the largest |want| of the output, with
//! signed zero-mean inputs and Kaiming-scale weights (uniform with variance 2 / (C*R*S)),
//! the way the transforms' cancellation shows. The bound is `factor * sqrt(n) * eps` with
//! n = C*R*S: the rounding errors of the n products an output sums are independent, so
//! their sum grows like sqrt(n) (measured: the error in units of eps grows 4-5x from n = 9
//! to n = 4608, not 500x), and the factor is the transform's own amplification. Measured
//! worst of err / (sqrt(n) eps) over the random and edge shapes, all paths: F(2x2) 0.44,
//! F(4x4) 10.2, F(6x6) 13.9, each at n = 9; the factors are 3x that. On the ResNet/VGG
//! layers (`network_layers_error`, release mode, `--nocapture`) the errors are
//! F(2x2) 3.5e-7..1.0e-6, F(4x4) 6.9e-6..1.6e-5, F(6x6) 1.0e-5..2.5e-5.

mod common;

use common::{configurations, kaiming, relative_error, signed};
use ferrocnn_kernels::{Activation, Algo, Conv2d, Conv2dDesc, Epilogue, Padding2d, reference};
use proptest::prelude::*;

const WINOGRAD: [Algo; 3] = [Algo::WinogradF2, Algo::WinogradF4, Algo::WinogradF6];

/// `factor` of the bound `factor * sqrt(n) * eps` on the error relative to the largest output.
fn factor(algo: Algo) -> f32 {
    match algo {
        Algo::WinogradF2 => 1.5,
        Algo::WinogradF4 => 32.0,
        Algo::WinogradF6 => 48.0,
        _ => unreachable!(),
    }
}

fn bound(algo: Algo, desc: &Conv2dDesc) -> f32 {
    let n = desc.in_channels / desc.groups * 9;
    factor(algo) * (n as f32).sqrt() * f32::EPSILON
}

fn run_plan(plan: &Conv2d, input: &[f32], residual: Option<&[f32]>) -> Vec<f32> {
    let mut out = vec![f32::NAN; plan.shape().output_len];
    let mut scratch = vec![f32::NAN; plan.scratch_len()];
    plan.run(input, residual, &mut out, &mut scratch).expect("run");
    out
}

/// Every variant on every configuration; returns the worst error of each variant.
fn check(desc: &Conv2dDesc, seed: u64) -> [f32; 3] {
    let s = desc.validate().unwrap();
    let input = signed(s.input_len, seed);
    let weights = kaiming(desc, seed + 1);
    let want = reference::conv2d(desc, &input, &weights, None).unwrap();
    let mut worst = [0.0f32; 3];
    for options in configurations() {
        for (v, algo) in WINOGRAD.into_iter().enumerate() {
            let plan = Conv2d::with_options(desc, &weights, None, &Epilogue::new(), algo, options).unwrap();
            assert_eq!(plan.algo(), algo);
            let error = relative_error(&run_plan(&plan, &input, None), &want);
            let limit = bound(algo, desc);
            assert!(
                error <= limit,
                "{desc:?} {options:?} {algo} [{}]: error {error:e} > bound {limit:e}",
                plan.kernel_name()
            );
            worst[v] = worst[v].max(error);
        }
    }
    worst
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any size, padding, batch, channel counts and groups (each group its own GEMMs).
    #[test]
    fn random_shapes_match_reference(
        batch in 1usize..=2, c in 1usize..=24, k in 1usize..=24, h in 1usize..=23, w in 1usize..=23,
        top in 0usize..=2, bottom in 0usize..=2, left in 0usize..=2, right in 0usize..=2,
        g_seed in 0usize..8, seed in 0u64..1000,
    ) {
        // The 3x3 window must fit the padded input.
        prop_assume!(h + top + bottom >= 3 && w + left + right >= 3);
        let groups = common::group_count(c, k, g_seed);
        let desc = Conv2dDesc::new(batch, c, (h, w), k, (3, 3))
            .padding(Padding2d { top, bottom, left, right })
            .groups(groups);
        check(&desc, seed);
    }
}

/// Maps smaller than one tile, a 1x1 map, a single channel, a single row or column, and
/// channel counts off every panel width and vector length.
#[test]
fn edge_shapes() {
    let cases = [
        Conv2dDesc::new(1, 1, (1, 1), 1, (3, 3)).pad(1),
        Conv2dDesc::new(1, 1, (3, 3), 1, (3, 3)),
        Conv2dDesc::new(2, 3, (5, 4), 5, (3, 3)).pad(1),
        Conv2dDesc::new(1, 1, (17, 40), 7, (3, 3)).pad(1),
        Conv2dDesc::new(1, 9, (1, 37), 10, (3, 3)).pad(1),
        Conv2dDesc::new(1, 9, (37, 1), 10, (3, 3)).pad(1),
        Conv2dDesc::new(1, 33, (7, 7), 65, (3, 3)).pad(1),
        Conv2dDesc::new(1, 16, (13, 13), 49, (3, 3)),
        Conv2dDesc::new(1, 8, (8, 8), 8, (3, 3)).pad(1).groups(8),
        Conv2dDesc::new(1, 40, (30, 70), 24, (3, 3)).padding(Padding2d { top: 0, bottom: 2, left: 2, right: 0 }),
    ];
    for (i, desc) in cases.iter().enumerate() {
        check(desc, i as u64);
    }
}

/// Scale, shift (with bias), residual and each activation are applied by the output
/// transform as it stores.
#[test]
fn fused_epilogue_matches_unfused() {
    let desc = Conv2dDesc::new(2, 12, (11, 13), 20, (3, 3)).pad(1);
    let s = desc.validate().unwrap();
    let k = desc.out_channels;
    let (x, w) = (signed(s.input_len, 1), kaiming(&desc, 2));
    let bias = signed(k, 3);
    let scale: Vec<f32> = signed(k, 4).iter().map(|v| 2.0 * v).collect();
    let shift = signed(k, 5);
    let residual = signed(s.output_len, 6);
    let conv = reference::conv2d(&desc, &x, &w, Some(&bias)).unwrap();
    for act in
        [Activation::Identity, Activation::Relu, Activation::Relu6, Activation::LeakyRelu(0.1), Activation::Sigmoid]
    {
        let ep = Epilogue::new().scale(scale.clone()).shift(shift.clone()).residual().activation(act);
        let mut want = conv.clone();
        reference::apply_epilogue(desc.batch, k, s.out_h * s.out_w, &mut want, &ep, Some(&residual)).unwrap();
        for options in configurations() {
            for algo in WINOGRAD {
                let plan = Conv2d::with_options(&desc, &w, Some(&bias), &ep, algo, options).unwrap();
                let error = relative_error(&run_plan(&plan, &x, Some(&residual)), &want);
                // The conv's bound, scaled by |scale| <= 2, over outputs of about the same size.
                assert!(error <= 2.0 * bound(algo, &desc), "{act:?} {options:?} {algo}: error {error:e}");
            }
        }
    }
}

/// More threads than tile blocks: the threads split K, after transforming shares of the
/// channels into a shared V. 3 and 4 threads give parts that are uneven in channels and
/// blocks with several parts each; the scratch starts as NaN, so a V row no part wrote
/// would show. 64x56x56 on 2 threads splits K with as many blocks as threads or more (in
/// the plain orientation: five blocks of 48 tiles, K in halves, every block's V transformed
/// before any is multiplied).
#[test]
fn threads_splitting_k_share_the_transformed_input() {
    let cases = [
        Conv2dDesc::new(1, 64, (56, 56), 64, (3, 3)).pad(1),
        Conv2dDesc::new(1, 33, (7, 7), 65, (3, 3)).pad(1),
        Conv2dDesc::new(2, 20, (14, 14), 50, (3, 3)).pad(1),
        Conv2dDesc::new(1, 5, (9, 30), 7, (3, 3)),
        Conv2dDesc::new(1, 12, (6, 6), 12, (3, 3)).pad(1).groups(3),
    ];
    for (i, desc) in cases.iter().enumerate() {
        let s = desc.validate().unwrap();
        let (x, w) = (signed(s.input_len, i as u64), kaiming(desc, 100 + i as u64));
        let want = reference::conv2d(desc, &x, &w, None).unwrap();
        for isa in common::isas() {
            for threads in [2, 3, 4] {
                let options = ferrocnn_kernels::PlanOptions { isa, threads };
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                for algo in WINOGRAD {
                    let plan = Conv2d::with_options(desc, &w, None, &Epilogue::new(), algo, options).unwrap();
                    let error = pool.install(|| relative_error(&run_plan(&plan, &x, None), &want));
                    assert!(error <= bound(algo, desc), "{desc:?} {options:?} {algo}: error {error:e}");
                }
            }
        }
    }
}

/// `few` (too few input channels for the per-run rule) runs `without` under `Auto`; `desc`
/// runs `with`, filters transformed per run, and matches the reference on every path and
/// on 1 to 3 threads.
fn check_auto_per_run(few: Conv2dDesc, without: Algo, desc: Conv2dDesc, with: Algo) {
    let s = few.validate().unwrap();
    let plan = Conv2d::new(&few, &vec![0.0; s.weight_len], None, &Epilogue::new(), Algo::Auto).unwrap();
    assert_eq!(plan.algo(), without);
    let s = desc.validate().unwrap();
    let (x, w) = (signed(s.input_len, 1), kaiming(&desc, 2));
    let want = reference::conv2d(&desc, &x, &w, None).unwrap();
    for isa in common::isas() {
        for threads in [1, 2, 3] {
            let options = ferrocnn_kernels::PlanOptions { isa, threads };
            let plan = Conv2d::with_options(&desc, &w, None, &Epilogue::new(), Algo::Auto, options).unwrap();
            assert_eq!(plan.algo(), with);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let error = pool.install(|| relative_error(&run_plan(&plan, &x, None), &want));
            assert!(error <= bound(with, &desc), "{options:?}: error {error:e}");
        }
    }
}

/// On maps of few F(2x2) tiles (7x7) `Auto` runs im2col, but F(2x2) with its filters
/// transformed per run from 512 input channels; with the K panels shared out unevenly on 3
/// threads.
#[test]
fn auto_runs_f2_per_run_on_small_maps_with_many_channels() {
    check_auto_per_run(
        Conv2dDesc::new(1, 256, (7, 7), 8, (3, 3)).pad(1),
        Algo::Im2col,
        Conv2dDesc::new(1, 512, (7, 7), 100, (3, 3)).pad(1),
        Algo::WinogradF2,
    );
}

/// On 14x14 maps `Auto` runs F(2x2), but F(4x4) with its filters transformed per run from
/// 256 input channels (eight blocks of 32 channels), with K = 100 ending in a partial
/// panel.
#[test]
fn auto_runs_f4_per_run_on_14x14_maps_with_many_channels() {
    check_auto_per_run(
        Conv2dDesc::new(1, 128, (14, 14), 8, (3, 3)).pad(1),
        Algo::WinogradF2,
        Conv2dDesc::new(1, 256, (14, 14), 100, (3, 3)).pad(1),
        Algo::WinogradF4,
    );
}

#[test]
fn other_shapes_are_refused_with_the_reason() {
    let desc = Conv2dDesc::new(1, 4, (8, 8), 4, (3, 3)).pad(1).stride(2);
    let e = Conv2d::new(&desc, &[0.0; 144], None, &Epilogue::new(), Algo::WinogradF4).err().unwrap().to_string();
    assert_eq!(e, "conv2d: winograd-f4 needs a 3x3 kernel, stride 1 and dilation 1; got 3x3, stride 2x2, dilation 1x1");
    let desc = Conv2dDesc::new(1, 4, (8, 8), 4, (5, 5)).pad(2);
    assert!(Conv2d::new(&desc, &[0.0; 400], None, &Epilogue::new(), Algo::WinogradF2).is_err());
}

/// `Tune` keeps one of the algorithms that apply, and the plan it keeps is correct.
#[test]
fn tune_keeps_a_correct_plan() {
    let desc = Conv2dDesc::new(1, 16, (12, 12), 16, (3, 3)).pad(1);
    let s = desc.validate().unwrap();
    let (x, w) = (signed(s.input_len, 1), kaiming(&desc, 2));
    let plan = Conv2d::new(&desc, &w, None, &Epilogue::new(), Algo::Tune).unwrap();
    assert!(Algo::CONCRETE.contains(&plan.algo()), "{}", plan.algo());
    let want = reference::conv2d(&desc, &x, &w, None).unwrap();
    assert!(relative_error(&run_plan(&plan, &x, None), &want) <= bound(Algo::WinogradF4, &desc));
}

/// The ResNet and VGG 3x3 layers: the error each variant reaches on them, printed (run with
/// `--nocapture` to see it) and checked against the bound.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: the f64 reference over full layers")]
fn network_layers_error() {
    for (c, hw) in [(64, 56), (128, 28), (256, 14), (512, 7), (64, 224)] {
        let desc = Conv2dDesc::new(1, c, (hw, hw), c, (3, 3)).pad(1);
        let worst = check(&desc, c as u64);
        println!(
            "{c}x{hw}x{hw}: relative error F2 {:.1e}, F4 {:.1e}, F6 {:.1e} (bounds {:.1e}, {:.1e}, {:.1e})",
            worst[0],
            worst[1],
            worst[2],
            bound(Algo::WinogradF2, &desc),
            bound(Algo::WinogradF4, &desc),
            bound(Algo::WinogradF6, &desc),
        );
    }
}

/// A Winograd plan writes a concat branch's channels in place and leaves the others alone.
#[test]
fn writes_into_a_channel_slice() {
    let desc = Conv2dDesc::new(2, 16, (9, 10), 12, (3, 3)).pad(1);
    let s = desc.validate().unwrap();
    let (x, w) = (signed(s.input_len, 1), kaiming(&desc, 2));
    let want = reference::conv2d(&desc, &x, &w, None).unwrap();
    let (total, first, pixels) = (20, 5, s.out_h * s.out_w);
    for options in configurations() {
        let plan = Conv2d::with_options(&desc, &w, None, &Epilogue::new(), Algo::WinogradF4, options).unwrap();
        let mut out = vec![f32::NAN; desc.batch * total * pixels];
        let mut scratch = vec![f32::NAN; plan.scratch_len()];
        plan.run_into(&x, None, &mut out, ferrocnn_kernels::ChannelSlice { total, first }, &mut scratch).unwrap();
        // The slice's channels, gathered, against the reference with the conv's own bound
        // (relative to the largest output, as everywhere here); the rest untouched.
        let mut sliced = Vec::with_capacity(want.len());
        for n in 0..desc.batch {
            for c in 0..total {
                let got = &out[(n * total + c) * pixels..][..pixels];
                if (first..first + desc.out_channels).contains(&c) {
                    sliced.extend_from_slice(got);
                } else {
                    assert!(got.iter().all(|v| v.is_nan()), "{options:?}: channel {c} outside the slice was written");
                }
            }
        }
        let error = relative_error(&sliced, &want);
        assert!(error <= bound(Algo::WinogradF4, &desc), "{options:?}: error {error:e}");
    }
}
