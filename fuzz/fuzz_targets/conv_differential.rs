//! Conv descriptors and data from arbitrary bytes: every algorithm on every ISA either
//! returns `Err` exactly when the reference does, or matches it within the GEMM bound.
#![no_main]

use ferrocnn_kernels::dispatch::supported_isas;
use ferrocnn_kernels::{Algo, Conv2d, Conv2dDesc, Epilogue, Padding2d, PlanOptions, reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 16 {
        return;
    }
    let b = |i: usize, max: u8| (bytes[i] % (max + 1)) as usize;
    // Fields may be zero or inconsistent on purpose: validation is part of what is fuzzed.
    let desc = Conv2dDesc::new(b(0, 3), b(1, 24), (b(2, 16), b(3, 16)), b(4, 24), (b(5, 8), b(6, 8)))
        .stride(b(7, 4))
        .dilation(b(8, 3))
        .groups(b(9, 6))
        .padding(Padding2d { top: b(10, 4), bottom: b(11, 4), left: b(12, 4), right: b(13, 4) });
    let data = &bytes[16..];
    let value = |i: usize| data.get(i % data.len().max(1)).map_or(0.5, |&v| v as f32 / 128.0 - 1.0);
    let Ok(shape) = desc.validate() else {
        for algo in Algo::ALL {
            assert!(Conv2d::new(&desc, &[], None, &Epilogue::new(), algo).is_err());
        }
        return;
    };
    let input: Vec<f32> = (0..shape.input_len).map(value).collect();
    let weights: Vec<f32> = (0..shape.weight_len).map(|i| value(i * 7 + 3)).collect();
    let want = reference::conv2d(&desc, &input, &weights, None).unwrap();
    let magnitude = reference::conv2d_magnitude(&desc, &input, &weights).unwrap();
    for isa in supported_isas() {
        for algo in [Algo::Auto, Algo::Im2col, Algo::Gemm1x1] {
            let options = PlanOptions { isa, threads: 1 + (bytes[14] % 2) as usize };
            let Ok(plan) = Conv2d::with_options(&desc, &weights, None, &Epilogue::new(), algo, options) else {
                assert!(!algo.applies_to(&desc), "{algo} refused a valid {desc:?}");
                continue;
            };
            let mut out = vec![0.0; shape.output_len];
            let mut scratch = vec![0.0; plan.scratch_len()];
            plan.run(&input, None, &mut out, &mut scratch).unwrap();
            for i in 0..out.len() {
                // Higham's bound for a dot product of `reduction` terms, with margin.
                let bound = (shape.reduction as f32 + 2.0) * f32::EPSILON * magnitude[i] + f32::EPSILON * want[i].abs();
                assert!((out[i] - want[i]).abs() <= bound, "{desc:?} {isa} {algo}: {} vs {}", out[i], want[i]);
            }
        }
    }
});
