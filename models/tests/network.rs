//! The `#[network]` macro tested from a crate that uses it: small networks with every kind
//! of structure, their constants, and their fused forward pass against the unfused
//! reference, layer by layer.

use ferrocnn_models::network;
use ferrocnn_models::nn::{Error, WeightProblem};

#[network]
mod nets {
    #[block(planes, stride = 1)]
    #[residual(activation = relu)]
    struct Basic {
        conv1: conv!(planes, 3, stride = stride, padding = 1, bias = false),
        bn1: batch_norm!(),
        relu: relu!(),
        conv2: conv!(planes, 3, padding = 1, bias = false),
        bn2: batch_norm!(),
        #[shortcut(when = stride != 1 || in_channels != planes)]
        downsample: seq![conv!(planes, 1, stride = stride, bias = false), batch_norm!()],
    }

    #[block(out, kernel, stride = 1, padding = 0)]
    struct ConvBn(
        conv!(out, kernel, stride = stride, padding = padding, bias = false),
        batch_norm!(eps = 0.001),
        relu!(),
    );

    #[block(c1, c3, pool_proj)]
    #[concat]
    struct Inception {
        branch1: ConvBn!(c1, 1),
        branch2: seq![ConvBn!(c3 / 2, 1), ConvBn!(c3, 3, padding = 1)],
        branch3: seq![max_pool!(3, stride = 1, padding = 1), ConvBn!(pool_proj, 1)],
    }

    #[block(channels, reduction = 4)]
    #[excite]
    struct SqueezeExcite {
        pool: global_avg_pool!(),
        fc1: conv!(channels / reduction, 1),
        relu: relu!(),
        fc2: conv!(channels, 1),
        gate: sigmoid!(),
    }

    #[block(out, stride, expand)]
    #[residual(when = stride == 1 && in_channels == out)]
    struct Inverted {
        conv: seq![
            ConvBn6!(in_channels * expand, 1) if expand != 1,
            ConvBn6!(in_channels * expand, 3, stride = stride, groups = in_channels * expand),
            conv!(out, 1, bias = false),
            batch_norm!(),
        ],
    }

    #[block(out, kernel, stride = 1, groups = 1)]
    struct ConvBn6(
        conv!(out, kernel, stride = stride, padding = (kernel - 1) / 2, groups = groups, bias = false),
        batch_norm!(),
        relu6!(),
    );

    /// Every structure at once, small enough for the reference convolution.
    #[model(input = [3, 20, 18])]
    pub struct Mixed {
        stem: ConvBn!(16, 3, stride = 2, padding = 1),
        layer1: seq![Basic!(16), Basic!(24, stride = 2)],
        se: SqueezeExcite!(24),
        mix: Inception!(8, 16, 8),
        mobile: seq![Inverted!(32, 1, 1), Inverted!(32, 1, 6), Inverted!(40, 2, 6)],
        lrn: lrn!(5, alpha = 0.0001, beta = 0.75, k = 2.0),
        pool: adaptive_avg_pool!((2, 2)),
        flatten: flatten!(),
        drop: dropout!(),
        fc: linear!(10),
        softmax: softmax!(),
    }
}

use ferrocnn_models::zoo::tutorials::MnistCnn;
use nets::Mixed;

fn input(len: usize, seed: u64) -> Vec<f32> {
    ferrocnn_models::kernels::random::signed_uniform(len, seed)
}

#[test]
fn constants_follow_the_declaration() {
    assert_eq!(MnistCnn::PARAMS, 119_530, "DESIGN.md's MNIST CNN");
    assert_eq!(MnistCnn::INPUT_SHAPE, &[1, 28, 28]);
    assert_eq!(MnistCnn::OUTPUT_SHAPE, &[10]);
    // 2 * (28*28*32*9 + 14*14*64*32*9 + 3136*32 + 32*10)
    assert_eq!(MnistCnn::FLOPS, 2 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 32 + 32 * 10));
    assert_eq!(Mixed::OUTPUT_SHAPE, &[10]);
}

#[test]
fn weight_names_follow_fields_indices_and_blocks() {
    let names: Vec<String> = Mixed::GRAPH.param_specs().into_iter().map(|p| p.name).collect();
    for expected in [
        "stem.0.weight",
        "stem.1.running_var",
        "layer1.0.conv1.weight",
        "layer1.1.downsample.0.weight",
        "layer1.1.downsample.1.bias",
        "se.fc1.bias",
        "mix.branch2.1.0.weight",
        "mix.branch3.1.1.weight",
        "mobile.0.conv.0.0.weight",
        "mobile.1.conv.3.running_mean",
        "fc.weight",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:#?}");
    }
    // No projection where the shapes already match; no expansion conv when expand == 1.
    assert!(!names.iter().any(|n| n.starts_with("layer1.0.downsample")));
    assert!(!names.iter().any(|n| n == "mobile.0.conv.3.weight"));
}

#[test]
fn fused_forward_matches_the_reference_layer_by_layer() {
    use ferrocnn_models::kernels::{PlanOptions, dispatch::supported_isas};
    let mut net = Mixed::random(7);
    let paths = supported_isas().into_iter().flat_map(|isa| [(isa, 1, 1), (isa, 2, 3)]);
    for (isa, threads, batch) in paths {
        net.model_mut().set_options(PlanOptions { isa, threads });
        let x = input(batch * 3 * 20 * 18, batch as u64);
        // f32 accumulation in different orders, through ~40 layers whose values are
        // renormalised by batch-norm: a few 1e-6 per layer relative to the layer's largest
        // value; 1e-4 leaves an order of magnitude.
        let report = net.model_mut().check_against_reference(&x, batch, 1e-4).unwrap();
        assert!(report.first_mismatch().is_none(), "{isa:?}: {report:#?}");
        assert!(report.layers.len() > 20);
        let out = net.forward(&x, batch).unwrap().to_vec();
        assert_eq!(out.len(), batch * 10);
        for row in out.chunks(10) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "softmax rows sum to 1: {row:?}");
        }
    }
}

#[test]
fn the_reference_check_names_the_first_wrong_layer() {
    use ferrocnn_models::nn::{Program, check_against_reference};
    let good = MnistCnn::random(3).model().weights().clone();
    let mut bad = good.clone();
    bad.get_mut("fc1.weight").unwrap().iter_mut().for_each(|w| *w *= 1.01);
    let x = input(28 * 28, 1);
    let mut program =
        Program::new(&MnistCnn::GRAPH, &bad, 1, Default::default(), ferrocnn_models::kernels::Algo::Auto).unwrap();
    let report = check_against_reference(&MnistCnn::GRAPH, &good, &mut program, &x, 1e-4).unwrap();
    let first = report.first_mismatch().expect("fc1 differs");
    assert_eq!((first.layer.as_str(), first.completes.as_str()), ("fc1", "relu3"), "{report:#?}");
    assert!(report.layers[..2].iter().all(|l| l.passed), "the convs before it agree: {report:#?}");
}

#[test]
fn planned_activations_reuse_memory() {
    let s = Mixed::random(1).summary();
    assert!(
        s.activation_bytes < s.unshared_activation_bytes / 2,
        "{} vs {}",
        s.activation_bytes,
        s.unshared_activation_bytes
    );
    let text = s.to_string();
    assert!(text.contains("layer1.1.downsample.0"), "{text}");
    let total = text.lines().last().unwrap().strip_prefix("Total params: ").expect("the last line");
    assert_eq!(total.replace(',', "").parse::<u64>(), Ok(Mixed::PARAMS), "{text}");
}

#[test]
fn safetensors_round_trip_and_every_problem_listed() {
    let net = MnistCnn::random(5);
    let bytes = net.model().weights().to_safetensors(&MnistCnn::GRAPH).unwrap();
    let mut a = MnistCnn::from_safetensors_bytes(&bytes).unwrap();
    let mut b = MnistCnn::random(5);
    let x = input(2 * 28 * 28, 9);
    assert_eq!(a.forward(&x, 2).unwrap(), b.forward(&x, 2).unwrap());

    // A file with one tensor missing, one misshapen and one unknown.
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .iter()
        .filter(|(n, _)| *n != "conv2.bias")
        .map(|(n, v)| {
            let shape = if n == "fc2.weight" { vec![10, 16] } else { v.shape().to_vec() };
            let data = if n == "fc2.weight" { v.data()[..640].to_vec() } else { v.data().to_vec() };
            (n.to_string(), shape, data)
        })
        .collect();
    owned.push(("extra.weight".into(), vec![1], vec![0; 4]));
    owned.push(("conv1.num_batches_tracked".into(), vec![1], vec![0; 4]));
    let views: Vec<_> = owned
        .iter()
        .map(|(n, s, d)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d).unwrap())
        })
        .collect();
    let broken = safetensors::serialize(views, None).unwrap();
    let Err(Error::Weights(problems)) = MnistCnn::from_safetensors_bytes(&broken) else { panic!("must fail") };
    assert_eq!(
        problems,
        vec![
            WeightProblem::Missing { name: "conv2.bias".into(), expected: vec![64] },
            WeightProblem::Shape { name: "fc2.weight".into(), expected: vec![10, 32], found: vec![10, 16] },
            WeightProblem::Unexpected { name: "extra.weight".into(), found: vec![1] },
        ]
    );
    let message = Error::Weights(problems).to_string();
    assert!(message.contains("3 problems") && message.contains("conv2.bias"), "{message}");
    assert!(matches!(MnistCnn::from_safetensors_bytes(b"junk"), Err(Error::Format(_))));
}

#[test]
fn bad_forward_input_is_an_error() {
    let mut net = MnistCnn::random(1);
    let err = net.forward(&[0.0; 10], 1).unwrap_err().to_string();
    assert!(err.contains("784") && err.contains("10"), "{err}");
    assert!(net.forward(&[], 0).is_err());
}
