//! Elementwise layers: activation, add (a residual outside a conv, with an activation),
//! channel scale (squeeze-and-excitation's excite step) and softmax over rows.
//!
//! All are memory-bound: one pass, vectors of the plan's ISA, chunks of at least 16K
//! elements per thread. Softmax is the stable form, exp(x - max) / sum, on the vectorised
//! `exp` of [`crate::arch::simd::Simd`] (within 2 ulp).

use crate::arch::simd::Simd;
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::Activation;
use crate::error::{Result, check_len, checked_product, invalid};
use crate::gemm::epilogue::activate;
use rayon::prelude::*;

/// Elements per rayon task.
const CHUNK: usize = crate::tasks::MIN_TASK_FLOATS;

/// `data[i] = act(data[i])`.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn activation_body<S: Simd>(act: Activation, data: &mut [f32]) {
    let whole = data.len() / S::LANES * S::LANES;
    // SAFETY: `S` is available; loads and stores stay inside `data[..whole]` and the tail.
    unsafe {
        for chunk in data[..whole].chunks_exact_mut(S::LANES) {
            S::store(chunk.as_mut_ptr(), activate::<S>(S::load(chunk.as_ptr()), act));
        }
        let tail = &mut data[whole..];
        if !tail.is_empty() {
            let v = activate::<S>(S::load_partial(tail.as_ptr(), tail.len()), act);
            S::store_partial(tail.as_mut_ptr(), tail.len(), v);
        }
    }
}

/// `out[i] = act(a[i] + b[i])`.
///
/// # Safety
/// `S` is available; the three slices have equal lengths.
#[inline(always)]
pub(crate) unsafe fn add_body<S: Simd>(act: Activation, a: &[f32], b: &[f32], out: &mut [f32]) {
    let (n, lanes) = (out.len(), S::LANES);
    let whole = n / lanes * lanes;
    // SAFETY: `S` is available; every offset is below `n`, the length of all three.
    unsafe {
        let mut i = 0;
        while i < whole {
            let v = S::add(S::load(a.as_ptr().add(i)), S::load(b.as_ptr().add(i)));
            S::store(out.as_mut_ptr().add(i), activate::<S>(v, act));
            i += lanes;
        }
        if whole < n {
            let t = n - whole;
            let v = S::add(S::load_partial(a.as_ptr().add(whole), t), S::load_partial(b.as_ptr().add(whole), t));
            S::store_partial(out.as_mut_ptr().add(whole), t, activate::<S>(v, act));
        }
    }
}

/// `plane *= scale` for one channel plane.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn scale_body<S: Simd>(plane: &mut [f32], scale: f32) {
    let whole = plane.len() / S::LANES * S::LANES;
    // SAFETY: `S` is available; accesses stay inside `plane`.
    unsafe {
        let s = S::splat(scale);
        for chunk in plane[..whole].chunks_exact_mut(S::LANES) {
            S::store(chunk.as_mut_ptr(), S::mul(S::load(chunk.as_ptr()), s));
        }
        for v in &mut plane[whole..] {
            *v *= scale;
        }
    }
}

/// Softmax of one row, in place: exp(x - max) / sum.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn softmax_body<S: Simd>(row: &mut [f32]) {
    let (n, lanes) = (row.len(), S::LANES);
    let whole = n / lanes * lanes;
    // SAFETY: `S` is available; accesses stay inside `row` (partial ops for the tail).
    unsafe {
        let mut m = S::splat(f32::NEG_INFINITY);
        for chunk in row[..whole].chunks_exact(lanes) {
            m = S::max(m, S::load(chunk.as_ptr()));
        }
        let max = row[whole..].iter().copied().fold(S::reduce_max(m), f32::max);
        let (mv, mut sum) = (S::splat(max), S::zero());
        for chunk in row[..whole].chunks_exact_mut(lanes) {
            let e = S::exp(S::sub(S::load(chunk.as_ptr()), mv));
            S::store(chunk.as_mut_ptr(), e);
            sum = S::add(sum, e);
        }
        let mut total = S::reduce_add(sum);
        if whole < n {
            let t = n - whole;
            let p = row.as_mut_ptr().add(whole);
            // Masked-off lanes load 0 and give e^(0 - max): not stored, not summed.
            let e = S::exp(S::sub(S::load_partial(p, t), mv));
            S::store_partial(p, t, e);
            total += row[whole..].iter().sum::<f32>();
        }
        let inv = S::splat(1.0 / total);
        for chunk in row[..whole].chunks_exact_mut(lanes) {
            S::store(chunk.as_mut_ptr(), S::mul(S::load(chunk.as_ptr()), inv));
        }
        for v in &mut row[whole..] {
            *v /= total;
        }
    }
}

/// An activation applied in place.
pub struct Activate {
    act: Activation,
    kernels: &'static KernelTable,
}

impl Activate {
    pub fn new(act: Activation, options: PlanOptions) -> Result<Self> {
        act.validate("activation")?;
        Ok(Activate { act, kernels: table(options.isa)? })
    }

    pub fn run(&self, data: &mut [f32]) {
        let (kernel, act) = (self.kernels.activation, self.act);
        // SAFETY: the table passed the CPU check.
        data.par_chunks_mut(CHUNK).for_each(|c| unsafe { kernel(act, c) });
    }
}

/// `out = act(a + b)`: a residual add outside a conv epilogue.
pub struct Add {
    act: Activation,
    kernels: &'static KernelTable,
}

impl Add {
    pub fn new(act: Activation, options: PlanOptions) -> Result<Self> {
        act.validate("add")?;
        Ok(Add { act, kernels: table(options.isa)? })
    }

    pub fn run(&self, a: &[f32], b: &[f32], out: &mut [f32]) -> Result<()> {
        check_len("b", b.len(), a.len())?;
        check_len("out", out.len(), a.len())?;
        let (kernel, act) = (self.kernels.add, self.act);
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            // SAFETY: the table passed the CPU check; the chunks have equal lengths.
            .for_each(|(o, (x, y))| unsafe { kernel(act, x, y, o) });
        Ok(())
    }
}

/// NCHW `data[n][c] *= scale[n][c]`: the excite step of squeeze-and-excitation.
pub struct ChannelScale {
    planes: usize,
    hw: usize,
    kernels: &'static KernelTable,
}

impl ChannelScale {
    pub fn new(batch: usize, channels: usize, hw: usize, options: PlanOptions) -> Result<Self> {
        if hw == 0 {
            return invalid!("channel_scale: `hw` is 0, the spatial size must be at least 1");
        }
        let planes = checked_product("channel_scale N*C", &[batch, channels])?;
        checked_product("channel_scale N*C*H*W", &[planes, hw])?;
        Ok(ChannelScale { planes, hw, kernels: table(options.isa)? })
    }

    pub fn run(&self, data: &mut [f32], scale: &[f32]) -> Result<()> {
        check_len("data", data.len(), self.planes * self.hw)?;
        check_len("scale", scale.len(), self.planes)?;
        let kernel = self.kernels.scale;
        data.par_chunks_mut(self.hw)
            .zip(scale.par_iter())
            .with_min_len(crate::tasks::units_per_task(self.hw))
            // SAFETY: the table passed the CPU check.
            .for_each(|(plane, &s)| unsafe { kernel(plane, s) });
        Ok(())
    }
}

/// Softmax over each row of `rows x cols`, in place.
pub struct Softmax {
    rows: usize,
    cols: usize,
    kernels: &'static KernelTable,
}

impl Softmax {
    pub fn new(rows: usize, cols: usize, options: PlanOptions) -> Result<Self> {
        if cols == 0 {
            return invalid!("softmax: `cols` is 0, it must be at least 1");
        }
        checked_product("softmax rows*cols", &[rows, cols])?;
        Ok(Softmax { rows, cols, kernels: table(options.isa)? })
    }

    pub fn run(&self, data: &mut [f32]) -> Result<()> {
        check_len("data", data.len(), self.rows * self.cols)?;
        let kernel = self.kernels.softmax;
        data.par_chunks_mut(self.cols)
            .with_min_len(crate::tasks::units_per_task(self.cols))
            // SAFETY: the table passed the CPU check.
            .for_each(|row| unsafe { kernel(row) });
        Ok(())
    }
}
