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
    fn more_threads_than_cpus_still_run_and_zero_is_an_error() {
        let threads = allowed_cpus().len() + 1;
        let pool = thread_pool(threads).unwrap();
        assert_eq!(pool.install(|| rayon::join(|| 1, || 2)), (1, 2));
        let err = thread_pool(0).unwrap_err().to_string();
        assert!(err.contains("threads") && err.contains('0'), "{err}");
    }
}
