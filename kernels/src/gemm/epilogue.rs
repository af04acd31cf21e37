//! The fused epilogue, vectorised: applied to a tile of C while it is still in L1.

use crate::arch::simd::Simd;
use crate::epilogue::Activation;

/// A tile of the real output (rows are output channels, contiguous along pixels) and what to
/// do to it. Pointers are already offset to the tile's first channel and pixel.
#[derive(Clone, Copy)]
pub(crate) struct EpilogueTile {
    pub rows: usize,
    pub cols: usize,
    pub c: *mut f32,
    pub ldc: usize,
    /// Per-row scale, or null for all ones.
    pub scale: *const f32,
    /// Per-row shift, or null for all zeros.
    pub shift: *const f32,
    /// Residual with the same layout as `c`, or null.
    pub residual: *const f32,
    pub activation: Activation,
}

pub(crate) type EpilogueFn = unsafe fn(&EpilogueTile);

/// # Safety
/// `t.c` (and `t.residual` if not null) are valid for `rows` rows of `cols` floats at stride
/// `ldc`; `scale` and `shift`, when not null, for `rows` floats; `S` is available.
#[inline(always)]
pub(crate) unsafe fn epilogue<S: Simd>(t: &EpilogueTile) {
    // SAFETY: all offsets stay within the extents above.
    unsafe {
        for r in 0..t.rows {
            let scale = if t.scale.is_null() { 1.0 } else { *t.scale.add(r) };
            let shift = if t.shift.is_null() { 0.0 } else { *t.shift.add(r) };
            let (scale, shift) = (S::splat(scale), S::splat(shift));
            let row = t.c.add(r * t.ldc);
            let res = if t.residual.is_null() { core::ptr::null() } else { t.residual.add(r * t.ldc) };
            let at = |p: usize| if res.is_null() { res } else { res.add(p) };
            let mut p = 0;
            while p + S::LANES <= t.cols {
                S::store(row.add(p), finish::<S>(S::load(row.add(p)), scale, shift, at(p), S::LANES, t.activation));
                p += S::LANES;
            }
            let tail = t.cols - p;
            if tail > 0 {
                let y = finish::<S>(S::load_partial(row.add(p), tail), scale, shift, at(p), tail, t.activation);
                S::store_partial(row.add(p), tail, y);
            }
        }
    }
}

/// `activation(x * scale + shift + residual)` on the first `count` lanes (all of them when
/// `count` is the vector's width), `residual` pointing at those lanes' residual or null:
/// the epilogue's arithmetic, shared by this tile epilogue and the kernels that apply it
/// in registers as they store (Winograd's output transform, depthwise).
///
/// # Safety
/// `S` is available; a non-null `residual` is readable for `count` floats.
#[inline(always)]
pub(crate) unsafe fn finish<S: Simd>(
    x: S::V,
    scale: S::V,
    shift: S::V,
    residual: *const f32,
    count: usize,
    activation: Activation,
) -> S::V {
    // SAFETY: `S` is available; the residual read is `count` floats (caller's contract).
    unsafe {
        let mut y = S::mul_add(x, scale, shift);
        if !residual.is_null() {
            y = S::add(y, S::load_n(residual, count));
        }
        activate::<S>(y, activation)
    }
}

/// The activation on a vector.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn activate<S: Simd>(x: S::V, activation: Activation) -> S::V {
    // SAFETY: `S` is available (caller's contract).
    unsafe {
        match activation {
            Activation::Identity => x,
            Activation::Sigmoid => S::sigmoid(x),
            Activation::Relu => S::max(x, S::zero()),
            Activation::Relu6 => S::min(S::max(x, S::zero()), S::splat(6.0)),
            Activation::LeakyRelu(slope) => S::leaky(x, S::splat(slope)),
        }
    }
}

/// An [`crate::Epilogue`] as plans keep it: bias folded into the shift, vectors aligned.
pub(crate) struct FusedEpilogue {
    scale: Option<crate::aligned::AlignedVec>,
    shift: Option<crate::aligned::AlignedVec>,
    residual: bool,
    activation: Activation,
}

impl FusedEpilogue {
    /// Folds `bias` (applied before the scale) into the shift. `epilogue` must have been
    /// validated for `channels`.
    pub(crate) fn new(epilogue: &crate::Epilogue, bias: Option<&[f32]>, channels: usize) -> Self {
        let aligned = |v: &[f32]| crate::aligned::AlignedVec::from_slice(crate::aligned::ALIGN, v);
        let (scale, shift) = epilogue.fold_bias(bias, channels);
        let has_shift = bias.is_some() || epilogue.shift.is_some();
        FusedEpilogue {
            scale: scale.as_deref().map(aligned),
            shift: has_shift.then(|| aligned(&shift)),
            residual: epilogue.residual,
            activation: epilogue.activation,
        }
    }

    /// The scale, removed: the caller has folded it into the weights.
    pub(crate) fn take_scale(&mut self) -> Option<crate::aligned::AlignedVec> {
        self.scale.take()
    }

    pub(crate) fn scale(&self) -> Option<&[f32]> {
        self.scale.as_deref()
    }

    pub(crate) fn shift(&self) -> Option<&[f32]> {
        self.shift.as_deref()
    }

    pub(crate) fn activation(&self) -> Activation {
        self.activation
    }

    /// Checks that a residual is given exactly when the epilogue adds one, with `len`
    /// elements; returns it.
    pub(crate) fn check_residual<'r>(
        &self,
        op: &str,
        residual: Option<&'r [f32]>,
        len: usize,
    ) -> crate::Result<Option<&'r [f32]>> {
        match (self.residual, residual) {
            (true, Some(r)) => crate::error::check_len("residual", r.len(), len).map(|()| Some(r)),
            (true, None) => crate::error::invalid!("{op}: the epilogue adds a residual but `residual` is None"),
            (false, Some(_)) => crate::error::invalid!("{op}: `residual` given but the epilogue adds none"),
            (false, None) => Ok(None),
        }
    }

    /// The task form, for channels from `first_channel` on and a residual already offset
    /// like C.
    pub(crate) fn task(
        &self,
        first_channel: usize,
        residual: Option<&[f32]>,
        channels_on_rows: bool,
    ) -> super::driver::TaskEpilogue {
        let at = |v: &Option<crate::aligned::AlignedVec>| {
            v.as_ref().map_or(std::ptr::null(), |v| v[first_channel..].as_ptr())
        };
        super::driver::TaskEpilogue {
            channels_on_rows,
            scale: at(&self.scale),
            shift: at(&self.shift),
            residual: residual.map_or(std::ptr::null(), <[f32]>::as_ptr),
            activation: self.activation,
        }
    }
}
