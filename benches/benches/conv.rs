//! Convolution plans on layer shapes of ResNet, VGG, MobileNetV2 and AlexNet, each algorithm
//! that applies (im2col, 1x1 GEMM, Winograd F(2x2)/F(4x4)/F(6x6), the 3x3 split of larger
//! kernels) and `Auto`, on 1 and 2 threads.
//! Throughput is the direct convolution's flops (2*N*K*C/G*R*S*OH*OW) whatever the
//! algorithm, so criterion's "elem/s" reads as FLOP/s, effective FLOP/s for Winograd.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ferrocnn_benches::{conv_cases, data, pool};
use ferrocnn_kernels::{Algo, Conv2d, Epilogue, PlanOptions};
use std::time::Duration;

fn conv_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    for case in conv_cases() {
        let shape = case.desc.validate().unwrap();
        let input = data(shape.input_len, 1);
        let weights = data(shape.weight_len, 2);
        let mut output = vec![0.0f32; shape.output_len];
        group.throughput(Throughput::Elements(case.desc.flops().unwrap()));
        for threads in [1, 2] {
            let pool = pool(threads);
            for algo in [
                Algo::Auto,
                Algo::Im2col,
                Algo::Gemm1x1,
                Algo::WinogradF2,
                Algo::WinogradF4,
                Algo::WinogradF6,
                Algo::WinogradSplit,
            ] {
                if !algo.applies_to(&case.desc) {
                    continue;
                }
                let options = PlanOptions { threads, ..PlanOptions::default() };
                let plan = Conv2d::with_options(&case.desc, &weights, None, &Epilogue::new(), algo, options).unwrap();
                let mut scratch = vec![0.0f32; plan.scratch_len()];
                group.bench_function(BenchmarkId::new(format!("{algo}_{threads}t"), case.name), |bench| {
                    pool.install(|| bench.iter(|| plan.run(&input, None, &mut output, &mut scratch).unwrap()))
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, conv_group);
criterion_main!(benches);
