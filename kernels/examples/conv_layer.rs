//! A ResNet 3x3 layer as an engine would run it: plan once (weights packed, bias and ReLU
//! fused), run many times with caller-owned buffers, check against the reference.
//!
//!     cargo run --release -p ferrocnn-kernels --example conv_layer

use ferrocnn_kernels::random::signed_uniform;
use ferrocnn_kernels::{Activation, Algo, Conv2d, Conv2dDesc, Epilogue, reference};
use std::time::Instant;

fn main() -> Result<(), ferrocnn_kernels::Error> {
    let desc = Conv2dDesc::new(1, 64, (56, 56), 64, (3, 3)).pad(1);
    let shape = desc.validate()?;
    let input = signed_uniform(shape.input_len, 1);
    let weights = signed_uniform(shape.weight_len, 2);
    let bias = signed_uniform(desc.out_channels, 3);

    let plan = Conv2d::new(&desc, &weights, Some(&bias), &Epilogue::new().activation(Activation::Relu), Algo::Auto)?;
    let mut scratch = vec![0.0; plan.scratch_len()];
    let mut output = vec![0.0; shape.output_len];

    let runs = 50;
    let start = Instant::now();
    for _ in 0..runs {
        plan.run(&input, None, &mut output, &mut scratch)?; // no allocation, lengths checked
    }
    let seconds = start.elapsed().as_secs_f64() / runs as f64;
    let gflops = desc.flops()? as f64 / seconds / 1e9;
    println!(
        "{} on {} [{}]: {:.3} ms, {gflops:.1} GFLOP/s",
        plan.algo(),
        plan.isa(),
        plan.kernel_name(),
        seconds * 1e3
    );

    let mut want = reference::conv2d(&desc, &input, &weights, Some(&bias))?;
    want.iter_mut().for_each(|v| *v = v.max(0.0));
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let err = output.iter().zip(&want).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    println!("max error relative to the largest output: {:.1e}", err / scale);
    Ok(())
}
