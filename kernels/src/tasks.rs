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
