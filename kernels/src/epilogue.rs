//! What every conv and linear kernel does as it stores a result: per-output-channel scale and
//! shift (bias, or batch-norm folded in), an optional residual add, then an activation.
//! Fusing it into the store saves one full pass over the output per step.

use crate::error::{Result, check_len, invalid};

/// An elementwise activation applied last in the epilogue.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Activation {
    #[default]
    Identity,
    Relu,
    /// min(max(x, 0), 6), MobileNet's.
    Relu6,
    /// x for x >= 0, `slope * x` otherwise.
    LeakyRelu(f32),
    /// 1 / (1 + e^-x).
    Sigmoid,
}

impl Activation {
    /// `f(self)`, written out once per variant so that each copy of an inlined `f` sees its
    /// activation as a constant: a kernel that matched it per vector paid an indirect jump
    /// in its innermost loop (`crate::conv::depthwise`).
    #[cfg(not(debug_assertions))]
    #[inline(always)]
    pub(crate) fn as_constant<R>(self, f: impl FnOnce(Activation) -> R) -> R {
        match self {
            Activation::Identity => f(Activation::Identity),
            Activation::Relu => f(Activation::Relu),
            Activation::Relu6 => f(Activation::Relu6),
            Activation::LeakyRelu(slope) => f(Activation::LeakyRelu(slope)),
            Activation::Sigmoid => f(Activation::Sigmoid),
        }
    }

    /// `f(self)` once: unoptimised builds keep every inlined copy's locals in one frame, and
    /// five copies of the depthwise kernels took the AVX-512 shell's frame to 4.6 MB, past a
    /// test thread's 2 MB stack.
    #[cfg(debug_assertions)]
    #[inline(always)]
    pub(crate) fn as_constant<R>(self, f: impl FnOnce(Activation) -> R) -> R {
        f(self)
    }

    /// The activation of one value, the definition every fast path is tested against.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Identity => x,
            Activation::Relu => x.max(0.0),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::LeakyRelu(slope) => {
                if x >= 0.0 {
                    x
                } else {
                    slope * x
                }
            }
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    /// Refuses a LeakyReLU slope that is not finite; `layer` names the caller in the error.
    pub fn validate(self, layer: &str) -> Result<()> {
        match self {
            Activation::LeakyRelu(slope) if !slope.is_finite() => {
                invalid!("{layer}: LeakyRelu slope must be finite, got {slope}")
            }
            _ => Ok(()),
        }
    }
}

/// `y = activation(acc * scale[c] + shift[c] + residual)`, `c` the output channel.
///
/// A convolution's bias is its shift; a batch-norm folded into the convolution gives both.
/// `residual` says that `run` takes a residual buffer of the output's shape to add.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Epilogue {
    pub scale: Option<Vec<f32>>,
    pub shift: Option<Vec<f32>>,
    pub residual: bool,
    pub activation: Activation,
}

impl Epilogue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn scale(mut self, scale: Vec<f32>) -> Self {
        self.scale = Some(scale);
        self
    }

    pub fn shift(mut self, shift: Vec<f32>) -> Self {
        self.shift = Some(shift);
        self
    }

    pub fn residual(mut self) -> Self {
        self.residual = true;
        self
    }

    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Checks the per-channel vectors against `channels` and the activation's parameter.
    pub fn validate(&self, channels: usize) -> Result<()> {
        if let Some(scale) = &self.scale {
            check_len("epilogue scale", scale.len(), channels)?;
        }
        if let Some(shift) = &self.shift {
            check_len("epilogue shift", shift.len(), channels)?;
        }
        self.activation.validate("epilogue")
    }

    /// Folds a bias (applied before the scale) into the shift: (acc + b) * s + t.
    /// Returns per-channel `(scale, shift)`, `scale` `None` when it is all ones.
    pub(crate) fn fold_bias(&self, bias: Option<&[f32]>, channels: usize) -> (Option<Vec<f32>>, Vec<f32>) {
        let shift = (0..channels)
            .map(|c| {
                let b = bias.map_or(0.0, |b| b[c]);
                let s = self.scale.as_ref().map_or(1.0, |s| s[c]);
                let t = self.shift.as_ref().map_or(0.0, |t| t[c]);
                b * s + t
            })
            .collect();
        (self.scale.clone(), shift)
    }
}
