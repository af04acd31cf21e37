use super::{MAX_ELEMENTS, Padding2d};
use crate::error::{Error, Result, checked_product, invalid};

/// Which reduction a pooling window applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

/// 2-D max or average pooling over NCHW, with PyTorch's semantics for `ceil_mode` and
/// `count_include_pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dDesc {
    pub kind: PoolKind,
    pub batch: usize,
    pub channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub padding: Padding2d,
    /// Max pooling only, as in PyTorch.
    pub dilation_h: usize,
    pub dilation_w: usize,
    /// Round the output size up, keeping only windows that start inside the input or its
    /// leading padding.
    pub ceil_mode: bool,
    /// Average pooling: divide by the window size clipped to the padded input (true, PyTorch's
    /// default) or by the number of real input elements in the window (false, Keras).
    pub count_include_pad: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dShape {
    pub out_h: usize,
    pub out_w: usize,
    pub input_len: usize,
    pub output_len: usize,
}

impl Pool2dDesc {
    /// `kernel x kernel` window with stride = kernel and no padding (PyTorch's defaults).
    pub fn new(kind: PoolKind, batch: usize, channels: usize, (in_h, in_w): (usize, usize), kernel: usize) -> Self {
        Pool2dDesc {
            kind,
            batch,
            channels,
            in_h,
            in_w,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: kernel,
            stride_w: kernel,
            padding: Padding2d::default(),
            dilation_h: 1,
            dilation_w: 1,
            ceil_mode: false,
            count_include_pad: true,
        }
    }

    pub fn stride(mut self, stride: usize) -> Self {
        self.stride_h = stride;
        self.stride_w = stride;
        self
    }

    pub fn pad(mut self, pad: usize) -> Self {
        self.padding = Padding2d::uniform(pad);
        self
    }

    pub fn padding(mut self, padding: Padding2d) -> Self {
        self.padding = padding;
        self
    }

    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    pub fn count_include_pad(mut self, include: bool) -> Self {
        self.count_include_pad = include;
        self
    }

    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation_h = dilation;
        self.dilation_w = dilation;
        self
    }

    pub fn validate(&self) -> Result<Pool2dShape> {
        let d = self;
        super::require_positive(
            "pool2d",
            &[
                ("batch", d.batch),
                ("channels", d.channels),
                ("in_h", d.in_h),
                ("in_w", d.in_w),
                ("kernel_h", d.kernel_h),
                ("kernel_w", d.kernel_w),
                ("stride_h", d.stride_h),
                ("stride_w", d.stride_w),
                ("dilation_h", d.dilation_h),
                ("dilation_w", d.dilation_w),
            ],
        )?;
        if d.kind == PoolKind::Avg && (d.dilation_h, d.dilation_w) != (1, 1) {
            return invalid!("pool2d: average pooling takes no dilation, got {}x{}", d.dilation_h, d.dilation_w);
        }
        let out_h = pool_extent(
            "height",
            d.in_h,
            d.padding.top,
            d.padding.bottom,
            d.kernel_h,
            d.stride_h,
            d.dilation_h,
            d.ceil_mode,
        )?;
        let out_w = pool_extent(
            "width",
            d.in_w,
            d.padding.left,
            d.padding.right,
            d.kernel_w,
            d.stride_w,
            d.dilation_w,
            d.ceil_mode,
        )?;
        let input_len = checked_product("pool2d input N*C*H*W", &[d.batch, d.channels, d.in_h, d.in_w])?;
        let output_len = checked_product("pool2d output N*C*OH*OW", &[d.batch, d.channels, out_h, out_w])?;
        if input_len > MAX_ELEMENTS || output_len > MAX_ELEMENTS {
            return Err(Error::Overflow(format!(
                "pool2d: {input_len} input or {output_len} output elements exceed the limit {MAX_ELEMENTS}"
            )));
        }
        Ok(Pool2dShape { out_h, out_w, input_len, output_len })
    }
}

/// PyTorch's pooling output size, including the `ceil_mode` rule that the last window must
/// start inside the input or its leading padding.
#[allow(clippy::too_many_arguments)]
fn pool_extent(
    axis: &str,
    input: usize,
    pad_lo: usize,
    pad_hi: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    ceil_mode: bool,
) -> Result<usize> {
    let floor = crate::shape::conv2d::out_extent(axis, input, pad_lo, pad_hi, kernel, stride, dilation)?;
    if !ceil_mode {
        return Ok(floor);
    }
    let padded = input + pad_lo + pad_hi;
    let span = (kernel - 1) * dilation + 1;
    let mut out = (padded - span).div_ceil(stride) + 1;
    if (out - 1) * stride >= input + pad_lo {
        out -= 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_mode_matches_pytorch() {
        // GoogLeNet's MaxPool2d(3, 2, ceil_mode=True): 112 -> 56 (floor would give 55).
        let d = Pool2dDesc::new(PoolKind::Max, 1, 64, (112, 112), 3).stride(2).ceil_mode(true);
        assert_eq!(d.validate().unwrap().out_h, 56);
        // 6 input, kernel 2, stride 2, pad 1, ceil: (6+2-2)/2 ceil = 3 -> 4, but the 4th window
        // would start at 6 >= 6 + 1? no: (4-1)*2 = 6 < 7, so 4 stays.
        let d = Pool2dDesc::new(PoolKind::Max, 1, 1, (6, 6), 2).pad(1).ceil_mode(true);
        assert_eq!(d.validate().unwrap().out_h, 4);
        // 5 input, kernel 2, stride 2, no pad, ceil: (5-2)/2 ceil = 2 -> 3; start 4 < 5 keeps it.
        let d = Pool2dDesc::new(PoolKind::Max, 1, 1, (5, 5), 2).ceil_mode(true);
        assert_eq!(d.validate().unwrap().out_h, 3);
    }

    #[test]
    fn average_pooling_refuses_dilation() {
        let d = Pool2dDesc::new(PoolKind::Avg, 1, 1, (5, 5), 2).dilation(2);
        let e = d.validate().unwrap_err().to_string();
        assert!(e.contains("no dilation, got 2x2"), "{e}");
    }
}
