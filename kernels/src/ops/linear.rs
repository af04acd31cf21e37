//! Linear (fully connected) layers: y = act(x W^T + b), weights `[out, in]` as in PyTorch.
//!
//! At batch 1 the layer is a matrix-vector product, bound by reading W once (AlexNet's fc6:
//! 151 MB per inference): four rows of W at a time against one vector of x, threads over
//! bands of rows. At batch > 1 it is a GEMM with W read in place (no packed copy of weights
//! this large) and bias and activation fused; x and y are transposed through scratch, which
//! is small next to W.
//!
//! A W of at least half of L3 cannot stay cached from one inference to the next; read
//! plainly it pushes out what can (the rest of the model's weights and its activations).
//! The GEMV then asks for it ahead with non-temporal prefetches (`gemv_body`). That this
//! Zen 5 keeps such lines out of L3 is inferred from the effect (the VM exposes no cache
//! counters): AlexNet (fc6-fc8: 151, 67 and 16 MB; its convolutions' weights, about 25 MB,
//! fit the 32 MB L3), `ferrocnn bench alexnet`, before and after taking turns, 5 rounds,
//! medians: 1 thread 10.52 -> 9.51 ms, 2 threads 6.98 -> 6.52; with `--per-layer` the
//! convolutions ran 10-15% faster and the linear layers 3-5%. VGG-16, whose convolutions
//! outgrow L3 anyway, 1 thread unchanged, 2 threads 37.21 -> 37.17. The layer alone is
//! DRAM-bound either way (`ferrocnn linear --in 9216 --out 4096`, 3.48-3.50 -> 3.32-3.48 ms
//! on 1 thread). The half-of-L3 line: streaming every GEMV (a build that did) took
//! MobileNetV2, whose 14 MB of weights all fit L3, from 3.46 to 3.49 ms; its 5 MB
//! classifier and ResNet-50's 8 MB one read plainly (ResNet-50 30.36 -> 30.31).

use crate::aligned::{ALIGN, ALIGN_FLOATS, align_scratch, round_up};
use crate::arch::simd::Simd;
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::{Activation, Epilogue};
use crate::error::{Result, check_len, checked_product, invalid};
use crate::gemm::{InPlaceGemm, cache_sizes};
use rayon::prelude::*;

/// Rows of W per pass over x.
const ROWS: usize = 4;

/// How far ahead in each row a streaming GEMV asks for W: 1 KiB. AlexNet, 1 thread,
/// medians of 3 interleaved rounds of `ferrocnn bench alexnet` (a build streaming every
/// GEMV): none 10.72 ms, 128 floats 10.06, 256 10.00, 512 11.22.
const STREAM_AHEAD: usize = 256;

/// Asks for the line at `p` as data used once: a non-temporal prefetch, whose line this
/// Zen 5, by its effect on AlexNet (module doc), does not keep in L3 when it leaves L2.
#[inline(always)]
fn prefetch_once(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::*;
        _mm_prefetch::<_MM_HINT_NTA>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// `y[r] = act(dot(w[r], x) + bias[r])` for the rows of `w` (each `x.len()` long);
/// `stream`: W is read once per use and too large to keep, so it is fetched ahead as
/// non-temporal (see the module doc).
///
/// # Safety
/// `S` is available; `w.len() == y.len() * x.len()`; `bias`, when not empty, has `y.len()`.
#[inline(always)]
pub(crate) unsafe fn gemv_body<S: Simd>(
    w: &[f32],
    x: &[f32],
    bias: &[f32],
    act: Activation,
    stream: bool,
    y: &mut [f32],
) {
    let (k, lanes) = (x.len(), S::LANES);
    let whole = k / lanes * lanes;
    let finish = |r: usize, dot: f32| act.apply(dot + if bias.is_empty() { 0.0 } else { bias[r] });
    let mut r = 0;
    // SAFETY: `S` is available; every load is inside row r..r+ROWS of `w` or inside `x`
    // (the prefetches may point past them, which is harmless).
    unsafe {
        while r + ROWS <= y.len() {
            let mut acc = [S::zero(); ROWS];
            let rows: [*const f32; ROWS] = std::array::from_fn(|j| w[(r + j) * k..].as_ptr());
            let mut i = 0;
            while i < whole {
                if stream && i.is_multiple_of(ALIGN_FLOATS) {
                    for row in rows {
                        prefetch_once(row.wrapping_add(i + STREAM_AHEAD));
                    }
                }
                let xv = S::load(x.as_ptr().add(i));
                for j in 0..ROWS {
                    acc[j] = S::mul_add(S::load(rows[j].add(i)), xv, acc[j]);
                }
                i += lanes;
            }
            for j in 0..ROWS {
                let tail: f32 = (whole..k).map(|i| *rows[j].add(i) * x[i]).sum();
                y[r + j] = finish(r + j, S::reduce_add(acc[j]) + tail);
            }
            r += ROWS;
        }
    }
    for (j, out) in y.iter_mut().enumerate().skip(r) {
        *out = finish(j, w[j * k..(j + 1) * k].iter().zip(x).map(|(a, b)| a * b).sum());
    }
}

/// Moves `v`'s floats up to the first 64-byte boundary within it, growing it by at most
/// 15 floats; returns where they start. A GEMV on rows a multiple of 16 floats long then
/// loads whole cache lines: straight from a `Vec` (16-byte aligned), 1 thread, medians of
/// 5 interleaved rounds (`ferrocnn linear --in K --out N --iters 200`), 2048 -> 1000 ran
/// 0.0774 -> 0.0898 ms and 1280 -> 1000 0.0497 -> 0.0557. Growing a large allocation in
/// place (glibc's `mremap`) does not copy it, where an aligned copy would hold it twice.
fn aligned_in_place(v: &mut Vec<f32>) -> usize {
    let len = v.len();
    v.reserve_exact(ALIGN_FLOATS - 1);
    let offset = v.as_ptr().align_offset(ALIGN).min(ALIGN_FLOATS - 1);
    v.resize(len + offset, 0.0);
    v.copy_within(0..len, offset);
    offset
}

/// A linear layer, planned once.
pub struct Linear {
    in_features: usize,
    out_features: usize,
    /// The weights from float `offset` of `storage`, moved there so that they start on a
    /// 64-byte boundary (`aligned_in_place`).
    storage: Vec<f32>,
    offset: usize,
    kernels: &'static KernelTable,
    /// Batch > 1: C (out x batch) = W X^T with bias and activation fused, built once (its
    /// family chosen for a batch of 64; the split and scratch follow each run's batch).
    /// Its epilogue is also the batch-1 GEMV's: the one copy of the bias and activation.
    gemm: InPlaceGemm,
    /// The batch-1 GEMV streams W past L3 (`gemv_body`).
    stream: bool,
}

impl Linear {
    /// `weights`: `[out_features, in_features]`; `bias`: `out_features` or none. The plan
    /// holds a copy of `weights`; [`Linear::from_vec`] takes them without one.
    pub fn new(
        in_features: usize,
        out_features: usize,
        weights: &[f32],
        bias: Option<&[f32]>,
        activation: Activation,
        options: PlanOptions,
    ) -> Result<Self> {
        Linear::from_vec(in_features, out_features, weights.to_vec(), bias, activation, options)
    }

    /// [`Linear::new`] on weights the plan takes over: a model's largest layer (VGG-16's
    /// fc6, 411 MB) is not held twice while the model is built.
    pub fn from_vec(
        in_features: usize,
        out_features: usize,
        mut weights: Vec<f32>,
        bias: Option<&[f32]>,
        activation: Activation,
        options: PlanOptions,
    ) -> Result<Self> {
        if in_features == 0 || out_features == 0 {
            return invalid!(
                "linear: `in_features` {in_features} and `out_features` {out_features} must be at least 1"
            );
        }
        check_len("weights", weights.len(), checked_product("linear weights", &[out_features, in_features])?)?;
        if let Some(b) = bias {
            check_len("bias", b.len(), out_features)?;
        }
        let mut epilogue = Epilogue::new().activation(activation);
        if let Some(b) = bias {
            epilogue = epilogue.shift(b.to_vec());
        }
        epilogue.validate(out_features)?;
        let gemm = InPlaceGemm::new(out_features, in_features, &epilogue, options, 64)?;
        let offset = aligned_in_place(&mut weights);
        let stream = size_of::<f32>() * in_features * out_features >= cache_sizes().l3 / 2;
        Ok(Linear { in_features, out_features, storage: weights, offset, kernels: table(options.isa)?, gemm, stream })
    }

    fn weights(&self) -> &[f32] {
        &self.storage[self.offset..self.offset + self.in_features * self.out_features]
    }

    /// Floats of scratch `run` needs for `batch` rows (none at batch 1).
    pub fn scratch_len(&self, batch: usize) -> Result<usize> {
        if batch <= 1 {
            return Ok(0);
        }
        let xt = round_up(checked_product("linear x^T", &[self.in_features, batch])?);
        let ct = round_up(checked_product("linear y^T", &[self.out_features, batch])?);
        Ok(ALIGN_FLOATS + xt + ct + self.gemm.scratch_len(batch))
    }

    /// `output` (batch x out) = act(`input` (batch x in) W^T + b).
    pub fn run(&self, batch: usize, input: &[f32], output: &mut [f32], scratch: &mut [f32]) -> Result<()> {
        if batch == 0 {
            return invalid!("linear: `batch` is 0, it must be at least 1");
        }
        let (k, m) = (self.in_features, self.out_features);
        check_len("input", input.len(), checked_product("linear input", &[batch, k])?)?;
        check_len("output", output.len(), checked_product("linear output", &[batch, m])?)?;
        if batch == 1 {
            // The GEMM's epilogue holds the bias (as its shift) and the activation.
            let e = self.gemm.epilogue();
            let (kernel, act, w, bias) = (self.kernels.gemv, e.activation(), self.weights(), e.shift().unwrap_or(&[]));
            let stream = self.stream;
            // Bands of whole ROWS-row groups, at least a task's worth of weights each.
            let rows_per_task = crate::tasks::units_per_task(k).div_ceil(ROWS) * ROWS;
            output.par_chunks_mut(rows_per_task).enumerate().for_each(|(t, y)| {
                let first = t * rows_per_task;
                let b = if bias.is_empty() { bias } else { &bias[first..first + y.len()] };
                // SAFETY: the table passed the CPU check; the band of W matches `y`.
                unsafe { kernel(&w[first * k..(first + y.len()) * k], input, b, act, stream, y) }
            });
            return Ok(());
        }
        let needed = self.scratch_len(batch)?;
        if scratch.len() < needed {
            return invalid!("linear: `scratch` has {} floats, batch {batch} needs {needed}", scratch.len());
        }
        let scratch = align_scratch(scratch);
        let (xt, rest) = scratch.split_at_mut(round_up(k * batch));
        let (ct, rest) = rest.split_at_mut(round_up(m * batch));
        let (xt, ct) = (&mut xt[..k * batch], &mut ct[..m * batch]);
        for (b, row) in input.chunks_exact(k).enumerate() {
            for (i, &v) in row.iter().enumerate() {
                xt[i * batch + b] = v;
            }
        }
        self.gemm.run(self.weights(), batch, xt, None, ct, rest)?;
        for (o, row) in ct.chunks_exact(batch).enumerate() {
            for (b, &v) in row.iter().enumerate() {
                output[b * m + o] = v;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// Streaming only changes how W is fetched: the same floats come out, on every path.
    #[test]
    fn streaming_gemv_equals_the_plain_one() {
        let (rows, k) = (37, 301);
        let w: Vec<f32> = (0..rows * k).map(|i| ((i * 7919) % 23) as f32 * 0.25 - 2.5).collect();
        let x: Vec<f32> = (0..k).map(|i| ((i * 104_729) % 17) as f32 * 0.5 - 4.0).collect();
        let bias: Vec<f32> = (0..rows).map(|r| r as f32 - 18.0).collect();
        for isa in crate::dispatch::supported_isas() {
            let gemv = crate::dispatch::table(isa).unwrap().gemv;
            let [mut plain, mut streamed] = [vec![f32::NAN; rows], vec![f32::NAN; rows]];
            // SAFETY: the table passed the CPU check; `w` holds `rows` rows of `k`.
            unsafe {
                gemv(&w, &x, &bias, crate::Activation::Relu, false, &mut plain);
                gemv(&w, &x, &bias, crate::Activation::Relu, true, &mut streamed);
            }
            assert!(plain.iter().all(|v| v.is_finite()), "{isa}");
            assert_eq!(plain, streamed, "{isa}");
        }
    }

    /// The floats keep their order and values and start on a 64-byte boundary, whatever
    /// the allocation's own alignment and length.
    #[test]
    fn aligned_in_place_moves_the_floats_to_a_boundary() {
        for len in [0usize, 1, 15, 16, 17, 1000, 1 << 20] {
            let want: Vec<f32> = (0..len).map(|i| i as f32).collect();
            let mut v = want.clone();
            let offset = super::aligned_in_place(&mut v);
            assert!(offset < super::ALIGN_FLOATS, "len {len}: offset {offset}");
            assert_eq!(&v[offset..offset + len], &want[..], "len {len}");
            assert!(v[offset..].as_ptr().cast::<u8>().addr().is_multiple_of(super::ALIGN), "len {len}");
        }
    }
}
