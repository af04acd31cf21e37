//! Wall-clock timing for the `ferrocnn` commands: warm up, then time each run, with a
//! progress bar on a terminal when the runs take more than a second.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Median, min and max of timed runs, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub iters: usize,
}

/// How long to time: a number of runs, or as many runs as fit in a time (at least one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    Runs(usize),
    Seconds(f64),
}

/// Below this expected duration no progress bar is drawn: it would only flicker.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Runs `f` until about 0.3 s or 3 runs have passed as warm-up (caches, page faults, the
/// thread pool spinning up), then times it for `budget`.
pub fn time<F: FnMut()>(budget: Budget, mut f: F) -> Timing {
    let warm = Instant::now();
    let mut warm_runs = 0;
    while warm_runs < 3 || (warm.elapsed() < Duration::from_millis(300) && warm_runs < 1000) {
        f();
        warm_runs += 1;
    }
    let per_run = warm.elapsed() / warm_runs;
    let progress = Progress::new(budget, per_run);
    let start = Instant::now();
    let mut ms = Vec::new();
    loop {
        let done = match budget {
            Budget::Runs(n) => ms.len() >= n.max(1),
            Budget::Seconds(s) => !ms.is_empty() && start.elapsed().as_secs_f64() >= s,
        };
        if done {
            break;
        }
        let t = Instant::now();
        f();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        progress.update(ms.len(), start.elapsed());
    }
    progress.finish();
    ms.sort_by(f64::total_cmp);
    let mid = ms.len() / 2;
    let median_ms = if ms.len() % 2 == 1 { ms[mid] } else { (ms[mid - 1] + ms[mid]) / 2.0 };
    Timing { median_ms, min_ms: ms[0], max_ms: ms[ms.len() - 1], iters: ms.len() }
}

/// A bar on stderr, only when stderr is a terminal and the timing is expected to take
/// longer than [`PROGRESS_AFTER`]; its unit is runs, or milliseconds for a time budget.
struct Progress {
    bar: Option<ProgressBar>,
    budget: Budget,
}

impl Progress {
    fn new(budget: Budget, per_run: Duration) -> Progress {
        let (expected, length, template) = match budget {
            Budget::Runs(n) => (per_run * n as u32, n as u64, "{bar:40} {pos}/{len} runs, {eta} left"),
            Budget::Seconds(s) => (Duration::from_secs_f64(s), (s * 1e3) as u64, "{bar:40} {pos}/{len} ms, {eta} left"),
        };
        let show = std::io::stderr().is_terminal() && expected > PROGRESS_AFTER;
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, budget }
    }

    fn update(&self, runs: usize, elapsed: Duration) {
        if let Some(bar) = &self.bar {
            bar.set_position(match self.budget {
                Budget::Runs(_) => runs as u64,
                Budget::Seconds(_) => elapsed.as_millis() as u64,
            });
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets() {
        let mut calls = 0;
        let t = time(Budget::Runs(5), || calls += 1);
        assert_eq!(t.iters, 5);
        assert!(calls >= 8, "3 warm-up runs at least, then 5 timed");
        assert!(t.min_ms <= t.median_ms && t.median_ms <= t.max_ms);
        let t = time(Budget::Seconds(0.05), || std::thread::sleep(Duration::from_millis(10)));
        // Each run sleeps at least 10 ms, so no more than 5 start within 50 ms.
        assert!((1..=5).contains(&t.iters), "{} runs of 10 ms in 50 ms", t.iters);
        let t = time(Budget::Seconds(0.0), || {});
        assert_eq!(t.iters, 1, "a time budget still times one run");
    }
}
