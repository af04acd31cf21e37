//! `ferrocnn list | summary | bench`: the model zoo from the command line.

use super::args::Args;
use super::timing::{Budget, time};
use super::{Failure, pool, random_data};
use crate::nn::{Graph, Model, Program, ReferenceReport};
use crate::zoo::{MODELS, graph};
use ferrocnn_kernels::PlanOptions;
use ferrocnn_kernels::dispatch::active_isa;
use ferrocnn_kernels::peak::fma_peak_gflops;
use std::time::Instant;

/// Relative to each step's largest reference value; see `bench` for the measurements.
const CHECK_TOLERANCE: f32 = 1e-3;

/// The zoo graph named by the first positional argument or `--model`.
pub(super) fn graph_named(args: &Args) -> Result<Graph, String> {
    let name = match (args.positional(0), args.str("--model")) {
        (Some(a), Some(b)) if a != b => return Err(format!("the model is given twice: `{a}` and --model `{b}`")),
        (Some(name), _) | (None, Some(name)) => name,
        (None, None) => return Err("which model? e.g. `ferrocnn bench resnet50`; `ferrocnn list` names them".into()),
    };
    graph(name).ok_or_else(|| {
        let names: Vec<&str> = MODELS.iter().map(|(n, ..)| *n).collect();
        format!("--model: unknown model `{name}`; one of: {}", names.join(", "))
    })
}

/// [`graph_named`] with the weights of `--weights FILE`, or seeded random ones.
fn model_named(args: &Args) -> Result<Model, Failure> {
    let graph = graph_named(args)?;
    match args.str("--weights") {
        Some(path) => load_weights(graph, path),
        None => Ok(Model::random(graph, 1)),
    }
}

/// The model with the weights of safetensors file `path`; the error names the file.
pub(super) fn load_weights(graph: Graph, path: &str) -> Result<Model, Failure> {
    Model::from_safetensors(graph, path.as_ref()).map_err(|e| match e {
        crate::nn::Error::Io { .. } => Failure::Failed(format!("--weights {e}")),
        e => Failure::Failed(format!("--weights {path}: {e}")),
    })
}

pub fn list(args: &Args) -> Result<(), String> {
    args.allow_only(&[])?;
    println!("{:14} {:>13} {:>9}  input", "model", "parameters", "GFLOPs");
    for (name, graph, _) in MODELS {
        let input = graph.input();
        let params = crate::nn::thousands(graph.params());
        println!("{name:14} {params:>13} {:>9.2}  {input}", graph.flops() as f64 / 1e9);
    }
    Ok(())
}

pub fn summary(args: &Args) -> Result<(), Failure> {
    args.allow(&["--model", "--weights"], 1)?;
    println!("{}", model_named(args)?.summary());
    Ok(())
}

/// Times `forward` on random input; optionally per layer (`--per-layer`) and against the
/// reference run layer by layer (`--check`, batch 1).
pub fn bench(args: &Args) -> Result<(), Failure> {
    let known = ["--model", "--weights", "--batch", "--threads", "--iters", "--seconds", "--algo", "--json"];
    args.allow(&[&known[..], &["--layers", "--per-layer", "--check"]].concat(), 1)?;
    let mut model = model_named(args)?;
    let batch = args.usize_or("--batch", 1)?;
    if batch == 0 {
        return Err(Failure::Usage("--batch: must be at least 1, got 0".into()));
    }
    let budget = budget(args)?;
    let (pool, threads) = pool(args)?;
    let graph = *model.graph();
    super::check_memory("bench", (batch * graph.input().len()) as u128 + model.weights().bytes() as u128 / 2)?;
    let isa = active_isa();
    model.set_options(PlanOptions { isa, threads });
    if let Some(name) = args.str("--algo") {
        model.set_conv_algo(super::conv::algo_named(name)?);
    }
    let input = random_data(batch * graph.input().len(), 7);
    let err = |e: crate::nn::Error| Failure::Failed(format!("bench: {e}"));
    let check = if args.flag("--check") {
        let x = &input[..graph.input().len()];
        // Each step reads the program's own (rounded) inputs, so errors compound with depth.
        // Measured worst step: ResNet-18 1.3e-6, ResNet-50 2.2e-6, MobileNetV2 2.4e-5 (its
        // ReLU6 and depthwise layers amplify); 1e-3 is 40x the worst, small enough that a
        // wrong index or epilogue (errors of order 1) cannot pass.
        Some(pool.install(|| model.check_against_reference(x, 1, CHECK_TOLERANCE)).map_err(err)?)
    } else {
        None
    };
    let weight_mb = model.weights().bytes() as f64 / 1e6;
    let compile = Instant::now();
    // One batch size: the program takes the weights, releasing each layer's as it packs
    // them, so one copy is in memory, not two.
    let mut program = pool.install(|| model.into_program(batch)).map_err(err)?;
    let compile_ms = compile.elapsed().as_secs_f64() * 1e3;
    let timing = pool.install(|| {
        time(budget, || {
            program.run(&input).expect("input sized from the graph");
        })
    });
    let peak_rss = super::peak_rss_mb();
    let peak = fma_peak_gflops(isa, 0.3).map_err(|e| Failure::Failed(format!("bench: {e}")))? * threads as f64;
    let flops = graph.flops() as f64 * batch as f64;
    let gflops = flops / (timing.median_ms * 1e6);
    let rss_json = peak_rss.map_or("null".to_string(), |mb| format!("{mb:.1}"));
    if args.flag("--json") {
        println!(
            "{{\"op\":\"model\",\"model\":\"{}\",\"batch\":{batch},\"threads\":{threads},\"isa\":\"{isa}\",\"algo\":\"{}\",\"median_ms\":{:.3},\"min_ms\":{:.3},\"max_ms\":{:.3},\"images_per_s\":{:.1},\"gflops\":{gflops:.1},\"peak_gflops\":{peak:.1},\"compile_ms\":{compile_ms:.1},\"weights_mb\":{weight_mb:.1},\"peak_rss_mb\":{rss_json}}}",
            graph.name,
            model_algo(args),
            timing.median_ms,
            timing.min_ms,
            timing.max_ms,
            batch as f64 * 1e3 / timing.median_ms
        );
    } else {
        println!(
            "{} batch {batch}, {threads} thread(s), {isa}, conv {}: median {:.2} ms (min {:.2}, max {:.2}, {} runs), {:.1} images/s",
            graph.name,
            model_algo(args),
            timing.median_ms,
            timing.min_ms,
            timing.max_ms,
            timing.iters,
            batch as f64 * 1e3 / timing.median_ms
        );
        println!(
            "  {:.2} GFLOP per image, {gflops:.1} GFLOP/s = {:.0}% of the {peak:.0} GFLOP/s FMA peak measured now; compiled in {compile_ms:.0} ms",
            graph.flops() as f64 / 1e9,
            100.0 * gflops / peak
        );
        if let Some(mb) = peak_rss {
            let with_check = if check.is_some() { "; --check's reference pass holds every layer's value" } else { "" };
            println!(
                "  peak resident memory {mb:.1} MB (weights {weight_mb:.1} MB, activations {:.1} MB{with_check})",
                program.activation_bytes() as f64 / 1e6
            );
        }
    }
    if args.flag("--layers") || args.flag("--per-layer") {
        print_layers(&graph, &mut program, &pool, &input, batch, timing.iters).map_err(Failure::Failed)?;
    }
    if let Some(report) = check {
        print_check(&report);
    }
    Ok(())
}

/// `--iters I` (default 10) or `--seconds S`, not both.
fn budget(args: &Args) -> Result<Budget, String> {
    match (args.str("--iters"), args.str("--seconds")) {
        (Some(_), Some(_)) => Err("--iters and --seconds: give one or the other".into()),
        (_, Some(s)) => match s.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds > 0.0 => Ok(Budget::Seconds(seconds)),
            _ => Err(format!("--seconds: expected a positive number of seconds, got `{s}`")),
        },
        _ => Ok(Budget::Runs(args.usize_or("--iters", 10)?)),
    }
}

fn model_algo(args: &Args) -> &str {
    args.str("--algo").unwrap_or("auto")
}

/// Median time of each step over `iters` passes, with its share of the pass.
fn print_layers(
    graph: &Graph,
    program: &mut Program,
    pool: &rayon::ThreadPool,
    input: &[f32],
    batch: usize,
    iters: usize,
) -> Result<(), String> {
    let mut samples: Vec<Vec<f64>> = Vec::new();
    pool.install(|| {
        for _ in 0..iters.max(1) {
            let mut times = Vec::with_capacity(program.steps.len());
            let mut last = Instant::now();
            program.run_with(input, |_, _| {
                let now = Instant::now();
                times.push((now - last).as_secs_f64() * 1e3);
                last = now;
            })?;
            samples.push(times);
        }
        Ok::<_, crate::nn::Error>(())
    })
    .map_err(|e| format!("bench: {e}"))?;
    let medians: Vec<f64> = (0..samples[0].len())
        .map(|i| {
            let mut v: Vec<f64> = samples.iter().map(|s| s[i]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect();
    let total: f64 = medians.iter().sum();
    println!("  {:40} {:40} {:>9} {:>6} {:>9}", "layers (head .. tail)", "kernel", "ms", "%", "GFLOP/s");
    for (step, ms) in program.steps.iter().zip(&medians) {
        let s = &step.layout;
        let name = if s.head == s.tail {
            graph.nodes[s.head].name.to_string()
        } else {
            format!("{} .. {}", graph.nodes[s.head].name, graph.nodes[s.tail].name)
        };
        let flops = graph.nodes[s.head].flops(graph) as f64 * batch as f64;
        let rate = if flops > 0.0 { format!("{:.1}", flops / (ms * 1e6)) } else { String::new() };
        println!("  {name:40} {:40} {ms:9.3} {:6.1} {rate:>9}", step.kernel_name(), 100.0 * ms / total);
    }
    Ok(())
}

fn print_check(report: &ReferenceReport) {
    match report.first_mismatch() {
        None => println!(
            "  check: all {} steps match the reference within {:.0e} (largest relative error {:.2e})",
            report.layers.len(),
            report.tolerance,
            report.max_error()
        ),
        Some(l) => println!(
            "  check: FAILED at `{}` .. `{}` ({}): relative error {:.2e} > {:.0e}",
            l.layer, l.completes, l.kernel, l.error, report.tolerance
        ),
    }
}
