#!/usr/bin/env python3
"""Times every convolution algorithm that applies, and `auto`, on the criterion `conv` group's
layer shapes (benches/src/lib.rs), 1 and 2 threads, with `ferrocnn conv --json`. Rounds are
interleaved (every shape, algorithm and thread count once per round) so host drift hits all
alike; `ferrocnn peak` runs at the start of each round. Prints medians as two Markdown
tables:

- Winograd against im2col on the 3x3 stride-1 layers (effective GFLOP/s = direct-convolution
  flops / time), the best over peak and over im2col, and the best's 2-thread speed-up;
- `auto` against the fastest single algorithm on each shape and thread count.

    cargo build --release -p ferrocnn-models
    python3 tools/bench_algos.py [--rounds 7] [--only 512x7]
"""
import argparse, json, pathlib, re, statistics, subprocess, sys
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent

# `conv("name", in_channels, hw, out_channels, kernel, stride, pad)` rows of `conv_cases()`.
CASE = re.compile(r'conv\("(\w+)", (\d+), (\d+), (\d+), (\d+), (\d+), (\d+)\)')
CASES = [(m[0], *map(int, m[1:])) for m in CASE.findall((ROOT / "benches/src/lib.rs").read_text())]
# The Winograd table: ResNet's 3x3 bodies and VGG's conv1_2.
WINOGRAD_TABLE = ["resnet_3x3_64x56", "resnet_3x3_128x28", "resnet_3x3_256x14", "resnet_3x3_512x7",
                  "vgg16_conv1_2_64x224"]
ALGOS = ["im2col", "gemm1x1", "winograd-f2", "winograd-f4", "winograd-f6", "winograd-split"]


def conv(binary, case, algo, threads, iters):
    """The run's JSON, or None where the algorithm does not apply (the CLI refuses it, exit 2)."""
    _, c, hw, k, kernel, stride, pad = case
    args = [binary, "conv", "--input", f"1x{c}x{hw}x{hw}", "--out-channels", str(k), "--kernel", str(kernel),
            "--stride", str(stride), "--pad", str(pad), "--algo", algo, "--threads", str(threads),
            "--iters", str(iters), "--json"]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode == 2 and "needs" in run.stderr:
        return None
    if run.returncode != 0:
        sys.exit(f"{' '.join(args)}: {run.stderr.strip()}")
    return json.loads(run.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/release/ferrocnn")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--only", default="", help="substring of the case names to run")
    a = p.parse_args()
    cases = [case for case in CASES if a.only in case[0]]
    ms, chosen, peaks, isa, refused = defaultdict(list), {}, [], None, set()
    for r in range(a.rounds):
        out = subprocess.run([a.binary, "peak", "--threads", "1", "--json"], check=True, capture_output=True,
                             text=True).stdout
        peaks.append({line["isa"]: line["gflops_per_core"] for line in map(json.loads, out.splitlines())})
        for case in cases:
            for threads in [1, 2]:
                for algo in ["auto"] + [x for x in ALGOS if (case[0], x) not in refused]:
                    result = conv(a.binary, case, algo, threads, a.iters)
                    if result is None:
                        refused.add((case[0], algo))
                        continue
                    ms[case[0], algo, threads].append(result["median_ms"])
                    if algo == "auto":
                        chosen[case[0], threads] = result["algo"]
                    isa = result["isa"]
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr, flush=True)
    peak = statistics.median(round_peaks[isa] for round_peaks in peaks)
    median = {key: statistics.median(values) for key, values in ms.items()}

    def gflops(name, algo, threads):
        case = next(c for c in cases if c[0] == name)
        _, c, hw, k, kernel, stride, pad = case
        out = (hw + 2 * pad - kernel) // stride + 1
        return 2 * c * k * kernel * kernel * out * out / (median[name, algo, threads] * 1e6)

    print(f"`ferrocnn peak` ({isa}) on 1 thread, median of {a.rounds}: {peak:.0f} GFLOP/s\n")
    table = [name for name in WINOGRAD_TABLE if any(c[0] == name for c in cases)]
    if table:
        print("| layer | im2col 1T | F(2x2) 1T | F(4x4) 1T | F(6x6) 1T | best / peak | best / im2col | im2col 2T "
              "| best 2T | 2T / 1T |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in table:
            one = {algo: gflops(name, algo, 1) for algo in ALGOS if (name, algo, 1) in median}
            best = max((x for x in one if x.startswith("winograd")), key=one.get)
            two = gflops(name, best, 2)
            cells = " | ".join(f"{one[x]:.0f}" for x in ["im2col", "winograd-f2", "winograd-f4", "winograd-f6"])
            print(f"| {name} | {cells} | {one[best] / peak:.2f}x | {one[best] / one['im2col']:.2f}x | "
                  f"{gflops(name, 'im2col', 2):.0f} | {two:.0f} ({best}) | {two / one[best]:.2f}x |")
        print()
    print("| layer | threads | auto runs | auto ms | fastest | fastest ms | fastest / auto |")
    print("|---|---|---|---|---|---|---|")
    for case in cases:
        for threads in [1, 2]:
            times = {algo: median[case[0], algo, threads] for algo in ALGOS if (case[0], algo, threads) in median}
            fastest = min(times, key=times.get)
            auto = median[case[0], "auto", threads]
            print(f"| {case[0]} | {threads} | {chosen[case[0], threads]} | {auto:.4f} | {fastest} | "
                  f"{times[fastest]:.4f} | {times[fastest] / auto:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
