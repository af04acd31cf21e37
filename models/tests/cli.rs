//! The `ferrocnn` binary as a user runs it.

use std::process::Command;

fn ferrocnn(args: &str, isa: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrocnn"));
    cmd.args(args.split_whitespace());
    match isa {
        Some(isa) => cmd.env("FERROCNN_ISA", isa),
        None => cmd.env_remove("FERROCNN_ISA"),
    };
    let out = cmd.output().expect("run ferrocnn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_field<'a>(json: &'a str, key: &str) -> &'a str {
    let at = json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key} in {json}")) + key.len() + 3;
    let rest = &json[at..];
    match rest.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"').unwrap()],
        None => &rest[..rest.find([',', '}']).unwrap()],
    }
}

#[test]
fn gemm_json_has_the_contract_fields() {
    let (code, out, err) = ferrocnn("gemm --m 33 --n 17 --k 9 --threads 2 --iters 2 --json", None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "one line: {out}");
    for key in ["isa", "threads", "algo", "median_ms", "gflops"] {
        json_field(&out, key);
    }
    assert_eq!(json_field(&out, "threads"), "2");
    assert!(json_field(&out, "gflops").parse::<f64>().unwrap() > 0.0);
}

#[test]
fn ferrocnn_isa_forces_each_supported_path() {
    for isa in ferrocnn_kernels::dispatch::supported_isas() {
        let (code, out, err) = ferrocnn(
            "conv --input 1x5x9x9 --out-channels 7 --kernel 3 --pad 1 --iters 1 --check --json",
            Some(isa.name()),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(json_field(&out, "isa"), isa.name());
        assert_eq!(json_field(&out, "algo"), "im2col");
        // im2col's error bound on 45-term dot products of unit-scale data: well under 1e-5.
        assert!(json_field(&out, "max_rel_err").parse::<f64>().unwrap() < 1e-5, "{out}");
        // The same with the fused epilogue of a network's layer, which --check applies to
        // the reference too; a 1x1 layer on a 7x7 map takes the transposed store.
        for shape in
            ["--input 1x5x9x9 --out-channels 7 --kernel 3 --pad 1", "--input 1x256x7x7 --out-channels 128 --kernel 1"]
        {
            let (code, out, err) = ferrocnn(
                &format!("conv {shape} --epilogue scale,shift,residual,relu --iters 1 --check --json"),
                Some(isa.name()),
            );
            assert_eq!(code, 0, "{err}");
            // 45- and 256-term dot products of unit-scale data, then one multiply-add and one
            // add: still well under 1e-5.
            assert!(json_field(&out, "max_rel_err").parse::<f64>().unwrap() < 1e-5, "{out}");
        }
    }
    let (code, out, err) = ferrocnn("gemm --m 4 --n 4 --k 4 --iters 1 --json", Some("sse9"));
    assert_eq!(code, 0);
    assert!(err.contains("FERROCNN_ISA=sse9 is not one of portable, avx2, avx512"), "{err}");
    assert_eq!(json_field(&out, "isa"), ferrocnn_kernels::dispatch::detected_isa().name());
}

#[test]
fn peak_measures_every_supported_path() {
    let (code, out, err) = ferrocnn("peak --threads 2 --seconds 0.05 --json", None);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), ferrocnn_kernels::dispatch::supported_isas().len(), "{out}");
    for line in &lines {
        assert!(json_field(line, "gflops_per_core").parse::<f64>().unwrap() > 0.0, "{line}");
    }
    let active = lines.iter().find(|l| l.contains("gflops_all_threads")).expect("the active path on 2 threads");
    assert_eq!(json_field(active, "isa"), ferrocnn_kernels::dispatch::active_isa().name());
}

#[test]
fn conv_reports_the_algorithm_that_ran() {
    let (_, out, _) = ferrocnn("conv --input 1x8x6x6 --out-channels 4 --kernel 1 --iters 1 --json", None);
    assert_eq!(json_field(&out, "algo"), "gemm1x1");
    let (_, out, _) = ferrocnn(
        "conv --input 2x8x6x6 --out-channels 4 --kernel 3x1 --pad 1,1,0,0 --algo reference --iters 1 --json",
        None,
    );
    assert_eq!(json_field(&out, "algo"), "reference");
    assert_eq!(json_field(&out, "pad"), "1,1,0,0");
}

#[test]
fn pool_and_linear_time_their_plans_and_check_them() {
    for isa in ferrocnn_kernels::dispatch::supported_isas() {
        for args in [
            "pool --input 2x3x17x19 --kernel 3 --stride 2 --pad 1 --ceil",
            "pool --input 1x5x9x9 --kind avg --kernel 2",
            "pool --input 2x7x5x5 --kind global-avg",
            "pool --input 2x7x5x5 --kind global-max",
        ] {
            let (code, out, err) = ferrocnn(&format!("{args} --threads 2 --iters 2 --check --json"), Some(isa.name()));
            assert_eq!(code, 0, "{args}: {err}");
            assert_eq!(json_field(&out, "isa"), isa.name());
            assert!(json_field(&out, "gbytes_per_s").parse::<f64>().unwrap() > 0.0, "{out}");
            // Max selects an input exactly. An f32 mean of n <= 25 inputs in [-1, 1) is off by
            // at most (n-1) * 2^-24 * mean|x| + half an ulp <= 1.5e-6 (Higham's sum bound);
            // relative to the largest |mean| of these fixed-seed inputs (0.56 for the 2x2
            // windows, 0.16 for the 14 planes of 25), under 1e-5; 2e-5 with margin.
            assert!(json_field(&out, "max_rel_err").parse::<f64>().unwrap() < 2e-5, "{args}: {out}");
        }
        let (code, out, err) =
            ferrocnn("linear --in 300 --out 70 --batch 3 --iters 2 --check --json", Some(isa.name()));
        assert_eq!(code, 0, "{err}");
        assert_eq!(json_field(&out, "batch"), "3");
        // A 300-term dot product of Kaiming-scale weights: the GEMM bound is about 300 * eps.
        assert!(json_field(&out, "max_rel_err").parse::<f64>().unwrap() < 1e-4, "{out}");
    }
    let (code, out, _) = ferrocnn("pool --input 1x64x112x112 --kernel 3 --stride 2 --pad 1 --iters 1", None);
    assert_eq!(code, 0);
    assert!(out.starts_with("pool max 3 s2 p1 1x64x112x112 -> 200704 floats"), "{out}");
}

#[test]
fn bad_arguments_exit_2_with_one_line_naming_the_argument() {
    for (args, needle) in [
        ("gemm --m x --n 1 --k 1", "--m: expected a non-negative integer, got `x`"),
        ("gemm --n 1 --k 1", "--m: required"),
        ("gemm --m 1 --n 1 --k 1 --mm 3", "--mm: unknown option"),
        ("gemm --m 0 --n 1 --k 1", "`m` 0"),
        ("gemm --m 2 --n 2 --k 2 --threads 0", "--threads: must be at least 1"),
        ("conv --input 1x3x8 --out-channels 4 --kernel 3", "--input: expected 4 integers"),
        ("conv --input 1x3x8x8 --out-channels 4 --kernel 3 --algo fast", "--algo: expected one of"),
        ("conv --input 1x3x2x2 --out-channels 4 --kernel 5", "kernel 5"),
        ("conv --input 1x3x8x8 --out-channels 4 --kernel 3 --pad 1,2", "--pad: expected P or T,B,L,R"),
        ("conv --input 1x3x8x8 --out-channels 4 --kernel 3 --algo gemm1x1", "gemm1x1 needs a 1x1 kernel"),
        (
            "conv --input 1x3x8x8 --out-channels 4 --kernel 3 --epilogue bn",
            "--epilogue: expected a comma-separated list",
        ),
        ("peak --seconds -1", "--seconds: expected a number of seconds"),
        ("conv --input 1x3x300000x300000 --out-channels 4 --kernel 3", "GB this machine has available"),
        ("gemm --m 1000000 --n 1000000 --k 1000000", "GB this machine has available"),
        ("frobnicate", "unknown command `frobnicate`"),
        ("pool --input 1x4x4x4 --kind min --kernel 2", "--kind: expected max, avg, global-avg or global-max"),
        ("pool --input 1x4x4x4 --kind global-avg --kernel 2", "drop --kernel, --stride and --pad"),
        ("pool --input 1x4x4x4", "--kernel: required"),
        ("pool --input 1x4x3x3 --kernel 5", "kernel 5 (dilation 1, spans 5) is larger than the padded input 3"),
        ("linear --in 0 --out 3", "`in_features` 0"),
        ("linear --in 4 --out 3 --batch 0", "`batch` is 0"),
    ] {
        let (code, out, err) = ferrocnn(args, None);
        assert_eq!(code, 2, "{args}: {err}");
        assert!(out.is_empty(), "{args}: printed {out}");
        assert_eq!(err.lines().count(), 1, "{args}: {err}");
        assert!(err.contains(needle), "{args}: {err}");
    }
}

#[test]
fn zoo_commands_list_summarise_bench_and_check() {
    let (code, out, err) = ferrocnn("list", None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("resnet50") && out.contains("25,557,032"), "{out}");

    let (code, out, err) = ferrocnn("summary --model lenet5", None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fc3"), "{out}");
    assert_eq!(out.lines().last(), Some("Total params: 61,706"), "{out}");

    let (code, out, err) = ferrocnn("bench --model small-resnet --batch 2 --iters 2 --layers --check --json", None);
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap();
    assert_eq!(json_field(first, "batch"), "2");
    assert!(json_field(first, "gflops").parse::<f64>().unwrap() > 0.0);
    assert!(out.contains("blocks.2.conv1") && out.contains("check: all"), "{out}");

    let (code, _, err) = ferrocnn("bench --model resnet51", None);
    assert_eq!(code, 2);
    assert!(err.contains("unknown model `resnet51`") && err.contains("resnet50"), "{err}");
    let (code, _, err) = ferrocnn("bench --model lenet5 --weights /nonexistent.safetensors", None);
    assert_eq!(code, 1, "a file that cannot be read is a failure, not a usage error");
    assert!(err.contains("/nonexistent.safetensors"), "{err}");

    let (code, out, err) = ferrocnn("bench lenet5 --seconds 0.2 --json", None);
    assert_eq!(code, 0, "{err}");
    assert!(json_field(&out, "median_ms").parse::<f64>().unwrap() > 0.0, "{out}");
    let (code, _, err) = ferrocnn("bench lenet5 --seconds 0.2 --iters 3", None);
    assert_eq!(code, 2);
    assert!(err.contains("--iters and --seconds"), "{err}");
    let (code, _, err) = ferrocnn("bench lenet5 --seconds soon", None);
    assert_eq!(code, 2);
    assert!(err.contains("--seconds: expected a positive number of seconds, got `soon`"), "{err}");
}

/// A directory of its own under the system's temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("ferrocnn-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn run_reads_npy_and_safetensors_and_writes_the_logits() {
    use ferrocnn_models::nn::{Model, Weights};
    use ferrocnn_models::npy;
    let dir = TempDir::new("run");
    let graph = ferrocnn_models::zoo::graph("lenet5").unwrap();
    let weights = Weights::random(&graph, 3);
    std::fs::write(dir.file("w.safetensors"), weights.to_safetensors(&graph).unwrap()).unwrap();
    let images = ferrocnn_models::cli::random_data(2 * 32 * 32, 5);
    std::fs::write(dir.file("x.npy"), npy::write(&[2, 1, 32, 32], &images).unwrap()).unwrap();

    let args = format!(
        "run lenet5 --weights {} --input {} --output {} --top 3 --threads 1",
        dir.file("w.safetensors"),
        dir.file("x.npy"),
        dir.file("y.npy")
    );
    let (code, out, err) = ferrocnn(&args, None);
    assert_eq!(code, 0, "{err}");
    let logits = npy::read(&std::fs::read(dir.file("y.npy")).unwrap()).unwrap();
    assert_eq!(logits.shape, vec![2, 10]);
    let mut model = Model::new(graph, weights);
    model.set_options(ferrocnn_models::kernels::PlanOptions { threads: 1, ..model.options() });
    let want = model.forward(&images, 2).unwrap();
    // Same weights, same plan, same thread count: the same bits.
    assert_eq!(logits.data, want, "the file holds the forward pass's output");

    // `--top 3`: per image a header, a column header and three ranks, best first.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2 * 5, "{out}");
    for (image, scores) in want.chunks(10).enumerate() {
        let best = (0..10).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap();
        let rank1: Vec<&str> = lines[image * 5 + 2].split_whitespace().collect();
        assert_eq!(lines[image * 5], format!("image {image}:"));
        assert_eq!((rank1[0], rank1[1]), ("1", best.to_string().as_str()), "{out}");
    }

    // One image as C x H x W is a batch of one.
    std::fs::write(dir.file("one.npy"), npy::write(&[1, 32, 32], &images[..1024]).unwrap()).unwrap();
    let args = format!("run lenet5 --weights {} --input {} --top 1", dir.file("w.safetensors"), dir.file("one.npy"));
    let (code, out, err) = ferrocnn(&args, None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn run_refuses_bad_files_with_one_clear_error_and_writes_nothing() {
    use ferrocnn_models::nn::Weights;
    use ferrocnn_models::npy;
    let dir = TempDir::new("run-errors");
    let lenet = ferrocnn_models::zoo::graph("lenet5").unwrap();
    let mnist = ferrocnn_models::zoo::graph("mnist-cnn").unwrap();
    let good = Weights::random(&lenet, 3).to_safetensors(&lenet).unwrap();
    std::fs::write(dir.file("good.safetensors"), &good).unwrap();
    std::fs::write(dir.file("other.safetensors"), Weights::random(&mnist, 3).to_safetensors(&mnist).unwrap()).unwrap();
    std::fs::write(dir.file("truncated.safetensors"), &good[..good.len() - 100]).unwrap();
    let image = ferrocnn_models::cli::random_data(32 * 32, 5);
    std::fs::write(dir.file("x.npy"), npy::write(&[1, 1, 32, 32], &image).unwrap()).unwrap();
    std::fs::write(dir.file("wrong_shape.npy"), npy::write(&[1, 3, 32, 32], &[0.5; 3072]).unwrap()).unwrap();
    let mut float64 = npy::write(&[1, 1, 32, 32], &image).unwrap();
    let descr = float64.windows(5).position(|w| w == b"'<f4'").unwrap();
    float64[descr + 3] = b'8';
    std::fs::write(dir.file("float64.npy"), float64).unwrap();
    let mut nan = image.clone();
    nan[40] = f32::NAN;
    std::fs::write(dir.file("nan.npy"), npy::write(&[1, 1, 32, 32], &nan).unwrap()).unwrap();
    std::fs::write(dir.file("garbage.npy"), b"not an array").unwrap();

    for (weights, input, needles) in [
        ("other.safetensors", "x.npy", &["other.safetensors", "conv1.weight", "[6, 1, 5, 5]"][..]),
        ("truncated.safetensors", "x.npy", &["truncated.safetensors", "not a valid safetensors file"]),
        ("missing.safetensors", "x.npy", &["missing.safetensors", "No such file"]),
        ("good.safetensors", "wrong_shape.npy", &["wrong_shape.npy", "[1, 3, 32, 32]", "N x 1x32x32"]),
        ("good.safetensors", "float64.npy", &["float64.npy", "'<f8'", "float32"]),
        ("good.safetensors", "nan.npy", &["nan.npy", "NaN at [0, 0, 1, 8]"]),
        ("good.safetensors", "garbage.npy", &["garbage.npy", "not a .npy file"]),
        ("good.safetensors", "missing.npy", &["missing.npy", "No such file"]),
    ] {
        // An earlier result at the output path must survive a failed run untouched.
        std::fs::write(dir.file("y.npy"), b"earlier").unwrap();
        let args = format!(
            "run lenet5 --weights {} --input {} --output {}",
            dir.file(weights),
            dir.file(input),
            dir.file("y.npy")
        );
        let (code, out, err) = ferrocnn(&args, None);
        assert_eq!(code, 1, "{weights} {input}: {err}");
        assert!(out.is_empty(), "{out}");
        for needle in needles {
            assert!(err.contains(needle), "{weights} {input}: `{needle}` not in {err}");
        }
        assert_eq!(std::fs::read(dir.file("y.npy")).unwrap(), b"earlier");
    }
    let entries = std::fs::read_dir(&dir.0).unwrap().count();
    assert_eq!(entries, 9, "the 8 inputs and y.npy; no temporary file left behind");

    for (args, needle) in [
        ("run lenet5 --weights w --input x.npy", "nothing to do"),
        ("run lenet5 --weights w --input x.npy --top 0", "--top: must be at least 1"),
        ("run lenet5 --input x.npy --top 1", "--weights: required"),
        ("run lenet6 --weights w --input x.npy --top 1", "unknown model `lenet6`"),
    ] {
        let (code, _, err) = ferrocnn(args, None);
        assert_eq!(code, 2, "{args}: {err}");
        assert!(err.contains(needle), "{args}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    // `ferrocnn list | head -1`: the reader goes away before the command has written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrocnn"))
        .arg("list")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
