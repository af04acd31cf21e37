use crate::epilogue::Epilogue;
use crate::error::{Result, check_len, checked_product, invalid};

/// a + b, elementwise.
pub fn add(a: &[f32], b: &[f32]) -> Result<Vec<f32>> {
    check_len("b", b.len(), a.len())?;
    Ok(a.iter().zip(b).map(|(x, y)| x + y).collect())
}

/// Concatenates NCHW tensors of equal N, H, W along channels; `parts` holds each tensor with
/// its channel count.
pub fn concat_channels(batch: usize, hw: usize, parts: &[(&[f32], usize)]) -> Result<Vec<f32>> {
    if parts.is_empty() {
        return invalid!("concat_channels: no inputs");
    }
    for (i, (data, channels)) in parts.iter().enumerate() {
        let expected = checked_product("concat_channels input", &[batch, *channels, hw])?;
        if data.len() != expected {
            return invalid!(
                "concat_channels: input {i} has {} elements, {batch}x{channels}x{hw} needs {expected}",
                data.len()
            );
        }
    }
    let mut out = Vec::new();
    for n in 0..batch {
        for (data, channels) in parts {
            out.extend_from_slice(&data[n * channels * hw..(n + 1) * channels * hw]);
        }
    }
    Ok(out)
}

/// The epilogue applied to an NCHW tensor in place, by its definition:
/// `y = activation(x * scale[c] + shift[c] + residual)`.
pub fn apply_epilogue(
    batch: usize,
    channels: usize,
    hw: usize,
    data: &mut [f32],
    epilogue: &Epilogue,
    residual: Option<&[f32]>,
) -> Result<()> {
    epilogue.validate(channels)?;
    let vectors = (epilogue.scale.as_deref(), epilogue.shift.as_deref());
    apply_epilogue_with(batch, channels, hw, data, vectors, epilogue, residual)
}

/// [`apply_epilogue`] with the per-channel `(scale, shift)` given apart from `epilogue`
/// (whose own vectors are ignored), as plans hold them after folding in a bias.
pub fn apply_epilogue_with(
    batch: usize,
    channels: usize,
    hw: usize,
    data: &mut [f32],
    (scale, shift): (Option<&[f32]>, Option<&[f32]>),
    epilogue: &Epilogue,
    residual: Option<&[f32]>,
) -> Result<()> {
    check_len("data", data.len(), checked_product("epilogue data", &[batch, channels, hw])?)?;
    for (name, v) in [("scale", scale), ("shift", shift)] {
        if let Some(v) = v {
            check_len(name, v.len(), channels)?;
        }
    }
    match (epilogue.residual, residual) {
        (true, Some(r)) => check_len("residual", r.len(), data.len())?,
        (true, None) => {
            return invalid!("epilogue: a residual add was declared but no residual buffer given");
        }
        (false, Some(_)) => {
            return invalid!("epilogue: a residual buffer was given but no residual add declared");
        }
        (false, None) => {}
    }
    for (i, y) in data.iter_mut().enumerate() {
        let c = (i / hw) % channels;
        let mut v = *y as f64 * scale.map_or(1.0, |s| s[c] as f64) + shift.map_or(0.0, |t| t[c] as f64);
        if let Some(r) = residual {
            v += r[i] as f64;
        }
        *y = epilogue.activation.apply(v as f32);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epilogue::Activation;

    #[test]
    fn concat_interleaves_per_image() {
        let a = [1.0, 2.0, 3.0, 4.0]; // N=2, C=1, HW=2
        let b = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]; // N=2, C=2, HW=2
        let y = concat_channels(2, 2, &[(&a, 1), (&b, 2)]).unwrap();
        assert_eq!(y, vec![1.0, 2.0, 5.0, 6.0, 7.0, 8.0, 3.0, 4.0, 9.0, 10.0, 11.0, 12.0]);
        let e = concat_channels(2, 2, &[(&a, 2)]).unwrap_err().to_string();
        assert!(e.contains("input 0 has 4 elements, 2x2x2 needs 8"), "{e}");
    }

    #[test]
    fn add_by_hand() {
        assert_eq!(add(&[1.0, 2.0], &[3.0, -2.0]).unwrap(), vec![4.0, 0.0]);
        assert!(add(&[1.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn epilogue_by_hand() {
        let ep = Epilogue::new().scale(vec![2.0, -1.0]).shift(vec![1.0, 0.0]).residual().activation(Activation::Relu);
        let mut y = vec![1.0, 2.0, 3.0, 4.0];
        apply_epilogue(1, 2, 2, &mut y, &ep, Some(&[0.0, -10.0, 1.0, 1.0])).unwrap();
        // ch0: 1*2+1+0 = 3, 2*2+1-10 = -5 -> 0; ch1: -3+1 = -2 -> 0, -4+1 -> 0.
        assert_eq!(y, vec![3.0, 0.0, 0.0, 0.0]);
    }
}
