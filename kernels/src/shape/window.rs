//! The sliding window of one plane, as the per-plane kernels read it: convolution and
//! pooling descriptors each give one, so depthwise convolution, pooling and the flattened
//! plane share one geometry instead of each copying the descriptor's fields.

use super::{Conv2dDesc, Conv2dShape, Padding2d, Pool2dDesc, Pool2dShape};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Window2d {
    /// The input plane.
    pub h: usize,
    pub w: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub padding: Padding2d,
}

impl Window2d {
    /// The padded plane: (H + top + bottom, W + left + right).
    pub(crate) fn padded(&self) -> (usize, usize) {
        let p = self.padding;
        (self.h + p.top + p.bottom, self.w + p.left + p.right)
    }
}

/// A descriptor's window: conv and pool descriptors name these fields alike.
macro_rules! window_of {
    ($d:expr, $s:expr) => {
        Window2d {
            h: $d.in_h,
            w: $d.in_w,
            out_h: $s.out_h,
            out_w: $s.out_w,
            kh: $d.kernel_h,
            kw: $d.kernel_w,
            sh: $d.stride_h,
            sw: $d.stride_w,
            dh: $d.dilation_h,
            dw: $d.dilation_w,
            padding: $d.padding,
        }
    };
}

impl Conv2dDesc {
    /// One plane's window (validated descriptor and its shape).
    pub(crate) fn window(&self, s: &Conv2dShape) -> Window2d {
        window_of!(self, s)
    }
}

impl Pool2dDesc {
    /// One plane's window (validated descriptor and its shape).
    pub(crate) fn window(&self, s: &Pool2dShape) -> Window2d {
        window_of!(self, s)
    }
}
