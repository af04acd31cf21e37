use super::args::Args;
use super::timing::{Budget, time};
use super::{pool, random_data};
use ferrocnn_kernels::{Epilogue, PlanOptions, dispatch::active_isa, sgemm};

pub fn run(args: &Args) -> Result<(), String> {
    args.allow_only(&["--m", "--n", "--k", "--threads", "--iters", "--json"])?;
    let (m, n, k) = (args.usize("--m")?, args.usize("--n")?, args.usize("--k")?);
    let iters = args.usize_or("--iters", 10)?;
    let (pool, threads) = pool(args)?;
    // A, B, C, and the packing scratch (at most A and B again).
    let (m2, n2, k2) = (m as u128, n as u128, k as u128);
    super::check_memory("gemm", 2 * (m2 * k2 + k2 * n2) + m2 * n2)?;
    let a = random_data(m * k, 1);
    let b = random_data(k * n, 2);
    let mut c = vec![0.0f32; m * n];
    let options = PlanOptions { isa: active_isa(), threads };
    let epilogue = Epilogue::new();
    // Validate once, outside the timing, so a bad shape is a clean error.
    sgemm(m, n, k, &a, &b, &mut c, &epilogue, None, options).map_err(|e| format!("gemm: {e}"))?;
    let timing = pool.install(|| {
        time(Budget::Runs(iters), || {
            sgemm(m, n, k, &a, &b, &mut c, &epilogue, None, options).expect("validated above");
        })
    });
    let gflops = 2.0 * m as f64 * n as f64 * k as f64 / (timing.median_ms * 1e6);
    if args.flag("--json") {
        println!(
            "{{\"op\":\"gemm\",\"m\":{m},\"n\":{n},\"k\":{k},\"isa\":\"{}\",\"threads\":{threads},\"algo\":\"packed-gemm\",\"median_ms\":{:.4},\"min_ms\":{:.4},\"max_ms\":{:.4},\"gflops\":{gflops:.2}}}",
            options.isa, timing.median_ms, timing.min_ms, timing.max_ms
        );
    } else {
        println!(
            "gemm {m}x{n}x{k} isa={} threads={threads}: median {:.3} ms (min {:.3}, max {:.3}, {} runs), {gflops:.1} GFLOP/s",
            options.isa, timing.median_ms, timing.min_ms, timing.max_ms, timing.iters
        );
    }
    Ok(())
}
