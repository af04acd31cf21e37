#!/usr/bin/env python3
"""Times the issue's target shapes with `ferrocnn gemm/conv --json` on 1 and 2 threads,
interleaved round by round so host drift hits both alike, and prints a Markdown table of
median GFLOP/s, the 2-thread speed-up and the fraction of the measured FMA peak.

    cargo build --release -p ferrocnn-models
    python3 tools/bench_layers.py [--rounds 5] [--peak 240]

The peaks default to what `ferrocnn peak` measures for the active path (1 thread and 2).
"""
import argparse, json, statistics, subprocess, sys

CASES = [
    ("sgemm 1024^3", ["gemm", "--m", "1024", "--n", "1024", "--k", "1024"]),
    ("sgemm 64x3136x576", ["gemm", "--m", "64", "--n", "3136", "--k", "576"]),
    ("3x3 64x56x56", ["conv", "--input", "1x64x56x56", "--out-channels", "64", "--kernel", "3", "--pad", "1"]),
    ("3x3 128x28x28", ["conv", "--input", "1x128x28x28", "--out-channels", "128", "--kernel", "3", "--pad", "1"]),
    ("3x3 256x14x14", ["conv", "--input", "1x256x14x14", "--out-channels", "256", "--kernel", "3", "--pad", "1"]),
    ("3x3 512x7x7", ["conv", "--input", "1x512x7x7", "--out-channels", "512", "--kernel", "3", "--pad", "1"]),
    ("1x1 256x56x56 -> 64", ["conv", "--input", "1x256x56x56", "--out-channels", "64", "--kernel", "1"]),
    ("stem 3x224x224 7x7 s2", ["conv", "--input", "1x3x224x224", "--out-channels", "64", "--kernel", "7", "--stride", "2", "--pad", "3"]),
]


def run(binary, args, threads, iters):
    out = subprocess.run([binary, *args, "--threads", str(threads), "--iters", str(iters), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/release/ferrocnn")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--peak", type=float, default=0.0, help="1-thread FMA peak, GFLOP/s (default: measured)")
    p.add_argument("--peak2", type=float, default=0.0, help="2-thread FMA peak, GFLOP/s (default: measured)")
    p.add_argument("--only", default="", help="substring of the case names to run")
    a = p.parse_args()
    if not a.peak or not a.peak2:
        out = subprocess.run([a.binary, "peak", "--threads", "2", "--json"], check=True, capture_output=True, text=True)
        active = [json.loads(line) for line in out.stdout.splitlines() if "gflops_all_threads" in line][0]
        a.peak = a.peak or active["gflops_per_core"]
        a.peak2 = a.peak2 or active["gflops_all_threads"]
        print(f"measured peak ({active['isa']}): {a.peak:.0f} GFLOP/s on 1 thread, {a.peak2:.0f} on 2\n")
    print("| layer | kernel | 1 thread GFLOP/s | % of peak | 2 threads GFLOP/s | % of 2-core peak | 2T / 1T |")
    print("|---|---|---|---|---|---|---|")
    for name, args in CASES:
        if a.only not in name:
            continue
        one, two, family = [], [], ""
        for _ in range(a.rounds):
            r1 = run(a.binary, args, 1, a.iters)
            r2 = run(a.binary, args, 2, a.iters)
            one.append(r1["gflops"])
            two.append(r2["gflops"])
            family = r1.get("kernel_family", r1.get("algo", ""))
        g1, g2 = statistics.median(one), statistics.median(two)
        print(f"| {name} | {family} | {g1:.0f} | {100 * g1 / a.peak:.0f}% | {g2:.0f} | "
              f"{100 * g2 / a.peak2:.0f}% | {g2 / g1:.2f}x |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
