//! Wall-clock timing for the `ferrocnn` commands: warm up, then time each run.

use std::time::{Duration, Instant};

/// Median, min and max of timed runs, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub iters: usize,
}

/// Runs `f` until about 0.3 s or 3 runs have passed as warm-up (caches, page faults, the
/// thread pool spinning up), then `iters` timed runs.
pub fn time<F: FnMut()>(iters: usize, mut f: F) -> Timing {
    let warm = Instant::now();
    let mut warm_runs = 0;
    while warm_runs < 3 || (warm.elapsed() < Duration::from_millis(300) && warm_runs < 1000) {
        f();
        warm_runs += 1;
    }
    let mut ms: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let mid = ms.len() / 2;
    let median_ms = if ms.len() % 2 == 1 { ms[mid] } else { (ms[mid - 1] + ms[mid]) / 2.0 };
    Timing { median_ms, min_ms: ms[0], max_ms: ms[ms.len() - 1], iters: ms.len() }
}
