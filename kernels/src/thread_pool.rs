//! The pool plans run on: rayon's, with each worker bound to a CPU of its own.
//!
//! Unbound, the two workers of a 2-thread pool on this 2-core KVM guest often ran a whole
//! benchmark at its 1-thread time: the second worker took its share too late or not at all.
//! Binding makes that rarer, though not gone (the host decides the rest). Measured with
//! `ferrocnn conv --input 1x960x7x7 --out-channels 960 --kernel 3 --pad 1 --groups 960
//! --threads 2 --iters 3000` (1 thread: 0.029 ms), unbound and bound binaries taking turns,
//! two sets of ten: the median was 0.015-0.018 ms in 3 and 1 of the unbound runs and in 9
//! and 7 of the bound ones; every other run was at 0.029-0.030. OpenMP runtimes bind for the
//! same reason (`OMP_PROC_BIND`).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A rayon pool of `threads` workers. On Linux, when `threads` is at most the number of
/// CPUs this process may run on, worker `i` is bound to the `i`-th of them; with more
/// threads than CPUs, or elsewhere, the workers are left to the scheduler.
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    if threads == 0 {
        return Err(Error::InvalidArgument("threads: must be at least 1, got 0".into()));
    }
    let cpus = allowed_cpus();
    let bind = cpus.len() >= threads;
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(move |worker| {
            if bind {
                bind_current_thread(cpus[worker]);
            }
        })
        .build()
        .map_err(|e| Error::Unsupported(format!("threads: cannot start {threads} threads: {e}")))
}

/// Runs `f` on the current rayon pool with the pool's other workers kept looking for work
/// until it returns, instead of falling asleep: for a sequence of parallel kernels, such as
/// a network's layers, run from one worker.
///
/// A rayon worker that finds no work yields for a few rounds and then sleeps, and on this
/// KVM guest a sleeping worker took about 6.5 us to start on a job handed to it, against
/// 0.3 us while it was still looking (a join of two 5 us halves, 20,000 times, with a gap
/// of one thread's work between joins: median 11.7 us with a 100 us gap, 10.2 with 20, 5.5
/// with none; 5.5 with the workers kept looking, whatever the gap). A layer's imbalance,
/// or a step that runs on one thread, is gap enough. Whole networks on 2 threads
/// (`ferrocnn bench`, the two ways taking turns, 5 rounds, medians, ms): MobileNetV2 2.00
/// -> 1.94, ResNet-18 6.16 -> 6.07, GoogLeNet 5.59 -> 5.51, ResNet-50 16.81 -> 16.71,
/// AlexNet 7.63 -> 7.55, VGG-16 39.45 -> 38.26; in one earlier round, while the host was
/// slow to wake a vCPU, GoogLeNet 9.21 -> 5.70.
///
/// The others run a helper job beside `f` (a join, so no allocation) that takes pending
/// work (`rayon::yield_now`) until `f` returns, or until it has found none for 5 ms
/// (`HELPER_PATIENCE`). The limit matters where a helper job is taken by a worker that
/// is itself waiting inside other work, for instance when `f` runs inside an outer
/// parallel loop: what that worker waits for cannot go on until the helper returns.
pub fn with_workers_kept_busy<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let helpers = rayon::current_num_threads().saturating_sub(1);
    if helpers == 0 {
        return f();
    }
    let done = AtomicBool::new(false);
    let driver = AtomicUsize::new(usize::MAX);
    let (result, ()) = rayon::join(
        || {
            driver.store(rayon::current_thread_index().unwrap_or(usize::MAX), Ordering::Release);
            let result = f();
            done.store(true, Ordering::Release);
            result
        },
        || look_for_work(&done, &driver, helpers),
    );
    result
}

/// How long a helper of [`with_workers_kept_busy`] goes on looking without finding work.
/// The gaps inside a pass are longer than the gaps between steps: the workers of a Winograd
/// layer take their blocks round robin, so one waits out the other's last block. The
/// longest a helper waited for a job in a 2-thread pass (`ferrocnn bench MODEL --threads
/// 2`, an instrumented build): MobileNetV2 71 us, ResNet-18 101, GoogLeNet 121, AlexNet
/// 123, ResNet-50 153-1685, VGG-16 1866. At 200 us the helper gave up in every VGG-16
/// pass and in some of ResNet-50's and Xception's, and the rest of the pass woke a
/// sleeping worker per step again: 5 interleaved rounds, 2 threads, 200 us against 5 ms,
/// VGG-16 38.55 / 37.89 ms, ResNet-50 17.17 / 16.88, the others within 1%. It is also the
/// longest a helper taken where it blocks other work (see there) holds that work up.
const HELPER_PATIENCE: Duration = Duration::from_millis(5);

/// `helpers` workers each taking pending jobs until `done` or until they have found none
/// for `HELPER_PATIENCE`; none on the thread that runs the driver (`driver`), which took
/// this job while waiting inside `f` and would otherwise wait on itself.
fn look_for_work(done: &AtomicBool, driver: &AtomicUsize, helpers: usize) {
    if helpers > 1 {
        rayon::join(|| look_for_work(done, driver, 1), || look_for_work(done, driver, helpers - 1));
        return;
    }
    if rayon::current_thread_index() == Some(driver.load(Ordering::Acquire)) {
        return;
    }
    let mut found = Instant::now();
    while !done.load(Ordering::Acquire) {
        // No pause between looks: 16 `spin_loop` hints made a helper start on a job 0.31 us
        // after it was pushed against 0.13 us without (64: 1.3 us), and whole networks did
        // not move either way (2 threads, 5 interleaved rounds).
        if rayon::yield_now() == Some(rayon::Yield::Executed) {
            found = Instant::now();
        } else if found.elapsed() > HELPER_PATIENCE {
            return;
        }
    }
}

/// The CPUs the calling thread may run on, in increasing order.
#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is a plain bit array, valid when zeroed; sched_getaffinity writes at
    // most `size_of::<cpu_set_t>()` bytes into it, and CPU_ISSET reads below
    // CPU_SETSIZE (the set's capacity).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect()
    }
}

#[cfg(not(target_os = "linux"))]
fn allowed_cpus() -> Vec<usize> {
    Vec::new()
}

/// Binds the calling thread to `cpu`; a failure leaves it unbound, which is only slower.
#[cfg(target_os = "linux")]
fn bind_current_thread(cpu: usize) {
    // SAFETY: as above; `cpu` came from sched_getaffinity, so it is below CPU_SETSIZE, and
    // pid 0 names the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[cfg(not(target_os = "linux"))]
fn bind_current_thread(_cpu: usize) {}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn workers_run_on_distinct_allowed_cpus_when_they_fit() {
        let cpus = allowed_cpus();
        let threads = cpus.len().clamp(1, 4);
        let pool = thread_pool(threads).unwrap();
        assert_eq!(pool.current_num_threads(), threads);
        // Each worker's own affinity: one CPU when bound, every allowed one when not.
        let per_worker = pool.broadcast(|_| allowed_cpus());
        if cfg!(target_os = "linux") && cpus.len() >= threads {
            assert!(per_worker.iter().all(|set| set.len() == 1), "each worker bound to one CPU: {per_worker:?}");
            let mut seen: Vec<usize> = per_worker.iter().map(|set| set[0]).collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), threads, "no two workers on one CPU: {per_worker:?}");
            assert!(seen.iter().all(|c| cpus.contains(c)));
        }
    }

    #[test]
    fn kept_busy_returns_the_result_on_any_pool() {
        let work = || (0..1000u64).into_par_iter().map(|i| i * i).sum::<u64>();
        let expected: u64 = (0..1000u64).map(|i| i * i).sum();
        for threads in [1, 2, 3, 5] {
            let pool = thread_pool(threads).unwrap();
            // From inside the pool, and from outside it (the global pool).
            assert_eq!(pool.install(|| with_workers_kept_busy(work)), expected, "{threads} threads");
            assert_eq!(pool.install(|| with_workers_kept_busy(|| with_workers_kept_busy(work))), expected);
        }
        assert_eq!(with_workers_kept_busy(work), expected);
    }

    #[test]
    fn kept_busy_nested_in_a_parallel_loop_gives_the_sums_and_ends() {
        // Every item drives its own kept-busy pass while the other workers run items too,
        // so helpers are taken by workers busy with other items. The cycle the patience
        // limit breaks (a helper taken by a worker waiting inside work its driver needs)
        // depends on steal timing and is not forced here; this checks that such nesting
        // gives the right sums and ends.
        for threads in [2, 3] {
            let pool = thread_pool(threads).unwrap();
            let sums: Vec<u64> = pool.install(|| {
                (0..16u64)
                    .into_par_iter()
                    .map(|i| {
                        with_workers_kept_busy(|| {
                            (0..64u64).into_par_iter().map(|j| (0..200u64).map(|k| i * j + k).sum::<u64>()).sum()
                        })
                    })
                    .collect()
            });
            let expected: Vec<u64> =
                (0..16u64).map(|i| (0..64u64).map(|j| (0..200u64).map(|k| i * j + k).sum::<u64>()).sum()).collect();
            assert_eq!(sums, expected, "{threads} threads");
        }
    }

    #[test]
    fn more_threads_than_cpus_still_run_and_zero_is_an_error() {
        let threads = allowed_cpus().len() + 1;
        let pool = thread_pool(threads).unwrap();
        assert_eq!(pool.install(|| rayon::join(|| 1, || 2)), (1, 2));
        let err = thread_pool(0).unwrap_err().to_string();
        assert!(err.contains("threads") && err.contains('0'), "{err}");
    }
}
