//! How finely work is cut for rayon.
//!
//! Every parallel loop over planes, rows or chunks asks rayon for tasks of at least
//! [`MIN_TASK_FLOATS`] floats, so small layers do not pay more in task overhead than they
//! do in work. Rayon splits adaptively above that floor, so the value only matters for
//! small inputs. It is a chosen floor (a few microseconds of memory-bound work), not a
//! tuned one.

/// The least work, in floats touched, worth a rayon task.
pub(crate) const MIN_TASK_FLOATS: usize = 16384;

/// Units of `unit_len` floats per task: at least one.
pub(crate) fn units_per_task(unit_len: usize) -> usize {
    (MIN_TASK_FLOATS / unit_len.max(1)).max(1)
}

/// How much later than the thread that splits a loop the thread that steals the other half
/// starts on it, in nanoseconds: the steal, then the first touches of what the job reads,
/// another core's lines. The first band is made longer by half of it and the other shorter,
/// so that both end together.
///
/// Measured on 2 threads, the first band `lead` planes longer, three interleaved rounds,
/// median us (`ferrocnn conv --input 1xCxHxW --out-channels C --kernel 3 --pad 1 --groups
/// C --iters 5000`; `ferrocnn pool --input 1x2048x7x7 --kind global-avg --iters 5000`):
///
/// | layer | 1 thread | lead 0 | best lead | 2 threads then |
/// |---|---|---|---|---|
/// | depthwise 960x7x7 | 10.1 | 6.1-6.3 | 32-48 | 5.6-5.9 |
/// | depthwise 576x14x14 | 21.7 | 12.0-12.4 | 16 | 11.6 |
/// | global average 2048x7x7 (one plane at a time then) | 5.4 | 3.8-4.2 | 200 | 3.4 |
///
/// Each best lead is 0.5-0.6 us of the kernel's work, so the other thread starts about
/// 1 us late.
const HEAD_START_NS: usize = 1000;

/// The planes the first band takes beyond an even share: half the head start's worth of
/// planes that touch `touched` floats each (input and output) at `floats_per_ns` (the
/// kernel's one-thread speed), to the nearest multiple of `group`, the planes the kernel
/// takes together (`ChannelLanes`'s vector of channels).
pub(crate) fn head_start_planes(touched: usize, floats_per_ns: usize, group: usize) -> usize {
    let (planes, group) = (HEAD_START_NS / 2 * floats_per_ns / touched.max(1), group.max(1));
    (planes + group / 2) / group * group
}

/// Runs `f(first_plane, band, buffer)` in parallel on one band of consecutive whole planes
/// (of `plane_len` floats) of `output` per thread, each band with its own `per_thread`
/// floats of `scratch` (none when `per_thread` is 0): the per-plane kernels that copy a
/// plane into a padded buffer first (depthwise, pooling) keep that buffer's border across
/// the band's planes. The calling thread's band, the first, is `lead` planes longer than
/// an even share, for the others' later start (`head_start_planes`). `scratch` must hold
/// `threads * per_thread` floats.
pub(crate) fn plane_bands<F>(
    output: &mut [f32],
    plane_len: usize,
    threads: usize,
    scratch: &mut [f32],
    per_thread: usize,
    lead: usize,
    f: F,
) where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    use rayon::prelude::*;
    let (plane_len, threads) = (plane_len.max(1), threads.max(1));
    let planes = output.len() / plane_len;
    if planes == 0 {
        return;
    }
    // On one thread the even share is every plane already.
    let first = (planes.div_ceil(threads) + lead).min(planes);
    let (head, tail) = output.split_at_mut(first * plane_len);
    let (head_buffer, tail_buffers) = scratch[..threads * per_thread].split_at_mut(per_thread);
    if tail.is_empty() {
        f(0, head, head_buffer);
        return;
    }
    // The other threads share the rest evenly. `join` runs its first closure on this
    // thread and leaves the second to be stolen.
    let per_band = (planes - first).div_ceil(threads - 1).max(1);
    let bands = tail.par_chunks_mut(per_band * plane_len).enumerate();
    rayon::join(
        || f(0, head, head_buffer),
        || {
            let band = |(i, band): (usize, &mut [f32]), buffer: &mut [f32]| f(first + i * per_band, band, buffer);
            if per_thread == 0 {
                bands.for_each(|b| band(b, &mut []));
            } else {
                bands.zip(tail_buffers.par_chunks_mut(per_thread)).for_each(|(b, buffer)| band(b, buffer));
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Every plane in exactly one band, each band told its first plane and given a buffer
    /// of its own, the first band `lead` longer than an even share where there is enough.
    #[test]
    fn bands_cover_every_plane_once() {
        for threads in 1..=4 {
            let pool = crate::thread_pool(threads).unwrap();
            for planes in [0, 1, 2, 3, 7, 16, 33, 960] {
                for lead in [0, 1, 16, 48, 2000] {
                    let plane_len = 3;
                    let mut output = vec![0.0f32; planes * plane_len];
                    let per_thread = 2;
                    let mut scratch = vec![0.0f32; threads * per_thread];
                    let seen = Mutex::new(Vec::new());
                    pool.install(|| {
                        plane_bands(
                            &mut output,
                            plane_len,
                            threads,
                            &mut scratch,
                            per_thread,
                            lead,
                            |first, band, buffer| {
                                assert_eq!(buffer.len(), per_thread);
                                buffer.fill(1.0);
                                for (i, plane) in band.chunks_exact_mut(plane_len).enumerate() {
                                    plane.fill((first + i) as f32 + plane[0]);
                                }
                                seen.lock().unwrap().push((first, band.len() / plane_len));
                            },
                        )
                    });
                    let expected: Vec<f32> = (0..planes).flat_map(|p| [p as f32; 3]).collect();
                    assert_eq!(output, expected, "{planes} planes, {threads} threads, lead {lead}");
                    let mut bands = seen.into_inner().unwrap();
                    bands.sort();
                    assert!(bands.len() <= threads);
                    if let Some(&(0, head)) = bands.first() {
                        let even = planes.div_ceil(threads);
                        let want = if threads > 1 { (even + lead).min(planes) } else { planes };
                        assert_eq!(head, want, "{planes} planes, {threads} threads, lead {lead}");
                    }
                    let used = scratch.iter().filter(|&&x| x == 1.0).count();
                    assert_eq!(used, bands.len() * per_thread, "each band a buffer of its own");
                }
            }
        }
    }

    #[test]
    fn head_start_is_whole_groups_of_planes() {
        // 98 floats a plane (7x7 in and out) at 10 a ns: 5000 / 98 = 51 planes, 48 in
        // groups of 16.
        assert_eq!(head_start_planes(98, 10, 16), 48);
        assert_eq!(head_start_planes(392, 10, 16), 16);
        assert_eq!(head_start_planes(392, 10, 1), 12);
        assert_eq!(head_start_planes(50, 22, 1), 220);
        assert_eq!(head_start_planes(6272, 10, 1), 0);
        assert_eq!(head_start_planes(0, 1, 0), HEAD_START_NS / 2);
    }
}
