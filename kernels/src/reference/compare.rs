/// The largest `|got - want|` relative to the largest `|want|` (at least the smallest
/// normal float, so an all-zero reference divides safely): the one figure the checks of
/// whole layers and networks report. A NaN difference is infinitely wrong (`f32::max`
/// alone would pass over it). `got` is any run of values, e.g. a channel slice gathered
/// from each image.
pub fn max_relative_error<'a>(got: impl IntoIterator<Item = &'a f32>, want: &[f32]) -> f32 {
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    let difference = |(g, w): (&f32, &f32)| if (g - w).is_nan() { f32::INFINITY } else { (g - w).abs() };
    got.into_iter().zip(want).map(difference).fold(0f32, f32::max) / scale
}

#[cfg(test)]
mod tests {
    use super::max_relative_error;

    #[test]
    fn relative_to_the_largest_reference_value_and_nan_is_infinite() {
        assert_eq!(max_relative_error(&[1.0, -2.5], &[1.0, -2.0]), 0.25);
        assert_eq!(max_relative_error(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(max_relative_error(&[1.0, f32::NAN], &[1.0, 2.0]), f32::INFINITY);
        assert_eq!(max_relative_error(&[f32::NAN, 1.0], &[1.0, 2.0]), f32::INFINITY);
    }
}
