//! `ferrocnn linear`: times a fully connected layer's run. At batch 1 it is a GEMV that
//! reads every weight once, so the figure that matters is the weights' GB/s.

use super::args::Args;
use super::timing::{Budget, time};
use super::{pool, random_data};
use ferrocnn_kernels::ops::Linear;
use ferrocnn_kernels::{Activation, PlanOptions, dispatch::active_isa, reference};

pub fn run(args: &Args) -> Result<(), String> {
    args.allow_only(&["--in", "--out", "--batch", "--threads", "--iters", "--check", "--json"])?;
    let (inputs, outputs, batch) = (args.usize("--in")?, args.usize("--out")?, args.usize_or("--batch", 1)?);
    let iters = args.usize_or("--iters", 10)?;
    let (thread_pool, threads) = pool(args)?;
    let (i, o, b) = (inputs as u128, outputs as u128, batch as u128);
    // Weights twice (given and the plan's copy), input, output, and the batched GEMM's scratch.
    super::check_memory("linear", 2 * i * o + 3 * b * (i + o))?;
    let options = PlanOptions { isa: active_isa(), threads };
    let err = |e: ferrocnn_kernels::Error| e.to_string();
    let weights = super::kaiming_uniform(inputs * outputs, inputs, 2);
    let bias = random_data(outputs, 3);
    let plan = Linear::new(inputs, outputs, &weights, Some(&bias), Activation::Identity, options).map_err(err)?;
    let input = random_data(batch * inputs, 1);
    let mut output = vec![0.0f32; batch * outputs];
    let mut scratch = vec![0.0f32; plan.scratch_len(batch).map_err(err)?];
    plan.run(batch, &input, &mut output, &mut scratch).map_err(err)?;
    let timing = thread_pool.install(|| {
        time(Budget::Runs(iters), || plan.run(batch, &input, &mut output, &mut scratch).expect("validated above"))
    });
    let check = if args.flag("--check") {
        let want = reference::linear(batch, inputs, outputs, &input, &weights, Some(&bias)).map_err(err)?;
        Some(reference::max_relative_error(&output, &want))
    } else {
        None
    };
    let (isa, median, min, max) = (options.isa, timing.median_ms, timing.min_ms, timing.max_ms);
    let weight_gbps = 4.0 * (inputs * outputs) as f64 / (median * 1e6);
    let gflops = 2.0 * (batch * inputs * outputs) as f64 / (median * 1e6);
    if args.flag("--json") {
        let check = check.map_or(String::new(), |e| format!(",\"max_rel_err\":{e:.3e}"));
        println!(
            "{{\"op\":\"linear\",\"in\":{inputs},\"out\":{outputs},\"batch\":{batch},\"isa\":\"{isa}\",\"threads\":{threads},\"median_ms\":{median:.4},\"min_ms\":{min:.4},\"max_ms\":{max:.4},\"weight_gbytes_per_s\":{weight_gbps:.2},\"gflops\":{gflops:.2}{check}}}"
        );
    } else {
        let check = check.map_or(String::new(), |e| format!(", max rel err {e:.2e}"));
        println!(
            "linear {inputs} -> {outputs} batch {batch} isa={isa} threads={threads}: median {median:.4} ms (min {min:.4}, max {max:.4}), weights at {weight_gbps:.1} GB/s, {gflops:.1} GFLOP/s{check}"
        );
    }
    Ok(())
}
