//! `ferrocnn pool`: times a pooling plan's run (max or average windows, or global pooling),
//! reported in bytes moved (input read once, output written once): pooling is memory-bound.

use super::args::{Args, parse_dims};
use super::timing::{Budget, time};
use super::{pool, random_data};
use ferrocnn_kernels::ops::{GlobalPool2d, Pool2d};
use ferrocnn_kernels::{PlanOptions, Pool2dDesc, PoolKind, dispatch::active_isa, reference};

pub fn run(args: &Args) -> Result<(), String> {
    args.allow_only(&[
        "--input",
        "--kind",
        "--kernel",
        "--stride",
        "--pad",
        "--ceil",
        "--threads",
        "--iters",
        "--check",
        "--json",
    ])?;
    let input_dims = parse_dims("--input", args.required("--input")?, 4)?;
    let [n, c, h, w] = input_dims[..] else { unreachable!("parse_dims returns 4 dimensions") };
    let kind = args.str("--kind").unwrap_or("max");
    let (pool_kind, global) = match kind {
        "max" => (PoolKind::Max, false),
        "avg" => (PoolKind::Avg, false),
        "global-avg" => (PoolKind::Avg, true),
        "global-max" => (PoolKind::Max, true),
        other => return Err(format!("--kind: expected max, avg, global-avg or global-max, got `{other}`")),
    };
    // (kernel, stride, pad) of a windowed pool; none for a global one.
    let window = if global {
        if ["--kernel", "--stride", "--pad"].iter().any(|o| args.str(o).is_some()) {
            return Err(format!("--kind {kind}: the window is the whole plane; drop --kernel, --stride and --pad"));
        }
        None
    } else {
        let kernel = args.usize("--kernel")?;
        Some((kernel, args.usize_or("--stride", kernel)?, args.usize_or("--pad", 0)?))
    };
    let iters = args.usize_or("--iters", 10)?;
    let (thread_pool, threads) = pool(args)?;
    let options = PlanOptions { isa: active_isa(), threads };
    let err = |e: ferrocnn_kernels::Error| format!("pool: {e}");
    let (input_len, timing, output, want) = match window {
        None => {
            let plan = GlobalPool2d::new(pool_kind, n, c, h * w, options).map_err(err)?;
            // The plan checked that N*C*H*W fits.
            let len = n * c * h * w;
            super::check_memory("pool", 2 * len as u128)?;
            let input = random_data(len, 1);
            let mut output = vec![0.0f32; n * c];
            let timing = thread_pool.install(|| {
                time(Budget::Runs(iters), || plan.run(&input, &mut output).expect("lengths from the plan"))
            });
            let check = args.flag("--check");
            let want =
                check.then(|| reference::global_pool2d(pool_kind, n, c, h * w, &input)).transpose().map_err(err)?;
            (len, timing, output, want)
        }
        Some((kernel, stride, pad)) => {
            let desc =
                Pool2dDesc::new(pool_kind, n, c, (h, w), kernel).stride(stride).pad(pad).ceil_mode(args.flag("--ceil"));
            let plan = Pool2d::new(&desc, options).map_err(err)?;
            let shape = *plan.shape();
            super::check_memory("pool", 2 * shape.input_len as u128 + 2 * shape.output_len as u128)?;
            let input = random_data(shape.input_len, 1);
            let mut output = vec![0.0f32; shape.output_len];
            let mut scratch = vec![0.0f32; plan.scratch_len()];
            let timing = thread_pool.install(|| {
                time(Budget::Runs(iters), || {
                    plan.run(&input, &mut output, &mut scratch).expect("lengths from the plan")
                })
            });
            let want = args.flag("--check").then(|| reference::pool2d(&desc, &input)).transpose().map_err(err)?;
            (shape.input_len, timing, output, want)
        }
    };
    let check = want.map(|want| reference::max_relative_error(&output, &want));
    let gbps = 4.0 * (input_len + output.len()) as f64 / (timing.median_ms * 1e6);
    let (isa, median, min, max) = (options.isa, timing.median_ms, timing.min_ms, timing.max_ms);
    let window = window.map_or(String::new(), |(kernel, stride, pad)| format!(" {kernel} s{stride} p{pad}"));
    if args.flag("--json") {
        let check = check.map_or(String::new(), |e| format!(",\"max_rel_err\":{e:.3e}"));
        println!(
            "{{\"op\":\"pool\",\"input\":\"{n}x{c}x{h}x{w}\",\"kind\":\"{kind}\",\"window\":\"{}\",\"isa\":\"{isa}\",\"threads\":{threads},\"median_ms\":{median:.4},\"min_ms\":{min:.4},\"max_ms\":{max:.4},\"gbytes_per_s\":{gbps:.2}{check}}}",
            window.trim()
        );
    } else {
        let check = check.map_or(String::new(), |e| format!(", max rel err {e:.2e}"));
        println!(
            "pool {kind}{window} {n}x{c}x{h}x{w} -> {} floats isa={isa} threads={threads}: median {median:.4} ms (min {min:.4}, max {max:.4}), {gbps:.1} GB/s moved{check}",
            output.len()
        );
    }
    Ok(())
}
