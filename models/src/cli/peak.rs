use super::args::Args;
use ferrocnn_kernels::dispatch::{active_isa, supported_isas};
use ferrocnn_kernels::peak::fma_peak_gflops;

/// `ferrocnn peak`: the FMA peak of each supported path on one thread, and of the active
/// path with `--threads` threads at once — the denominators of "% of peak".
pub fn run(args: &Args) -> Result<(), String> {
    args.allow_only(&["--threads", "--seconds", "--json"])?;
    let threads = args.usize_or("--threads", super::num_threads_default())?.max(1);
    let seconds = match args.str("--seconds") {
        None => 0.5,
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0 && *v <= 60.0)
            .ok_or_else(|| format!("--seconds: expected a number of seconds in (0, 60], got `{s}`"))?,
    };
    let err = |e: ferrocnn_kernels::Error| format!("peak: {e}");
    for isa in supported_isas() {
        let one = fma_peak_gflops(isa, seconds).map_err(err)?;
        let all = if isa == active_isa() && threads > 1 {
            let results: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads).map(|_| s.spawn(move || fma_peak_gflops(isa, seconds))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().map_err(|_| "peak: a measuring thread panicked".to_string()))
                    .collect()
            });
            let mut total = 0.0;
            for r in results {
                total += r?.map_err(err)?;
            }
            Some(total)
        } else {
            None
        };
        if args.flag("--json") {
            let all = all.map_or(String::new(), |g| format!(",\"threads\":{threads},\"gflops_all_threads\":{g:.1}"));
            println!("{{\"op\":\"peak\",\"isa\":\"{isa}\",\"gflops_per_core\":{one:.1}{all}}}");
        } else {
            let all = all.map_or(String::new(), |g| format!(", {g:.1} GFLOP/s on {threads} threads"));
            println!("peak {isa}: {one:.1} GFLOP/s on 1 thread{all}");
        }
    }
    Ok(())
}
