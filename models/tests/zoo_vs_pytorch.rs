//! Every model of the zoo against PyTorch: `tools/fixtures/make_fixtures.py` built each in
//! PyTorch (torchvision's own where it has the model), filled it with the weights
//! `Weights::random(graph, 2026)` makes, bit for bit, ran `signed_uniform(C*H*W, 7)` through
//! it and saved the output under `tests/fixtures/`. Here the same weights and input run
//! through our `forward`, with im2col on every convolution and with `Algo::Auto` (Winograd
//! on most 3x3s), at each model's full input size; the models under 2 GFLOP on every
//! instruction-set path this CPU has, the rest on the fastest.

use ferrocnn_models::kernels::dispatch::supported_isas;
use ferrocnn_models::kernels::random::signed_uniform;
use ferrocnn_models::kernels::{Algo, PlanOptions, reference};
use ferrocnn_models::nn::Model;
use ferrocnn_models::{npy, zoo};
use std::path::PathBuf;

const WEIGHT_SEED: u64 = 2026;
const INPUT_SEED: u64 = 7;

/// im2col against PyTorch: both accumulate in f32 in different orders, through up to 150
/// layers. The worst measured is 2.9e-6 (AlexNet-10 on the portable path, VGG-16-BN 2.8e-6);
/// 1e-4, the bound, is 35x that, while a wrong weight name or layer (errors of
/// order 1) cannot pass.
const IM2COL_BOUND: f32 = 1e-4;

/// Auto runs F(4x4) Winograd, whose per-layer bound (the kernels' tests/winograd.rs) is
/// 32 sqrt(C*9) eps; at the zoo's widest 3x3 input, 512 channels, that is 2.6e-4 (AlexNet's
/// 5x5, split into a 3x3 layer of 4 x 64 channels, is inside it). Whole
/// networks measure 100x below it (batch-norm renormalises each layer's error).
fn auto_bound() -> f32 {
    32.0 * ((512 * 9) as f32).sqrt() * f32::EPSILON
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.npy"))
}

fn check(name: &str) {
    let (_, graph, _) = zoo::MODELS.iter().find(|(n, ..)| *n == name).expect("a zoo model");
    let bytes = std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{}: {e}", fixture(name).display()));
    let expected = npy::read(&bytes).unwrap();
    let output_len: usize = graph.nodes.last().unwrap().shape.len();
    assert_eq!(expected.shape, [1, output_len], "{name}: the fixture's shape");
    let mut model = Model::random(*graph, WEIGHT_SEED);
    let x = signed_uniform(graph.input().len(), INPUT_SEED);
    let isas = if graph.flops() <= 2_000_000_000 { supported_isas() } else { vec![PlanOptions::default().isa] };
    for isa in isas {
        model.set_options(PlanOptions { isa, ..PlanOptions::default() });
        for (algo, bound) in [(Algo::Im2col, IM2COL_BOUND), (Algo::Auto, auto_bound())] {
            model.set_conv_algo(algo);
            let out = model.forward(&x, 1).unwrap();
            let error = reference::max_relative_error(out, &expected.data);
            println!("{name:14} {isa:?} {:8} max relative error {error:.2e} (bound {bound:.1e})", algo.name());
            assert!(error <= bound, "{name}, {isa:?}, {algo:?}: relative error {error:.3e} > {bound:.1e}");
        }
    }
}

macro_rules! fixtures {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { check($name) })*

        #[test]
        fn every_zoo_model_has_a_fixture_test() {
            let tested = [$($name),*];
            for (name, ..) in zoo::MODELS {
                assert!(tested.contains(name), "{name}: add it to make_fixtures.py and to this file");
            }
        }
    };
}

fixtures! {
    lenet5 => "lenet5",
    mnist_cnn => "mnist-cnn",
    cifar_cnn => "cifar-cnn",
    small_resnet => "small-resnet",
    alexnet => "alexnet",
    alexnet10 => "alexnet10",
    vgg11 => "vgg11",
    vgg13 => "vgg13",
    vgg16 => "vgg16",
    vgg19 => "vgg19",
    vgg16_bn => "vgg16-bn",
    resnet18 => "resnet18",
    resnet34 => "resnet34",
    resnet50 => "resnet50",
    resnet101 => "resnet101",
    resnet152 => "resnet152",
    googlenet => "googlenet",
    mobilenet_v2 => "mobilenet-v2",
    xception => "xception",
    se_resnet50 => "se-resnet50",
}
