use crate::epilogue::Activation;
use crate::error::{Result, check_len, invalid};

/// The activation applied to every element.
pub fn activation(act: Activation, input: &[f32]) -> Vec<f32> {
    input.iter().map(|&x| act.apply(x)).collect()
}

/// Softmax over each row of `rows x cols`, computed stably: exp(x - max) / sum.
pub fn softmax(rows: usize, cols: usize, input: &[f32]) -> Result<Vec<f32>> {
    if cols == 0 {
        return invalid!("softmax: `cols` is 0, it must be at least 1");
    }
    check_len("input", input.len(), rows.saturating_mul(cols))?;
    let mut out = Vec::with_capacity(input.len());
    for row in input.chunks_exact(cols) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
        let exps: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        out.extend(exps.iter().map(|e| (e / sum) as f32));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_by_hand() {
        let x = [-2.0, -0.5, 0.0, 3.0, 7.0];
        assert_eq!(activation(Activation::Relu, &x), vec![0.0, 0.0, 0.0, 3.0, 7.0]);
        assert_eq!(activation(Activation::Relu6, &x), vec![0.0, 0.0, 0.0, 3.0, 6.0]);
        assert_eq!(activation(Activation::LeakyRelu(0.5), &x), vec![-1.0, -0.25, 0.0, 3.0, 7.0]);
        let s = activation(Activation::Sigmoid, &[0.0, 1000.0, -1000.0]);
        assert_eq!(s, vec![0.5, 1.0, 0.0]);
    }

    #[test]
    fn softmax_is_stable_and_sums_to_one() {
        // Large logits would overflow exp without subtracting the max.
        assert_eq!(softmax(1, 2, &[1000.0, 1000.0]).unwrap(), vec![0.5, 0.5]);
        // 1000 + ln 2 rounds in f32 (spacing 6e-5 at 1000), so the ratio is 2 only to ~1e-4.
        let y = softmax(1, 3, &[1000.0, 1000.0, 1000.0 + 2f32.ln()]).unwrap();
        for (got, want) in y.iter().zip([0.25, 0.25, 0.5]) {
            assert!((got - want).abs() < 2e-5, "{y:?}");
        }
        let y = softmax(2, 2, &[0.0, 0.0, -1.0, 1.0]).unwrap();
        assert_eq!(y[0], 0.5);
        assert!((y[2] + y[3] - 1.0).abs() < 1e-7);
    }
}
