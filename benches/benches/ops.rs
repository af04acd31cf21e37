//! The layers besides dense convolution, on shapes from the zoo's networks, 1 and 2 threads:
//! depthwise (MobileNetV2), pooling (ResNet's stem pool, GoogLeNet's inception pools, the
//! global pool before ResNet-50's classifier), linear at batch 1 (AlexNet's fc6, ResNet's fc),
//! standalone batch-norm and ReLU. Depthwise reports FLOP/s ("elem/s"); the memory-bound
//! rest report the bytes they must move (read once, written once), to compare with the
//! machine's bandwidth.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ferrocnn_benches::{data, pool};
use ferrocnn_kernels::ops::{Activate, BatchNorm, BatchNorm2d, GlobalPool2d, Linear, Pool2d};
use ferrocnn_kernels::{Activation, Algo, Conv2d, Conv2dDesc, Epilogue, PlanOptions, Pool2dDesc, PoolKind};
use std::time::Duration;

const THREADS: [usize; 2] = [1, 2];

fn options(threads: usize) -> PlanOptions {
    PlanOptions { threads, ..PlanOptions::default() }
}

fn depthwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("depthwise");
    group.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    for (name, channels, hw, stride) in [
        ("mobilenetv2_144x56_s1", 144, 56, 1),
        ("mobilenetv2_144x56_s2", 144, 56, 2),
        ("mobilenetv2_576x14_s1", 576, 14, 1),
        ("mobilenetv2_960x7_s1", 960, 7, 1),
        ("mobilenetv2_96x112_s2", 96, 112, 2),
    ] {
        let desc = Conv2dDesc::new(1, channels, (hw, hw), channels, (3, 3)).stride(stride).pad(1).groups(channels);
        let shape = desc.validate().unwrap();
        let (input, weights) = (data(shape.input_len, 1), data(shape.weight_len, 2));
        let mut output = vec![0.0f32; shape.output_len];
        group.throughput(Throughput::Elements(desc.flops().unwrap()));
        for threads in THREADS {
            let epilogue = Epilogue::new().activation(Activation::Relu6);
            let plan =
                Conv2d::with_options(&desc, &weights, None, &epilogue, Algo::Depthwise, options(threads)).unwrap();
            let mut scratch = vec![0.0f32; plan.scratch_len()];
            let pool = pool(threads);
            group.bench_function(BenchmarkId::new(format!("{threads}t"), name), |b| {
                pool.install(|| b.iter(|| plan.run(&input, None, &mut output, &mut scratch).unwrap()))
            });
        }
    }
    group.finish();
}

/// Bytes a memory-bound layer must move: its input read and its output written once.
fn bytes(input: usize, output: usize) -> Throughput {
    Throughput::Bytes(4 * (input + output) as u64)
}

fn pooling(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool");
    group.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    let cases = [
        ("resnet_stem_max_3x3s2p1_64x112", Pool2dDesc::new(PoolKind::Max, 1, 64, (112, 112), 3).stride(2).pad(1)),
        ("googlenet_max_3x3s1p1_480x14", Pool2dDesc::new(PoolKind::Max, 1, 480, (14, 14), 3).stride(1).pad(1)),
        ("vgg_max_2x2_512x28", Pool2dDesc::new(PoolKind::Max, 1, 512, (28, 28), 2)),
    ];
    for (name, desc) in cases {
        let shape = desc.validate().unwrap();
        let input = data(shape.input_len, 1);
        let mut output = vec![0.0f32; shape.output_len];
        group.throughput(bytes(shape.input_len, shape.output_len));
        for threads in THREADS {
            let plan = Pool2d::new(&desc, options(threads)).unwrap();
            let mut scratch = vec![0.0f32; plan.scratch_len()];
            let pool = pool(threads);
            group.bench_function(BenchmarkId::new(format!("{threads}t"), name), |b| {
                pool.install(|| b.iter(|| plan.run(&input, &mut output, &mut scratch).unwrap()))
            });
        }
    }
    let (channels, hw) = (2048, 49);
    let input = data(channels * hw, 1);
    let mut output = vec![0.0f32; channels];
    group.throughput(bytes(input.len(), channels));
    for threads in THREADS {
        let plan = GlobalPool2d::new(PoolKind::Avg, 1, channels, hw, options(threads)).unwrap();
        let pool = pool(threads);
        group.bench_function(BenchmarkId::new(format!("{threads}t"), "resnet50_global_avg_2048x7"), |b| {
            pool.install(|| b.iter(|| plan.run(&input, &mut output).unwrap()))
        });
    }
    group.finish();
}

fn linear(c: &mut Criterion) {
    let mut group = c.benchmark_group("linear");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for (name, inputs, outputs) in [("alexnet_fc6_9216_to_4096", 9216, 4096), ("resnet50_fc_2048_to_1000", 2048, 1000)]
    {
        let (weights, bias, input) = (data(inputs * outputs, 1), data(outputs, 2), data(inputs, 3));
        let mut output = vec![0.0f32; outputs];
        // At batch 1 the weights dominate: each is read once per inference.
        group.throughput(Throughput::Bytes(4 * (inputs * outputs + inputs + outputs) as u64));
        for threads in THREADS {
            let plan = Linear::new(inputs, outputs, &weights, Some(&bias), Activation::Relu, options(threads)).unwrap();
            let pool = pool(threads);
            group.bench_function(BenchmarkId::new(format!("{threads}t"), name), |b| {
                pool.install(|| b.iter(|| plan.run(1, &input, &mut output, &mut []).unwrap()))
            });
        }
    }
    group.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise");
    group.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    let (channels, hw) = (256, 56 * 56);
    let x = data(channels * hw, 1);
    let (gamma, beta, mean) = (data(channels, 2), data(channels, 3), data(channels, 4));
    let var: Vec<f32> = data(channels, 5).iter().map(|v| v.abs() + 0.5).collect();
    let bn = BatchNorm { gamma: &gamma, beta: &beta, mean: &mean, var: &var, eps: 1e-5 };
    let mut buffer = x.clone();
    group.throughput(bytes(x.len(), x.len()));
    for threads in THREADS {
        let pool = pool(threads);
        let plan = BatchNorm2d::new(1, channels, hw, &bn, Activation::Relu, options(threads)).unwrap();
        group.bench_function(BenchmarkId::new(format!("{threads}t"), "batch_norm_relu_256x56"), |b| {
            pool.install(|| b.iter(|| plan.run(&mut buffer).unwrap()))
        });
        let relu = Activate::new(Activation::Relu, options(threads)).unwrap();
        group.bench_function(BenchmarkId::new(format!("{threads}t"), "relu_256x56"), |b| {
            pool.install(|| b.iter(|| relu.run(&mut buffer)))
        });
    }
    group.finish();
}

criterion_group!(benches, depthwise, pooling, linear, elementwise);
criterion_main!(benches);
