use super::{MAX_ELEMENTS, Padding2d};
use crate::error::{Error, Result, checked_product, invalid};

/// A 2-D convolution: NCHW input, OIHW weights (`[K, C/groups, R, S]`), NCHW output.
///
/// Output size = floor((H + pad_t + pad_b - dilation*(R-1) - 1) / stride) + 1, as in PyTorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dDesc {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub padding: Padding2d,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub groups: usize,
}

/// The sizes a valid [`Conv2dDesc`] implies, all checked against overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dShape {
    pub out_h: usize,
    pub out_w: usize,
    /// Input channels per group.
    pub group_in_channels: usize,
    /// Output channels per group.
    pub group_out_channels: usize,
    /// Length of one output channel's dot product: C/groups * R * S.
    pub reduction: usize,
    pub input_len: usize,
    pub weight_len: usize,
    pub output_len: usize,
}

impl Conv2dShape {
    /// Output pixels per channel: OH * OW.
    pub fn out_pixels(&self) -> usize {
        self.out_h * self.out_w
    }
}

impl Conv2dDesc {
    /// Batch `batch` of `in_channels x in_h x in_w` images convolved with `out_channels`
    /// filters of `kernel_h x kernel_w`; stride 1, no padding, no dilation, one group.
    pub fn new(
        batch: usize,
        in_channels: usize,
        (in_h, in_w): (usize, usize),
        out_channels: usize,
        (kernel_h, kernel_w): (usize, usize),
    ) -> Self {
        Conv2dDesc {
            batch,
            in_channels,
            out_channels,
            in_h,
            in_w,
            kernel_h,
            kernel_w,
            stride_h: 1,
            stride_w: 1,
            padding: Padding2d::default(),
            dilation_h: 1,
            dilation_w: 1,
            groups: 1,
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

    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation_h = dilation;
        self.dilation_w = dilation;
        self
    }

    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Keras "same" padding for the current kernel, stride and dilation.
    pub fn same(self) -> Result<Self> {
        let padding = Padding2d::same(
            (self.in_h, self.in_w),
            (self.kernel_h, self.kernel_w),
            (self.stride_h, self.stride_w),
            (self.dilation_h, self.dilation_w),
        )?;
        Ok(self.padding(padding))
    }

    /// Checks every field and derives the sizes.
    pub fn validate(&self) -> Result<Conv2dShape> {
        let d = self;
        super::require_positive(
            "conv2d",
            &[
                ("batch", d.batch),
                ("in_channels", d.in_channels),
                ("out_channels", d.out_channels),
                ("in_h", d.in_h),
                ("in_w", d.in_w),
                ("kernel_h", d.kernel_h),
                ("kernel_w", d.kernel_w),
                ("stride_h", d.stride_h),
                ("stride_w", d.stride_w),
                ("dilation_h", d.dilation_h),
                ("dilation_w", d.dilation_w),
                ("groups", d.groups),
            ],
        )?;
        if !d.in_channels.is_multiple_of(d.groups) {
            return invalid!("conv2d: `groups` {} does not divide `in_channels` {}", d.groups, d.in_channels);
        }
        if !d.out_channels.is_multiple_of(d.groups) {
            return invalid!("conv2d: `groups` {} does not divide `out_channels` {}", d.groups, d.out_channels);
        }
        let out_h =
            out_extent("height", d.in_h, d.padding.top, d.padding.bottom, d.kernel_h, d.stride_h, d.dilation_h)?;
        let out_w = out_extent("width", d.in_w, d.padding.left, d.padding.right, d.kernel_w, d.stride_w, d.dilation_w)?;
        let group_in_channels = d.in_channels / d.groups;
        let group_out_channels = d.out_channels / d.groups;
        let reduction = checked_product("conv2d reduction C/groups*R*S", &[group_in_channels, d.kernel_h, d.kernel_w])?;
        let input_len = checked_product("conv2d input N*C*H*W", &[d.batch, d.in_channels, d.in_h, d.in_w])?;
        let weight_len = checked_product("conv2d weights K*C/groups*R*S", &[d.out_channels, reduction])?;
        let output_len = checked_product("conv2d output N*K*OH*OW", &[d.batch, d.out_channels, out_h, out_w])?;
        for (what, len) in [("input", input_len), ("weights", weight_len), ("output", output_len)] {
            if len > MAX_ELEMENTS {
                return Err(Error::Overflow(format!(
                    "conv2d: the {what} would have {len} elements, more than the limit {MAX_ELEMENTS}"
                )));
            }
        }
        Ok(Conv2dShape {
            out_h,
            out_w,
            group_in_channels,
            group_out_channels,
            reduction,
            input_len,
            weight_len,
            output_len,
        })
    }

    /// Multiply-adds x 2 for the whole batch: 2 * N * K * (C/G) * R * S * OH * OW.
    pub fn flops(&self) -> Result<u64> {
        let s = self.validate()?;
        Ok(2 * self.batch as u64 * self.out_channels as u64 * s.reduction as u64 * s.out_pixels() as u64)
    }
}

/// floor((input + pad_lo + pad_hi - dilation*(kernel-1) - 1) / stride) + 1, or an error that
/// names the axis and every number when the dilated kernel does not fit the padded input.
pub(crate) fn out_extent(
    axis: &str,
    input: usize,
    pad_lo: usize,
    pad_hi: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> Result<usize> {
    let padded = input.checked_add(pad_lo).and_then(|v| v.checked_add(pad_hi));
    let span = (kernel - 1).checked_mul(dilation).and_then(|v| v.checked_add(1));
    let (Some(padded), Some(span)) = (padded, span) else {
        return Err(Error::Overflow(format!(
            "{axis}: input {input} + padding {pad_lo}+{pad_hi} or kernel {kernel} x dilation {dilation} overflows usize"
        )));
    };
    if span > padded {
        return invalid!(
            "{axis}: kernel {kernel} (dilation {dilation}, spans {span}) is larger than the padded input {padded} ({input} + {pad_lo} + {pad_hi})"
        );
    }
    Ok((padded - span) / stride + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_size_follows_pytorch() {
        // ResNet stem: 224, 7x7, stride 2, pad 3 -> 112.
        let d = Conv2dDesc::new(1, 3, (224, 224), 64, (7, 7)).stride(2).pad(3);
        let s = d.validate().unwrap();
        assert_eq!((s.out_h, s.out_w), (112, 112));
        assert_eq!(s.reduction, 147);
        // Dilation 2, 3x3, pad 2 keeps the size.
        let d = Conv2dDesc::new(1, 8, (9, 11), 4, (3, 3)).dilation(2).pad(2);
        let s = d.validate().unwrap();
        assert_eq!((s.out_h, s.out_w), (9, 11));
    }

    #[test]
    fn errors_name_the_field_and_the_numbers() {
        let d = Conv2dDesc::new(1, 6, (8, 8), 4, (3, 3)).groups(4);
        let e = d.validate().unwrap_err().to_string();
        assert!(e.contains("`groups` 4 does not divide `in_channels` 6"), "{e}");

        let d = Conv2dDesc::new(1, 3, (2, 2), 4, (5, 5)).pad(1);
        let e = d.validate().unwrap_err().to_string();
        assert!(e.contains("kernel 5") && e.contains("padded input 4"), "{e}");

        let d = Conv2dDesc::new(1, 3, (8, 8), 4, (3, 3)).stride(0);
        let e = d.validate().unwrap_err().to_string();
        assert!(e.contains("`stride_h` is 0"), "{e}");
    }

    #[test]
    fn absurd_sizes_are_refused_not_wrapped() {
        let d = Conv2dDesc::new(usize::MAX / 2, 3, (1 << 20, 1 << 20), 4, (1, 1));
        assert!(matches!(d.validate(), Err(Error::Overflow(_))));
        let d = Conv2dDesc::new(1, 3, (usize::MAX, 4), 4, (3, 3)).pad(1);
        assert!(matches!(d.validate(), Err(Error::Overflow(_))));
    }
}
