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

/// Runs `f(first_plane, band, buffer)` in parallel on one band of consecutive whole planes
/// (of `plane_len` floats) of `output` per thread, each band with its own `per_thread`
/// floats of `scratch` (none when `per_thread` is 0): the per-plane kernels that copy a
/// plane into a padded buffer first (depthwise, pooling) keep that buffer's border across
/// the band's planes. `scratch` must hold `threads * per_thread` floats.
pub(crate) fn plane_bands<F>(
    output: &mut [f32],
    plane_len: usize,
    threads: usize,
    scratch: &mut [f32],
    per_thread: usize,
    f: F,
) where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    use rayon::prelude::*;
    let per_band = (output.len() / plane_len.max(1)).div_ceil(threads.max(1)).max(1);
    let bands = output.par_chunks_mut(per_band * plane_len.max(1)).enumerate();
    if per_thread == 0 {
        bands.for_each(|(band, planes)| f(band * per_band, planes, &mut []));
    } else {
        let buffers = scratch[..threads * per_thread].par_chunks_mut(per_thread);
        bands.zip(buffers).for_each(|((band, planes), buffer)| f(band * per_band, planes, buffer));
    }
}
