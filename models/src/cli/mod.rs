//! The `ferrocnn` command line: argument parsing, timing, and one module per subcommand.

pub mod args;
mod conv;
mod gemm;
mod linear;
mod model;
mod peak;
mod pooling;
mod run;
pub mod timing;

use args::Args;

/// Usage printed by `ferrocnn help` and on an unknown command.
pub const USAGE: &str = "\
usage: ferrocnn <command> [options]

commands:
  gemm   --m M --n N --k K [--threads T] [--iters I] [--json]
         time C = A*B (row-major, f32), packing both operands per call
  conv   --input NxCxHxW --out-channels K --kernel R[xS] [--stride S] [--pad P | --pad T,B,L,R]
         [--dilation D] [--groups G] [--algo auto|tune|reference|im2col|gemm1x1|depthwise|
         winograd-f2|winograd-f4|winograd-f6|winograd-split]
         [--epilogue scale,shift,residual,relu|relu6|sigmoid] [--threads T] [--iters I] [--check] [--json]
         time a convolution plan's run (weights packed once, as in inference); --epilogue: what
         the plan fuses into its stores (a folded batch-norm is scale,shift)
  pool   --input NxCxHxW [--kind max|avg|global-avg|global-max] [--kernel K --stride S --pad P]
         [--ceil] [--threads T] [--iters I] [--check] [--json]
         time a pooling plan's run; GB/s moved (input read and output written once)
  linear --in I --out O [--batch B] [--threads T] [--iters I] [--check] [--json]
         time a fully connected layer (bias fused); GB/s of weights read, GFLOP/s

  list   the model zoo: parameters, GFLOPs per image, input shape
  summary MODEL [--weights FILE]
         every layer of a model: kind, output shape, parameters, MFLOPs; memory
  bench  MODEL [--weights FILE] [--batch B] [--threads T] [--iters I | --seconds S] [--algo A]
         [--per-layer] [--check] [--json]
         time a model's forward pass (random weights unless a safetensors file is given):
         latency, GFLOP/s, percent of peak, peak resident memory; --algo: the convolution
         algorithm wherever it applies (auto elsewhere); --per-layer: time and algorithm of
         every fused step; --check: every step against the reference
         (`--model NAME` works in place of MODEL)

  run    MODEL --weights FILE.safetensors --input FILE.npy [--output FILE.npy] [--top K]
         [--threads T]
         inference on real data: float32 NCHW (or CHW) in, the model's output per image out;
         --top K prints each image's K best classes with their scores

  peak   [--threads T] [--seconds S] [--json]
         measure the fp32 FMA peak of each instruction-set path (the denominator of percent-of-peak figures)

environment: FERROCNN_ISA=portable|avx2|avx512 forces an instruction-set path.
exit status: 0 done, 1 the work failed (a file missing, damaged or of the wrong shape), 2 usage.";

/// Why a command did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The arguments are wrong: printed on one line, exit code 2.
    Usage(String),
    /// The arguments are fine but the work failed (a file missing, damaged or of the wrong
    /// shape): printed whole, exit code 1.
    Failed(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Failed(_) => 1,
        }
    }

    /// The message as the command prints it.
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) => m.lines().next().unwrap_or_default(),
            Failure::Failed(m) => m,
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Usage(message)
    }
}

/// Runs the command line `argv` (without the program name).
pub fn main(argv: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = argv.split_first() else {
        return Err(Failure::Usage(format!("no command given\n{USAGE}")));
    };
    let args = Args::parse(rest)?;
    match command.as_str() {
        "gemm" => Ok(gemm::run(&args)?),
        "conv" => Ok(conv::run(&args)?),
        "pool" => Ok(pooling::run(&args)?),
        "linear" => Ok(linear::run(&args)?),
        "peak" => Ok(peak::run(&args)?),
        "list" => Ok(model::list(&args)?),
        "summary" => model::summary(&args),
        "bench" => model::bench(&args),
        "run" => run::run(&args),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Failure::Usage(format!("unknown command `{other}`; try `ferrocnn help`"))),
    }
}

/// The thread pool a command runs in: `--threads T`, default all cores.
fn pool(args: &Args) -> Result<(rayon::ThreadPool, usize), String> {
    let threads = args.usize_or("--threads", num_threads_default())?;
    // Workers bound to CPUs: unbound, 2-thread timings were sometimes 1-thread timings
    // (see `ferrocnn_kernels::thread_pool`).
    let pool = ferrocnn_kernels::thread_pool(threads).map_err(|e| format!("--{e}"))?;
    Ok((pool, threads))
}

/// Refuses a command whose buffers would not fit: `floats` f32 values against the memory
/// the OS reports available (Linux `MemAvailable`; unchecked where it cannot be read).
/// Without it, a valid but huge shape aborts in the allocator instead of erroring.
fn check_memory(what: &str, floats: u128) -> Result<(), String> {
    let need = floats * 4;
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<u128>().ok().map(|kb| kb * 1024)
    });
    match available {
        Some(have) if need > have => Err(format!(
            "{what}: needs {:.1} GB of buffers, more than the {:.1} GB this machine has available",
            need as f64 / 1e9,
            have as f64 / 1e9
        )),
        _ => Ok(()),
    }
}

/// This process's peak resident memory so far (Linux `VmHWM`), in MB; `None` elsewhere.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb * 1024.0 / 1e6)
}

fn num_threads_default() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub use ferrocnn_kernels::random::signed_uniform as random_data;

/// Weights at Kaiming-uniform scale for `fan_in` inputs, so outputs stay O(1) like a
/// trained layer's.
fn kaiming_uniform(len: usize, fan_in: usize, seed: u64) -> Vec<f32> {
    let bound = (6.0 / fan_in as f32).sqrt();
    random_data(len, seed).iter().map(|w| w * bound).collect()
}
