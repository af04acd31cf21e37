use crate::error::{Result, check_len, checked_product, invalid};

/// Inference batch-norm over NCHW: `y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c]`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    batch: usize,
    channels: usize,
    hw: usize,
    input: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
) -> Result<Vec<f32>> {
    let len = checked_product("batch_norm input N*C*H*W", &[batch, channels, hw])?;
    check_len("input", input.len(), len)?;
    for (name, v) in [("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)] {
        check_len(name, v.len(), channels)?;
    }
    if eps.is_nan() || eps < 0.0 {
        return invalid!("batch_norm: `eps` must be >= 0, got {eps}");
    }
    let mut out = Vec::with_capacity(len);
    for (i, plane) in input.chunks_exact(hw.max(1)).enumerate().take(batch * channels) {
        let c = i % channels;
        let inv = 1.0 / (var[c] as f64 + eps as f64).sqrt();
        out.extend(
            plane.iter().map(|&x| ((x as f64 - mean[c] as f64) * inv * gamma[c] as f64 + beta[c] as f64) as f32),
        );
    }
    Ok(out)
}

/// Local response normalisation across channels, PyTorch's `LocalResponseNorm(size, alpha,
/// beta, k)`: b_c = a_c / (k + alpha/size * sum of a_j^2 for j in c-size/2 ..= c+(size-1)/2)^beta.
#[allow(clippy::too_many_arguments)]
pub fn lrn(
    batch: usize,
    channels: usize,
    hw: usize,
    input: &[f32],
    size: usize,
    alpha: f32,
    beta: f32,
    k: f32,
) -> Result<Vec<f32>> {
    if size == 0 {
        return invalid!("lrn: `size` is 0, it must be at least 1");
    }
    let len = checked_product("lrn input N*C*H*W", &[batch, channels, hw])?;
    check_len("input", input.len(), len)?;
    let mut out = vec![0.0f32; len];
    for n in 0..batch {
        for c in 0..channels {
            let lo = c.saturating_sub(size / 2);
            let hi = (c + (size - 1) / 2).min(channels - 1);
            for p in 0..hw {
                let sum: f64 = (lo..=hi)
                    .map(|j| {
                        let a = input[(n * channels + j) * hw + p] as f64;
                        a * a
                    })
                    .sum();
                let denom = (k as f64 + alpha as f64 / size as f64 * sum).powf(beta as f64);
                let idx = (n * channels + c) * hw + p;
                out[idx] = (input[idx] as f64 / denom) as f32;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_norm_by_hand() {
        // Channel 0: mean 1, var 4 -> (x-1)/2; channel 1: gamma 3, beta -1.
        let x = [1.0, 3.0, 5.0, 0.0, 1.0, 2.0];
        let y = batch_norm(1, 2, 3, &x, &[1.0, 3.0], &[0.0, -1.0], &[1.0, 0.0], &[4.0, 1.0], 0.0).unwrap();
        assert_eq!(y, vec![0.0, 1.0, 2.0, -1.0, 2.0, 5.0]);
    }

    #[test]
    fn lrn_by_hand() {
        // 3 channels of one pixel, size 3, alpha 3, beta 1, k 1: denominator for channel 1 is
        // 1 + 3/3 * (1 + 4 + 9) = 15; channel 0 sees channels 0..=1: 1 + 5 = 6.
        let y = lrn(1, 3, 1, &[1.0, 2.0, 3.0], 3, 3.0, 1.0, 1.0).unwrap();
        assert_eq!(y, vec![1.0 / 6.0, 2.0 / 15.0, 3.0 / 14.0]);
    }

    #[test]
    fn lrn_even_size_window_leans_before() {
        // size 2: window c-1 ..= c (PyTorch pads size/2 = 1 before, (size-1)/2 = 0 after).
        let y = lrn(1, 2, 1, &[1.0, 2.0], 2, 2.0, 1.0, 0.0).unwrap();
        assert_eq!(y, vec![1.0 / 1.0, 2.0 / 5.0]);
    }
}
