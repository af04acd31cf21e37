//! Inference batch-norm folded into the convolution before it.
//!
//! BN(y) = (y - mean) / sqrt(var + eps) * gamma + beta is affine per channel, so after a
//! convolution y = w * x + b it becomes a convolution again:
//!
//! ```text
//! s[k]  = gamma[k] / sqrt(var[k] + eps)
//! w'[k] = w[k] * s[k]                       (every weight of output channel k)
//! b'[k] = (b[k] - mean[k]) * s[k] + beta[k]
//! ```
//!
//! Either fold into the weights ([`fold_batch_norm`]) or keep the weights and put `s` and
//! the shift in the conv's epilogue ([`BatchNorm::scale_shift`]); both cost nothing at run time.
//! Where no convolution precedes it (after a concat or an add), [`BatchNorm2d`] applies it
//! as a standalone pass, with an activation fused.

use crate::arch::simd::Simd;
use crate::dispatch::{KernelTable, PlanOptions, table};
use crate::epilogue::Activation;
use crate::error::{Result, check_len, checked_product, invalid};
use crate::gemm::epilogue::activate;
use rayon::prelude::*;

/// One batch-norm layer's inference parameters, PyTorch's names: `weight` = gamma,
/// `bias` = beta, `running_mean`, `running_var`, `eps`.
#[derive(Debug, Clone, Copy)]
pub struct BatchNorm<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub mean: &'a [f32],
    pub var: &'a [f32],
    pub eps: f32,
}

impl BatchNorm<'_> {
    /// Checks the vectors against `channels` and that every `var + eps` is positive.
    pub fn validate(&self, channels: usize) -> Result<()> {
        for (name, v) in [("gamma", self.gamma), ("beta", self.beta), ("mean", self.mean), ("var", self.var)] {
            check_len(name, v.len(), channels)?;
        }
        if !self.eps.is_finite() || self.eps < 0.0 {
            return invalid!("batch_norm: `eps` must be finite and >= 0, got {}", self.eps);
        }
        if let Some(c) = self.var.iter().position(|&v| !v.is_finite() || v + self.eps <= 0.0) {
            return invalid!(
                "batch_norm: channel {c}: var {} + eps {} must be positive and finite",
                self.var[c],
                self.eps
            );
        }
        Ok(())
    }

    /// Per-channel `(scale, shift)` for a conv epilogue: y * scale + shift, where the conv's
    /// own `bias` (if any) is folded into the shift.
    pub fn scale_shift(&self, bias: Option<&[f32]>) -> Result<(Vec<f32>, Vec<f32>)> {
        let channels = self.gamma.len();
        self.validate(channels)?;
        if let Some(b) = bias {
            check_len("bias", b.len(), channels)?;
        }
        Ok((0..channels)
            .map(|k| {
                let s = self.gamma[k] as f64 / (self.var[k] as f64 + self.eps as f64).sqrt();
                let b = bias.map_or(0.0, |b| b[k] as f64);
                (s as f32, ((b - self.mean[k] as f64) * s + self.beta[k] as f64) as f32)
            })
            .unzip())
    }
}

/// Folds `bn` into a convolution with `out_channels` filters of `weights` (OIHW, or any
/// layout whose leading dimension is the output channel) and optional `bias`; returns the
/// folded weights and bias.
pub fn fold_batch_norm(
    out_channels: usize,
    weights: &[f32],
    bias: Option<&[f32]>,
    bn: &BatchNorm,
) -> Result<(Vec<f32>, Vec<f32>)> {
    if out_channels == 0 || weights.is_empty() || !weights.len().is_multiple_of(out_channels) {
        return invalid!(
            "fold_batch_norm: {} weights do not split into `out_channels` {out_channels} filters",
            weights.len()
        );
    }
    bn.validate(out_channels)?;
    let (scale, shift) = bn.scale_shift(bias)?;
    let per_filter = weights.len() / out_channels;
    let folded =
        weights.chunks_exact(per_filter).zip(&scale).flat_map(|(w, &s)| w.iter().map(move |&v| v * s)).collect();
    Ok((folded, shift))
}

/// `plane[i] = act(plane[i] * scale + shift)`.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn affine_body<S: Simd>(plane: &mut [f32], scale: f32, shift: f32, act: Activation) {
    let whole = plane.len() / S::LANES * S::LANES;
    // SAFETY: `S` is available; loads and stores stay inside `plane[..whole]` and the tail.
    unsafe {
        let (a, b) = (S::splat(scale), S::splat(shift));
        for chunk in plane[..whole].chunks_exact_mut(S::LANES) {
            let v = S::mul_add(S::load(chunk.as_ptr()), a, b);
            S::store(chunk.as_mut_ptr(), activate::<S>(v, act));
        }
        let tail = &mut plane[whole..];
        if !tail.is_empty() {
            let v = S::mul_add(S::load_partial(tail.as_ptr(), tail.len()), a, b);
            S::store_partial(tail.as_mut_ptr(), tail.len(), activate::<S>(v, act));
        }
    }
}

/// Inference batch-norm over NCHW in place, an activation fused: one pass, each plane
/// `act(x * s[c] + t[c])` with `s`, `t` computed once from the statistics.
pub struct BatchNorm2d {
    channels: usize,
    planes: usize,
    hw: usize,
    scale: Vec<f32>,
    shift: Vec<f32>,
    activation: Activation,
    kernels: &'static KernelTable,
}

impl BatchNorm2d {
    pub fn new(
        batch: usize,
        channels: usize,
        hw: usize,
        bn: &BatchNorm,
        activation: Activation,
        options: PlanOptions,
    ) -> Result<Self> {
        if batch == 0 || channels == 0 || hw == 0 {
            return invalid!("batch_norm: `batch` {batch}, `channels` {channels} and `hw` {hw} must be at least 1");
        }
        let planes = checked_product("batch_norm N*C", &[batch, channels])?;
        checked_product("batch_norm N*C*H*W", &[planes, hw])?;
        bn.validate(channels)?;
        activation.validate("batch_norm")?;
        let (scale, shift) = bn.scale_shift(None)?;
        Ok(BatchNorm2d { channels, planes, hw, scale, shift, activation, kernels: table(options.isa)? })
    }

    /// Normalises `data` (N x C x H x W) in place.
    pub fn run(&self, data: &mut [f32]) -> Result<()> {
        check_len("data", data.len(), self.planes * self.hw)?;
        let (kernel, act, c) = (self.kernels.affine, self.activation, self.channels);
        data.par_chunks_mut(self.hw)
            .enumerate()
            .with_min_len(crate::tasks::units_per_task(self.hw))
            // SAFETY: the table passed the CPU check.
            .for_each(|(i, plane)| unsafe { kernel(plane, self.scale[i % c], self.shift[i % c], act) });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::signed_uniform;
    use crate::{Conv2dDesc, reference};

    #[test]
    fn folded_conv_equals_conv_then_batch_norm() {
        let desc = Conv2dDesc::new(2, 5, (9, 7), 6, (3, 3)).pad(1).stride(2);
        let s = desc.validate().unwrap();
        let (x, w, b) = (signed_uniform(s.input_len, 1), signed_uniform(s.weight_len, 2), signed_uniform(6, 3));
        let gamma = signed_uniform(6, 4);
        let beta = signed_uniform(6, 5);
        let mean = signed_uniform(6, 6);
        let var: Vec<f32> = signed_uniform(6, 7).iter().map(|v| v + 1.5).collect();
        let bn = BatchNorm { gamma: &gamma, beta: &beta, mean: &mean, var: &var, eps: 1e-5 };

        let conv = reference::conv2d(&desc, &x, &w, Some(&b)).unwrap();
        let hw = s.out_h * s.out_w;
        let want = reference::batch_norm(2, 6, hw, &conv, &gamma, &beta, &mean, &var, 1e-5).unwrap();
        let (fw, fb) = fold_batch_norm(6, &w, Some(&b), &bn).unwrap();
        let got = reference::conv2d(&desc, &x, &fw, Some(&fb)).unwrap();
        // Folding rounds each weight once (w*s, half an ulp) and the shift once; the f64
        // reference adds nothing, so the difference is within ~2 ulps of sum|w*s*x| + |b'|.
        let mag = reference::conv2d_magnitude(&desc, &x, &fw).unwrap();
        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
            let bound = 2.0 * f32::EPSILON * (mag[i] + fb[(i / hw) % 6].abs() + e.abs()) + f32::MIN_POSITIVE;
            assert!((g - e).abs() <= bound, "element {i}: {g} vs {e}");
        }
    }

    #[test]
    fn bad_statistics_are_errors_naming_the_channel() {
        let ones = [1.0f32; 3];
        let var = [1.0, -1.0, 1.0];
        let bn = BatchNorm { gamma: &ones, beta: &ones, mean: &ones, var: &var, eps: 0.0 };
        let e = fold_batch_norm(3, &[1.0; 6], None, &bn).unwrap_err().to_string();
        assert_eq!(e, "batch_norm: channel 1: var -1 + eps 0 must be positive and finite");
        let bn = BatchNorm { var: &ones, ..bn };
        assert_eq!(
            fold_batch_norm(4, &[1.0; 6], None, &bn).unwrap_err().to_string(),
            "fold_batch_norm: 6 weights do not split into `out_channels` 4 filters"
        );
        assert_eq!(
            fold_batch_norm(3, &[1.0; 6], Some(&[0.0; 2]), &bn).unwrap_err().to_string(),
            "`bias` has 2 elements, the descriptor needs 3"
        );
    }
}
