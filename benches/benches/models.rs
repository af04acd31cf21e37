//! Whole networks at batch 1, 1 and 2 threads: the six the peers are compared on (ResNet-18,
//! ResNet-50, VGG-16, MobileNetV2, GoogLeNet, AlexNet), random seeded weights, `Algo::Auto`.
//! Throughput is the network's flops per image, so criterion's "elem/s" reads as FLOP/s.
//! `ferrocnn bench MODEL` measures the same with percent of peak and memory.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ferrocnn_benches::{data, pool};
use ferrocnn_models::kernels::PlanOptions;
use ferrocnn_models::nn::Model;
use ferrocnn_models::zoo;
use std::time::Duration;

const MODELS: [&str; 6] = ["resnet18", "resnet50", "vgg16", "mobilenet-v2", "googlenet", "alexnet"];

fn models_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("models");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for name in MODELS {
        let graph = zoo::graph(name).expect("a zoo model");
        let input = data(graph.input().len(), 7);
        group.throughput(Throughput::Elements(graph.flops()));
        for threads in [1, 2] {
            let pool = pool(threads);
            let mut model = Model::random(graph, 1);
            model.set_options(PlanOptions { threads, ..PlanOptions::default() });
            let mut program = pool.install(|| model.into_program(1)).expect("the zoo's models compile");
            group.bench_function(BenchmarkId::new(format!("{threads}t"), name), |bench| {
                pool.install(|| bench.iter(|| program.run(&input).unwrap().len()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, models_group);
criterion_main!(benches);
