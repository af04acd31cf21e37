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
        ("peak --seconds -1", "--seconds: expected a number of seconds"),
        ("conv --input 1x3x300000x300000 --out-channels 4 --kernel 3", "GB this machine has available"),
        ("gemm --m 1000000 --n 1000000 --k 1000000", "GB this machine has available"),
        ("frobnicate", "unknown command `frobnicate`"),
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
    assert!(out.contains("resnet50") && out.contains("25557032"), "{out}");

    let (code, out, err) = ferrocnn("summary --model lenet5", None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fc3") && out.contains("61,706"), "{out}");

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
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent.safetensors"), "{err}");
}
