//! [`Algo::Tune`]: every algorithm that applies is built and timed once, at plan creation,
//! on random data of the layer's shape; the fastest plan is kept.

use super::algo::Algo;
use super::plan::Conv2d;
use crate::dispatch::PlanOptions;
use crate::epilogue::Epilogue;
use crate::error::Result;
use crate::random::signed_uniform;
use crate::shape::Conv2dDesc;
use std::time::{Duration, Instant};

/// Timed runs per candidate after one warm-up; the fastest counts (the least disturbed by
/// other work on the machine).
const RUNS: usize = 3;

pub(super) fn fastest(
    desc: &Conv2dDesc,
    weights: &[f32],
    bias: Option<&[f32]>,
    epilogue: &Epilogue,
    options: PlanOptions,
) -> Result<Conv2d> {
    let s = desc.validate()?;
    let input = signed_uniform(s.input_len, 1);
    let residual = epilogue.residual.then(|| signed_uniform(s.output_len, 2));
    let mut output = vec![0.0f32; s.output_len];
    let mut best: Option<(Duration, Conv2d)> = None;
    for algo in Algo::CONCRETE.into_iter().filter(|a| a.applies_to(desc)) {
        let plan = Conv2d::with_options(desc, weights, bias, epilogue, algo, options)?;
        let mut scratch = vec![0.0f32; plan.scratch_len()];
        let mut time = Duration::MAX;
        for run in 0..=RUNS {
            let start = Instant::now();
            plan.run(&input, residual.as_deref(), &mut output, &mut scratch)?;
            if run > 0 {
                time = time.min(start.elapsed());
            }
        }
        if best.as_ref().is_none_or(|(t, _)| time < *t) {
            best = Some((time, plan));
        }
    }
    Ok(best.expect("im2col applies to every convolution").1)
}
