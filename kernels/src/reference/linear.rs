use crate::error::{Result, check_len, checked_product, invalid};

/// `y[n][o] = sum_i x[n][i] * w[o][i] + b[o]`; weights `[out, in]` as in PyTorch.
pub fn linear(
    batch: usize,
    in_features: usize,
    out_features: usize,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
) -> Result<Vec<f32>> {
    if in_features == 0 || out_features == 0 {
        return invalid!("linear: `in_features` {in_features} and `out_features` {out_features} must be at least 1");
    }
    check_len("input", input.len(), checked_product("linear input", &[batch, in_features])?)?;
    check_len("weights", weights.len(), checked_product("linear weights", &[out_features, in_features])?)?;
    if let Some(b) = bias {
        check_len("bias", b.len(), out_features)?;
    }
    let mut out = Vec::with_capacity(batch * out_features);
    for x in input.chunks_exact(in_features) {
        for (o, w) in weights.chunks_exact(in_features).enumerate() {
            let dot: f64 = x.iter().zip(w).map(|(&a, &b)| a as f64 * b as f64).sum();
            out.push((dot + bias.map_or(0.0, |b| b[o] as f64)) as f32);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_by_hand() {
        let w = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
        let y = linear(2, 3, 2, &[1.0, 1.0, 1.0, 2.0, 0.0, -1.0], &w, Some(&[0.5, 0.0])).unwrap();
        assert_eq!(y, vec![6.5, 0.0, -0.5, -3.0]);
    }
}
