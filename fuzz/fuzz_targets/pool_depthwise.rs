//! Pooling and depthwise descriptors and data from arbitrary bytes: every ISA either returns
//! `Err` exactly when the descriptor is invalid, or matches the reference (pooling: max
//! exactly, average within a few ulps; depthwise, with a fused epilogue: within the
//! dot-product bound).
#![no_main]

use ferrocnn_kernels::dispatch::supported_isas;
use ferrocnn_kernels::ops::Pool2d;
use ferrocnn_kernels::{
    Activation, Algo, Conv2d, Conv2dDesc, Epilogue, Padding2d, PlanOptions, Pool2dDesc, PoolKind, reference,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 18 {
        return;
    }
    let b = |i: usize, max: u8| (bytes[i] % (max + 1)) as usize;
    let data = &bytes[18..];
    let value = |i: usize| data.get(i % data.len().max(1)).map_or(0.5, |&v| v as f32 / 128.0 - 1.0);
    let padding = Padding2d { top: b(10, 4), bottom: b(11, 4), left: b(12, 4), right: b(13, 4) };
    let threads = 1 + b(14, 1);
    if bytes[15] % 2 == 0 {
        pool(&bytes[..18], padding, threads, value);
    } else {
        depthwise(&bytes[..18], padding, threads, value);
    }
});

fn pool(h: &[u8], padding: Padding2d, threads: usize, value: impl Fn(usize) -> f32) {
    let b = |i: usize, max: u8| (h[i] % (max + 1)) as usize;
    // Fields may be zero or inconsistent on purpose: validation is part of what is fuzzed.
    let kind = if h[16] % 2 == 0 { PoolKind::Max } else { PoolKind::Avg };
    let mut desc = Pool2dDesc::new(kind, b(0, 2), b(1, 12), (b(2, 40), b(3, 40)), 1)
        .padding(padding)
        .ceil_mode(h[16] & 2 != 0)
        .count_include_pad(h[16] & 4 != 0);
    (desc.kernel_h, desc.kernel_w) = (b(4, 8), b(5, 8));
    (desc.stride_h, desc.stride_w) = (b(6, 4), b(7, 4));
    (desc.dilation_h, desc.dilation_w) = (b(8, 2), b(9, 2));
    let Ok(shape) = desc.validate() else {
        for isa in supported_isas() {
            assert!(Pool2d::new(&desc, PlanOptions { isa, threads }).is_err(), "{desc:?} accepted on {isa}");
        }
        return;
    };
    let input: Vec<f32> = (0..shape.input_len).map(&value).collect();
    let want = reference::pool2d(&desc, &input).unwrap();
    for isa in supported_isas() {
        let plan = Pool2d::new(&desc, PlanOptions { isa, threads }).expect("a valid descriptor");
        let mut out = vec![f32::NAN; want.len()];
        let mut scratch = vec![0.0; plan.scratch_len()];
        plan.run(&input, &mut out, &mut scratch).unwrap();
        for (i, (&got, &w)) in out.iter().zip(&want).enumerate() {
            // Max is a selection (exact; -inf for a window wholly in the padding, which
            // PyTorch forbids and ONNX allows); an average of at most 64 terms in [-1, 1]
            // is a sum rounded at most 64 times then one division.
            let bound = if kind == PoolKind::Max { 0.0 } else { 66.0 * f32::EPSILON };
            assert!(got == w || (got - w).abs() <= bound, "{desc:?} {isa} [{i}]: {got} vs {w}");
        }
    }
}

fn depthwise(h: &[u8], padding: Padding2d, threads: usize, value: impl Fn(usize) -> f32) {
    let b = |i: usize, max: u8| (h[i] % (max + 1)) as usize;
    let channels = b(1, 12);
    let multiplier = 1 + b(9, 2);
    let kernel = (b(4, 7), b(5, 7));
    let desc = Conv2dDesc::new(b(0, 2), channels, (b(2, 40), b(3, 40)), channels * multiplier, kernel)
        .stride(b(6, 3))
        .dilation(b(7, 3))
        .groups(channels)
        .padding(padding);
    let activation = [Activation::Identity, Activation::Relu, Activation::Relu6, Activation::LeakyRelu(0.1)][b(16, 3)];
    let out_channels = channels * multiplier;
    let mut epilogue = Epilogue::new().activation(activation);
    if h[17] & 1 != 0 {
        epilogue = epilogue.scale((0..out_channels).map(|c| value(c * 5 + 1) + 1.5).collect());
    }
    if h[17] & 2 != 0 {
        epilogue = epilogue.residual();
    }
    let Ok(shape) = desc.validate() else {
        assert!(Conv2d::new(&desc, &[], None, &epilogue, Algo::Depthwise).is_err());
        return;
    };
    let input: Vec<f32> = (0..shape.input_len).map(&value).collect();
    let weights: Vec<f32> = (0..shape.weight_len).map(|i| value(i * 7 + 3)).collect();
    let bias: Vec<f32> = (0..out_channels).map(|c| value(c * 11 + 2)).collect();
    let residual: Vec<f32> = (0..shape.output_len).map(|i| value(i * 3 + 1)).collect();
    let residual = epilogue.residual.then_some(residual.as_slice());
    let mut want = reference::conv2d(&desc, &input, &weights, Some(&bias)).unwrap();
    let (batch, hw) = (desc.batch, shape.output_len / (desc.batch * out_channels));
    reference::apply_epilogue(batch, out_channels, hw, &mut want, &epilogue, residual).unwrap();
    let magnitude = reference::conv2d_magnitude(&desc, &input, &weights).unwrap();
    for isa in supported_isas() {
        let options = PlanOptions { isa, threads };
        let Ok(plan) = Conv2d::with_options(&desc, &weights, Some(&bias), &epilogue, Algo::Depthwise, options) else {
            assert!(!Algo::Depthwise.applies_to(&desc), "depthwise refused a valid {desc:?}");
            continue;
        };
        let mut out = vec![f32::NAN; shape.output_len];
        let mut scratch = vec![0.0; plan.scratch_len()];
        plan.run(&input, residual, &mut out, &mut scratch).unwrap();
        for i in 0..out.len() {
            // The dot product's bound (Higham), grown by the scale (< 2.5), then the
            // bias, residual and rounding of the epilogue (a few ulps of the result).
            let bound = 2.5 * (shape.reduction as f32 + 2.0) * f32::EPSILON * (magnitude[i] + 2.0)
                + 4.0 * f32::EPSILON * want[i].abs();
            assert!((out[i] - want[i]).abs() <= bound, "{desc:?} {isa}: [{i}] {} vs {}", out[i], want[i]);
        }
    }
}
