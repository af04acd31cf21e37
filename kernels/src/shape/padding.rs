use crate::error::{Result, invalid};

/// Zero padding on each side of the spatial dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Padding2d {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl Padding2d {
    /// The same padding on all four sides (PyTorch's `padding=p`).
    pub const fn uniform(p: usize) -> Self {
        Padding2d { top: p, bottom: p, left: p, right: p }
    }

    /// `(pad_h, pad_w)`, PyTorch's `padding=(ph, pw)`.
    pub const fn symmetric(pad_h: usize, pad_w: usize) -> Self {
        Padding2d { top: pad_h, bottom: pad_h, left: pad_w, right: pad_w }
    }

    /// Keras/TensorFlow `padding="valid"`: none.
    pub const fn valid() -> Self {
        Padding2d::uniform(0)
    }

    /// Keras/TensorFlow `padding="same"`: the output has `ceil(in / stride)` rows and columns;
    /// when the total padding is odd, the extra row goes to the bottom and the extra column to
    /// the right (TensorFlow's rule, which PyTorch's `padding="same"` also follows).
    pub fn same(
        (in_h, in_w): (usize, usize),
        (kernel_h, kernel_w): (usize, usize),
        (stride_h, stride_w): (usize, usize),
        (dilation_h, dilation_w): (usize, usize),
    ) -> Result<Self> {
        let (top, bottom) = same_1d("height", in_h, kernel_h, stride_h, dilation_h)?;
        let (left, right) = same_1d("width", in_w, kernel_w, stride_w, dilation_w)?;
        Ok(Padding2d { top, bottom, left, right })
    }
}

fn same_1d(axis: &str, input: usize, kernel: usize, stride: usize, dilation: usize) -> Result<(usize, usize)> {
    if stride == 0 || kernel == 0 || dilation == 0 {
        return invalid!(
            "\"same\" padding along {axis}: kernel {kernel}, stride {stride} and dilation {dilation} must all be at least 1"
        );
    }
    let out = input.div_ceil(stride);
    let extent = (kernel - 1)
        .checked_mul(dilation)
        .and_then(|e| e.checked_add(1))
        .and_then(|e| (out.saturating_sub(1)).checked_mul(stride)?.checked_add(e));
    let Some(needed) = extent else {
        return invalid!("\"same\" padding along {axis}: kernel {kernel} x dilation {dilation} overflows");
    };
    let total = needed.saturating_sub(input);
    Ok((total / 2, total - total / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_puts_the_odd_row_at_the_bottom() {
        // 3x3 input, 2x2 kernel, stride 1: total padding 1, all of it at the bottom/right.
        let p = Padding2d::same((3, 3), (2, 2), (1, 1), (1, 1)).unwrap();
        assert_eq!(p, Padding2d { top: 0, bottom: 1, left: 0, right: 1 });
    }

    #[test]
    fn same_with_stride_two_matches_tensorflow() {
        // TensorFlow: 224 input, 7x7 kernel, stride 2 -> out 112, total pad 5 = 2 top + 3 bottom.
        let p = Padding2d::same((224, 224), (7, 7), (2, 2), (1, 1)).unwrap();
        assert_eq!(p, Padding2d { top: 2, bottom: 3, left: 2, right: 3 });
        // 5 input, 3x3 kernel, stride 2 -> out 3, needed (3-1)*2+3 = 7, total pad 2 = 1 + 1.
        let p = Padding2d::same((5, 5), (3, 3), (2, 2), (1, 1)).unwrap();
        assert_eq!(p, Padding2d::uniform(1));
    }

    #[test]
    fn same_rejects_zero_stride() {
        let err = Padding2d::same((5, 5), (3, 3), (0, 1), (1, 1)).unwrap_err();
        assert!(err.to_string().contains("stride 0"), "{err}");
    }
}
