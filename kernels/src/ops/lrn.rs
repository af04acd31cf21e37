//! Local response normalisation across channels (AlexNet, GoogLeNet), PyTorch's
//! `LocalResponseNorm(size, alpha, beta, k)`:
//!
//! ```text
//! b[c] = a[c] / (k + alpha/size * sum of a[j]^2 for j in c - size/2 ..= c + (size-1)/2)^beta
//! ```
//!
//! Vectorised across pixels. For beta = 0.75, the value both networks use, d^-beta is
//! 1 / (sqrt(d) * sqrt(sqrt(d))): correctly rounded square roots, within a few ulp. Other
//! betas take `powf` per element.

use crate::arch::simd::Simd;
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::error::{Result, check_len, checked_product, invalid};
use rayon::prelude::*;

/// The parameters the kernel reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LrnParams {
    size: usize,
    alpha_over_size: f32,
    beta: f32,
    k: f32,
}

/// Output channel `c` of one image: `image` is C x HW, `out` HW.
///
/// # Safety
/// `S` is available; `image.len() == channels * out.len()`.
#[inline(always)]
pub(crate) unsafe fn lrn_channel<S: Simd>(p: &LrnParams, image: &[f32], channels: usize, c: usize, out: &mut [f32]) {
    let hw = out.len();
    let (lo, hi) = (c.saturating_sub(p.size / 2), (c + (p.size - 1) / 2).min(channels - 1));
    let normalised = |x: f32, sum: f32| (p.k + p.alpha_over_size * sum).powf(p.beta).recip() * x;
    let whole = if p.beta == 0.75 { hw / S::LANES * S::LANES } else { 0 };
    // SAFETY: `S` is available; loads read planes lo..=hi < channels at offsets < hw.
    unsafe {
        let (k, a) = (S::splat(p.k), S::splat(p.alpha_over_size));
        let mut i = 0;
        while i < whole {
            let mut sum = S::zero();
            for j in lo..=hi {
                let v = S::load(image.as_ptr().add(j * hw + i));
                sum = S::mul_add(v, v, sum);
            }
            let d = S::mul_add(a, sum, k);
            let r = S::sqrt(d);
            let scale = S::div(S::splat(1.0), S::mul(r, S::sqrt(r)));
            S::store(out.as_mut_ptr().add(i), S::mul(S::load(image.as_ptr().add(c * hw + i)), scale));
            i += S::LANES;
        }
    }
    for (q, o) in out.iter_mut().enumerate().skip(whole) {
        let sum: f32 = (lo..=hi).map(|j| image[j * hw + q] * image[j * hw + q]).sum();
        *o = normalised(image[c * hw + q], sum);
    }
}

/// LRN over NCHW, planned once.
pub struct Lrn {
    batch: usize,
    channels: usize,
    hw: usize,
    params: LrnParams,
    kernels: &'static KernelTable,
}

impl Lrn {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        batch: usize,
        channels: usize,
        hw: usize,
        size: usize,
        alpha: f32,
        beta: f32,
        k: f32,
        options: PlanOptions,
    ) -> Result<Self> {
        if size == 0 || channels == 0 || hw == 0 {
            return invalid!("lrn: `size` {size}, `channels` {channels} and `hw` {hw} must be at least 1");
        }
        if ![alpha, beta, k].iter().all(|v| v.is_finite()) || k <= 0.0 || alpha < 0.0 {
            return invalid!("lrn: need finite alpha >= 0, beta and k > 0; got alpha {alpha}, beta {beta}, k {k}");
        }
        checked_product("lrn N*C*H*W", &[batch, channels, hw])?;
        let params = LrnParams { size, alpha_over_size: alpha / size as f32, beta, k };
        Ok(Lrn { batch, channels, hw, params, kernels: table(options.isa)? })
    }

    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<()> {
        let image_len = self.channels * self.hw;
        check_len("input", input.len(), self.batch * image_len)?;
        check_len("output", output.len(), self.batch * image_len)?;
        let (kernel, p, channels) = (self.kernels.lrn, &self.params, self.channels);
        output.par_chunks_mut(self.hw).enumerate().with_min_len(crate::tasks::units_per_task(self.hw)).for_each(
            |(plane, out)| {
                let (n, c) = (plane / channels, plane % channels);
                // SAFETY: the table passed the CPU check; the image is C x HW.
                unsafe { kernel(p, &input[n * image_len..(n + 1) * image_len], channels, c, out) }
            },
        );
        Ok(())
    }
}
