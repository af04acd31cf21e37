use crate::error::{Result, check_len, checked_product, invalid};
use crate::shape::{Pool2dDesc, PoolKind};

/// Max or average pooling by PyTorch's definition. Padding counts as -inf for max; for
/// average, the divisor is the window clipped to the padded input (`count_include_pad`) or
/// the number of real elements it covers.
pub fn pool2d(desc: &Pool2dDesc, input: &[f32]) -> Result<Vec<f32>> {
    let s = desc.validate()?;
    check_len("input", input.len(), s.input_len)?;
    let (h, w) = (desc.in_h, desc.in_w);
    let mut out = vec![0.0f32; s.output_len];
    for plane in 0..desc.batch * desc.channels {
        let x = &input[plane * h * w..(plane + 1) * h * w];
        for oh in 0..s.out_h {
            for ow in 0..s.out_w {
                // Window in padded coordinates, then clipped.
                let h0 = (oh * desc.stride_h) as isize - desc.padding.top as isize;
                let w0 = (ow * desc.stride_w) as isize - desc.padding.left as isize;
                let value = match desc.kind {
                    PoolKind::Max => {
                        let mut m = f32::NEG_INFINITY;
                        for r in 0..desc.kernel_h {
                            for q in 0..desc.kernel_w {
                                let ih = h0 + (r * desc.dilation_h) as isize;
                                let iw = w0 + (q * desc.dilation_w) as isize;
                                if (0..h as isize).contains(&ih) && (0..w as isize).contains(&iw) {
                                    let v = x[ih as usize * w + iw as usize];
                                    // NaN propagates, as in PyTorch.
                                    if v > m || v.is_nan() {
                                        m = v;
                                    }
                                }
                            }
                        }
                        m
                    }
                    PoolKind::Avg => {
                        let h1 = (h0 + desc.kernel_h as isize).min((h + desc.padding.bottom) as isize);
                        let w1 = (w0 + desc.kernel_w as isize).min((w + desc.padding.right) as isize);
                        let padded_count = (h1 - h0) * (w1 - w0);
                        let (ch0, cw0) = (h0.max(0), w0.max(0));
                        let (ch1, cw1) = (h1.min(h as isize), w1.min(w as isize));
                        let mut sum = 0.0f64;
                        for ih in ch0..ch1 {
                            for iw in cw0..cw1 {
                                sum += x[ih as usize * w + iw as usize] as f64;
                            }
                        }
                        let divisor =
                            if desc.count_include_pad { padded_count } else { (ch1 - ch0).max(0) * (cw1 - cw0).max(0) };
                        (sum / divisor.max(1) as f64) as f32
                    }
                };
                out[(plane * s.out_h + oh) * s.out_w + ow] = value;
            }
        }
    }
    Ok(out)
}

/// Global average or max pooling: NCHW -> NC.
pub fn global_pool2d(kind: PoolKind, batch: usize, channels: usize, hw: usize, input: &[f32]) -> Result<Vec<f32>> {
    if hw == 0 {
        return invalid!("global_pool2d: `hw` is 0, the spatial size must be at least 1");
    }
    let len = checked_product("global_pool2d input N*C*H*W", &[batch, channels, hw])?;
    check_len("input", input.len(), len)?;
    Ok(input
        .chunks_exact(hw)
        .map(|plane| match kind {
            PoolKind::Max => {
                plane.iter().copied().fold(f32::NEG_INFINITY, |m, v| if v > m || v.is_nan() { v } else { m })
            }
            PoolKind::Avg => (plane.iter().map(|&v| v as f64).sum::<f64>() / hw as f64) as f32,
        })
        .collect())
}

/// PyTorch's adaptive average pooling: output cell i averages input rows
/// floor(i*H/OH) .. ceil((i+1)*H/OH), and the same for columns.
pub fn adaptive_avg_pool2d(
    batch: usize,
    channels: usize,
    (in_h, in_w): (usize, usize),
    (out_h, out_w): (usize, usize),
    input: &[f32],
) -> Result<Vec<f32>> {
    for (field, v) in [("in_h", in_h), ("in_w", in_w), ("out_h", out_h), ("out_w", out_w)] {
        if v == 0 {
            return invalid!("adaptive_avg_pool2d: `{field}` is 0, it must be at least 1");
        }
    }
    let len = checked_product("adaptive_avg_pool2d input", &[batch, channels, in_h, in_w])?;
    check_len("input", input.len(), len)?;
    let mut out = Vec::with_capacity(batch * channels * out_h * out_w);
    for plane in input.chunks_exact(in_h * in_w) {
        for i in 0..out_h {
            let (h0, h1) = (i * in_h / out_h, ((i + 1) * in_h).div_ceil(out_h));
            for j in 0..out_w {
                let (w0, w1) = (j * in_w / out_w, ((j + 1) * in_w).div_ceil(out_w));
                let mut sum = 0.0f64;
                for ih in h0..h1 {
                    for iw in w0..w1 {
                        sum += plane[ih * in_w + iw] as f64;
                    }
                }
                out.push((sum / ((h1 - h0) * (w1 - w0)) as f64) as f32);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iota(n: usize) -> Vec<f32> {
        (0..n).map(|v| v as f32).collect()
    }

    #[test]
    fn max_pool_2x2() {
        let d = Pool2dDesc::new(PoolKind::Max, 1, 1, (4, 4), 2);
        assert_eq!(pool2d(&d, &iota(16)).unwrap(), vec![5.0, 7.0, 13.0, 15.0]);
    }

    #[test]
    fn max_pool_3x3_s2_p1_ignores_padding() {
        // All-negative input: padding must not contribute a 0.
        let x: Vec<f32> = iota(16).iter().map(|v| -1.0 - v).collect();
        let d = Pool2dDesc::new(PoolKind::Max, 1, 1, (4, 4), 3).stride(2).pad(1);
        assert_eq!(pool2d(&d, &x).unwrap(), vec![-1.0, -2.0, -5.0, -6.0]);
    }

    #[test]
    fn avg_pool_count_include_pad() {
        // 2x2 ones, kernel 2, stride 1, pad 1 -> 3x3; the corner window holds one real 1.
        let d = Pool2dDesc::new(PoolKind::Avg, 1, 1, (2, 2), 2).stride(1).pad(1);
        let with_pad = pool2d(&d, &[1.0; 4]).unwrap();
        assert_eq!(with_pad, vec![0.25, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25]);
        let without = pool2d(&d.count_include_pad(false), &[1.0; 4]).unwrap();
        assert_eq!(without, vec![1.0; 9]);
    }

    #[test]
    fn avg_pool_ceil_mode_clips_the_divisor_to_the_padded_input() {
        // 3 wide, kernel 2, stride 2, ceil: windows [0,2) and [2,4); the second is clipped to
        // the input (no padding), so its divisor is 1 even with count_include_pad.
        let d = Pool2dDesc::new(PoolKind::Avg, 1, 1, (1, 3), 1).ceil_mode(true);
        let d = Pool2dDesc { kernel_w: 2, stride_w: 2, ..d };
        assert_eq!(pool2d(&d, &[1.0, 3.0, 5.0]).unwrap(), vec![2.0, 5.0]);
    }

    #[test]
    fn global_pools() {
        let x = iota(8);
        assert_eq!(global_pool2d(PoolKind::Avg, 1, 2, 4, &x).unwrap(), vec![1.5, 5.5]);
        assert_eq!(global_pool2d(PoolKind::Max, 2, 1, 4, &x).unwrap(), vec![3.0, 7.0]);
    }

    #[test]
    fn adaptive_follows_pytorch_windows() {
        // 5 -> 3: windows [0,2), [1,4), [3,5).
        let x = iota(5);
        let y = adaptive_avg_pool2d(1, 1, (1, 5), (1, 3), &x).unwrap();
        assert_eq!(y, vec![0.5, 2.0, 3.5]);
        // Same size is the identity.
        let x = iota(12);
        assert_eq!(adaptive_avg_pool2d(1, 1, (3, 4), (3, 4), &x).unwrap(), x);
    }
}
