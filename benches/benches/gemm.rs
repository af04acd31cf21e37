//! SGEMM, C = A*B row-major, against the `gemm` and `matrixmultiply` crates in the same
//! group. Throughput is 2*M*N*K flops, so criterion's "elem/s" reads as FLOP/s.
//!
//! `ferrocnn` is the one-shot `sgemm` (packs A and B on every call, like the baselines);
//! `ferrocnn_plan` keeps A packed, as a layer's weights are in inference.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ferrocnn_benches::{GEMM_SHAPES, data, pool};
use ferrocnn_kernels::{Epilogue, Gemm, PlanOptions, sgemm};
use std::hint::black_box;
use std::time::Duration;

fn sgemm_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for &(m, n, k) in GEMM_SHAPES {
        let id = format!("{m}x{n}x{k}");
        let (a, b) = (data(m * k, 1), data(k * n, 2));
        let mut out = vec![0.0f32; m * n];
        group.throughput(Throughput::Elements(2 * (m * n * k) as u64));
        for threads in [1, 2] {
            let options = PlanOptions { threads, ..PlanOptions::default() };
            let pool = pool(threads);
            group.bench_function(BenchmarkId::new(format!("ferrocnn_{threads}t"), &id), |bench| {
                pool.install(|| {
                    bench.iter(|| sgemm(m, n, k, &a, &b, &mut out, &Epilogue::new(), None, options).unwrap())
                })
            });
            let plan = Gemm::new(m, k, &a, &Epilogue::new(), options).unwrap();
            let mut scratch = vec![0.0f32; plan.scratch_len(n)];
            group.bench_function(BenchmarkId::new(format!("ferrocnn_plan_{threads}t"), &id), |bench| {
                pool.install(|| bench.iter(|| plan.run(n, &b, None, &mut out, &mut scratch).unwrap()))
            });
            let parallelism = if threads == 1 { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(threads) };
            group.bench_function(BenchmarkId::new(format!("gemm_crate_{threads}t"), &id), |bench| {
                bench.iter(|| {
                    // SAFETY: row-major m x k, k x n and m x n buffers with the strides given.
                    unsafe {
                        gemm::gemm(
                            m,
                            n,
                            k,
                            out.as_mut_ptr(),
                            1,
                            n as isize,
                            false,
                            a.as_ptr(),
                            1,
                            k as isize,
                            b.as_ptr(),
                            1,
                            n as isize,
                            0.0f32,
                            1.0f32,
                            false,
                            false,
                            false,
                            parallelism,
                        )
                    }
                })
            });
        }
        group.bench_function(BenchmarkId::new("matrixmultiply_1t", &id), |bench| {
            bench.iter(|| {
                // SAFETY: row-major m x k, k x n and m x n buffers with the strides given.
                unsafe {
                    matrixmultiply::sgemm(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        k as isize,
                        1,
                        b.as_ptr(),
                        n as isize,
                        1,
                        0.0,
                        out.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                }
            })
        });
        black_box(&out);
    }
    group.finish();
}

criterion_group!(benches, sgemm_group);
criterion_main!(benches);
