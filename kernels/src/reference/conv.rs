use crate::error::{Result, check_len};
use crate::shape::Conv2dDesc;

/// Direct convolution by its definition: NCHW input, OIHW weights, optional bias per output
/// channel; f64 accumulation.
pub fn conv2d(desc: &Conv2dDesc, input: &[f32], weights: &[f32], bias: Option<&[f32]>) -> Result<Vec<f32>> {
    let mut out = vec![0.0f32; desc.validate()?.output_len];
    conv2d_into(desc, input, weights, bias, &mut out)?;
    Ok(out)
}

/// [`conv2d`] into a caller's buffer, allocating nothing.
pub fn conv2d_into(
    desc: &Conv2dDesc,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<()> {
    let s = desc.validate()?;
    check_len("input", input.len(), s.input_len)?;
    check_len("weights", weights.len(), s.weight_len)?;
    check_len("output", out.len(), s.output_len)?;
    if let Some(b) = bias {
        check_len("bias", b.len(), desc.out_channels)?;
    }
    let (cg, kg) = (s.group_in_channels, s.group_out_channels);
    for n in 0..desc.batch {
        for k in 0..desc.out_channels {
            let g = k / kg;
            for oh in 0..s.out_h {
                for ow in 0..s.out_w {
                    let mut acc = bias.map_or(0.0, |b| b[k] as f64);
                    for c in 0..cg {
                        let ic = g * cg + c;
                        for r in 0..desc.kernel_h {
                            let Some(ih) = tap(oh, desc.stride_h, r, desc.dilation_h, desc.padding.top, desc.in_h)
                            else {
                                continue;
                            };
                            for q in 0..desc.kernel_w {
                                let Some(iw) = tap(ow, desc.stride_w, q, desc.dilation_w, desc.padding.left, desc.in_w)
                                else {
                                    continue;
                                };
                                let x = input[((n * desc.in_channels + ic) * desc.in_h + ih) * desc.in_w + iw];
                                let w = weights[((k * cg + c) * desc.kernel_h + r) * desc.kernel_w + q];
                                acc += x as f64 * w as f64;
                            }
                        }
                    }
                    out[((n * desc.out_channels + k) * s.out_h + oh) * s.out_w + ow] = acc as f32;
                }
            }
        }
    }
    Ok(())
}

/// The same convolution over |input| and |weights|, without bias: for each output, the sum of
/// the magnitudes of its terms. A float dot product of length n is exact to within
/// n * eps * (this sum) (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), which is
/// what the tests scale their tolerances by.
pub fn conv2d_magnitude(desc: &Conv2dDesc, input: &[f32], weights: &[f32]) -> Result<Vec<f32>> {
    let abs_in: Vec<f32> = input.iter().map(|v| v.abs()).collect();
    let abs_w: Vec<f32> = weights.iter().map(|v| v.abs()).collect();
    conv2d(desc, &abs_in, &abs_w, None)
}

/// The input index that output `o` reads through kernel tap `t`, or `None` in the padding.
fn tap(o: usize, stride: usize, t: usize, dilation: usize, pad: usize, extent: usize) -> Option<usize> {
    (o * stride + t * dilation).checked_sub(pad).filter(|&i| i < extent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Padding2d;

    #[test]
    fn valid_ones_give_fours() {
        // 3x3 image of ones, 2x2 filter of ones, VALID: 2x2 of 4s.
        let d = Conv2dDesc::new(1, 1, (3, 3), 1, (2, 2));
        let y = conv2d(&d, &[1.0; 9], &[1.0; 4], None).unwrap();
        assert_eq!(y, vec![4.0; 4]);
    }

    #[test]
    fn same_ones_pad_bottom_right() {
        // SAME: the extra row and column of padding go to the bottom and right, so the last
        // row and column see only half the filter and the corner a quarter.
        let d = Conv2dDesc::new(1, 1, (3, 3), 1, (2, 2)).same().unwrap();
        assert_eq!(d.padding, Padding2d { top: 0, bottom: 1, left: 0, right: 1 });
        let y = conv2d(&d, &[1.0; 9], &[1.0; 4], None).unwrap();
        assert_eq!(y, vec![4.0, 4.0, 2.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0]);
    }

    #[test]
    fn stride_dilation_groups_and_bias() {
        // Input 1..=16 in a 4x4, two groups of one channel each (second channel = -input).
        let mut x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
        x.extend((1..=16).map(|v| -(v as f32)));
        // Group 0 filter: top-left and bottom-right taps (dilation 2 puts them 2 apart).
        // Group 1 filter: all ones.
        let w = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let d = Conv2dDesc::new(1, 2, (4, 4), 2, (2, 2)).dilation(2).stride(2).groups(2);
        let y = conv2d(&d, &x, &w, Some(&[0.5, 10.0])).unwrap();
        // Output 1x1 per channel (span 3 in 4, stride 2 -> (4-3)/2+1 = 1).
        // ch0: x[0][0] + x[2][2] + 0.5 = 1 + 11 + 0.5; ch1: -(1 + 3 + 9 + 11) + 10.
        assert_eq!(y, vec![12.5, -14.0]);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let d = Conv2dDesc::new(1, 1, (3, 3), 1, (2, 2));
        let e = conv2d(&d, &[1.0; 8], &[1.0; 4], None).unwrap_err();
        assert_eq!(e.to_string(), "`input` has 8 elements, the descriptor needs 9");
        let e = conv2d(&d, &[1.0; 9], &[1.0; 4], Some(&[0.0, 1.0])).unwrap_err();
        assert_eq!(e.to_string(), "`bias` has 2 elements, the descriptor needs 1");
    }
}
