#!/usr/bin/env python3
"""The per-layer peer comparison: the conv, depthwise, pooling, linear and GEMM shapes of
the criterion benches, ONNX Runtime (CPU provider, all graph optimisations) against
`ferrocnn conv`, `pool`, `linear` and `gemm`, on 1 and 2 threads, timed alternately round
by round so host drift hits both alike. Prints median ms, GFLOP/s (GB/s moved for pooling
and linear layers: inputs read and outputs written once, weights once) and the speed ratio
(ORT time / ferrocnn time).
The whole-network version is models.py beside it.

    pip install -r tools/peers/requirements.txt
    cargo build --release -p ferrocnn-models
    python3 tools/peers/layers.py [--rounds 5] [--only depthwise]

GEMMs feed both operands as inputs to ORT's MatMul, so neither side may pre-pack B
(`ferrocnn gemm` packs both per call).

Development-time only: it needs PyPI; the test suite never runs it.
"""
import argparse, json, statistics, subprocess, time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# name, C, H(=W), K, kernel, stride, pad, groups
LAYERS = [
    ("resnet 3x3 64x56", 64, 56, 64, 3, 1, 1, 1),
    ("resnet 3x3 128x28", 128, 28, 128, 3, 1, 1, 1),
    ("resnet 3x3 256x14", 256, 14, 256, 3, 1, 1, 1),
    ("resnet 3x3 512x7", 512, 7, 512, 3, 1, 1, 1),
    ("resnet50 1x1 256x56->64", 256, 56, 64, 1, 1, 0, 1),
    ("resnet stem 7x7 s2", 3, 224, 64, 7, 2, 3, 1),
    ("depthwise 144x56 s1", 144, 56, 144, 3, 1, 1, 144),
    ("depthwise 144x56 s2", 144, 56, 144, 3, 2, 1, 144),
    ("depthwise 576x14 s1", 576, 14, 576, 3, 1, 1, 576),
    ("depthwise 960x7 s1", 960, 7, 960, 3, 1, 1, 960),
]

# name, C, H(=W), kind, kernel, stride, pad (kernel None: global)
POOLS = [
    ("max pool 3x3 s2 p1 64x112 (resnet stem)", 64, 112, "max", 3, 2, 1),
    ("global avg pool 2048x7 (resnet50)", 2048, 7, "global-avg", None, None, None),
]

# name, in, out (batch 1)
LINEARS = [
    ("linear 9216->4096 (alexnet fc6)", 9216, 4096),
    ("linear 2048->1000 (resnet50 fc)", 2048, 1000),
]

# name, M, N, K: benches/src/lib.rs GEMM_SHAPES
GEMMS = [
    ("gemm 128^3", 128, 128, 128),
    ("gemm 256^3", 256, 256, 256),
    ("gemm 512^3", 512, 512, 512),
    ("gemm 1024^3", 1024, 1024, 1024),
    ("gemm 64x3136x576 (resnet 3x3 as im2col)", 64, 3136, 576),
]


def ours(binary, command, threads, iters, *options):
    """Median ms of one `ferrocnn COMMAND OPTIONS --json` timing."""
    argv = [binary, command, *map(str, options), "--threads", str(threads), "--iters", str(iters), "--json"]
    return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)["median_ms"]


def session_of(graph, threads):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def ort_gemm(m, n, k, threads):
    rng = np.random.default_rng(0)
    node = helper.make_node("MatMul", ["a", "b"], ["c"])
    graph = helper.make_graph([node], "gemm", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k]),
                                               helper.make_tensor_value_info("b", TensorProto.FLOAT, [k, n])],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)])
    feed = {"a": rng.standard_normal((m, k)).astype(np.float32), "b": rng.standard_normal((k, n)).astype(np.float32)}
    return session_of(graph, threads), feed


def ours_gemm(binary, m, n, k, threads, iters):
    return ours(binary, "gemm", threads, iters, "--m", m, "--n", n, "--k", k)


def ort_pool(c, hw, kind, kernel, stride, pad, threads):
    rng = np.random.default_rng(0)
    if kernel is None:
        node = helper.make_node("GlobalAveragePool" if kind == "global-avg" else "GlobalMaxPool", ["x"], ["y"])
    else:
        node = helper.make_node("MaxPool" if kind == "max" else "AveragePool", ["x"], ["y"],
                                kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4)
    graph = helper.make_graph([node], "pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return session_of(graph, threads), {"x": rng.standard_normal((1, c, hw, hw)).astype(np.float32)}


def ours_pool(binary, c, hw, kind, kernel, stride, pad, threads, iters):
    window = [] if kernel is None else ["--kernel", str(kernel), "--stride", str(stride), "--pad", str(pad)]
    return ours(binary, "pool", threads, iters, "--input", f"1x{c}x{hw}x{hw}", "--kind", kind, *window)


def ort_linear(n_in, n_out, threads):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((n_out, n_in)) * 0.01).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32)
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    graph = helper.make_graph([node], "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return session_of(graph, threads), {"x": rng.standard_normal((1, n_in)).astype(np.float32)}


def ours_linear(binary, n_in, n_out, threads, iters):
    return ours(binary, "linear", threads, iters, "--in", n_in, "--out", n_out)


def ort_session(c, hw, k, kernel, stride, pad, groups, threads):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((k, c // groups, kernel, kernel)) * 0.05).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[kernel, kernel], strides=[stride, stride],
                            pads=[pad] * 4, group=groups)
    graph = helper.make_graph([node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [numpy_helper.from_array(w, "w")])
    x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
    return session_of(graph, threads), {"x": x}


def time_ort(session, feed, iters):
    # Warm up as `ferrocnn` does: at least 3 runs and about 0.3 s.
    start, runs = time.perf_counter(), 0
    while runs < 3 or (time.perf_counter() - start < 0.3 and runs < 1000):
        session.run(None, feed)
        runs += 1
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def time_ours(binary, c, hw, k, kernel, stride, pad, groups, threads, iters):
    return ours(binary, "conv", threads, iters, "--input", f"1x{c}x{hw}x{hw}", "--out-channels", k, "--kernel", kernel,
                "--stride", stride, "--pad", pad, "--groups", groups)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/release/ferrocnn")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--only", default="")
    a = p.parse_args()
    print(f"onnxruntime {ort.__version__}; medians of {a.rounds} alternating rounds\n")
    print("| layer | threads | ORT ms | ferrocnn ms | ORT rate | ferrocnn rate | speed vs ORT |")
    print("|---|---|---|---|---|---|---|")
    # name, work (FLOPs or bytes), unit, make_ort(threads), run_ours(threads)
    cases = []
    for name, c, hw, k, kernel, stride, pad, groups in LAYERS:
        out_hw = (hw + 2 * pad - kernel) // stride + 1
        flops = 2 * k * (c // groups) * kernel * kernel * out_hw * out_hw
        shape = (c, hw, k, kernel, stride, pad, groups)
        cases.append((name, flops, "GFLOP/s", lambda t, s=shape: ort_session(*s, t),
                      lambda t, s=shape: time_ours(a.binary, *s, t, a.iters)))
    for name, c, hw, kind, kernel, stride, pad in POOLS:
        out_hw = 1 if kernel is None else (hw + 2 * pad - kernel) // stride + 1
        moved = 4 * c * (hw * hw + out_hw * out_hw)
        shape = (c, hw, kind, kernel, stride, pad)
        cases.append((name, moved, "GB/s", lambda t, s=shape: ort_pool(*s, t),
                      lambda t, s=shape: ours_pool(a.binary, *s, t, a.iters)))
    for name, n_in, n_out in LINEARS:
        moved = 4 * (n_in * n_out + n_in + 2 * n_out)
        cases.append((name, moved, "GB/s", lambda t, s=(n_in, n_out): ort_linear(*s, t),
                      lambda t, s=(n_in, n_out): ours_linear(a.binary, *s, t, a.iters)))
    for name, m, n, k in GEMMS:
        cases.append((name, 2 * m * n * k, "GFLOP/s", lambda t, s=(m, n, k): ort_gemm(*s, t),
                      lambda t, s=(m, n, k): ours_gemm(a.binary, *s, t, a.iters)))
    for name, work, unit, make_ort, run_ours in cases:
        if a.only not in name:
            continue
        for threads in (1, 2):
            session, feed = make_ort(threads)
            theirs, ours = [], []
            for _ in range(a.rounds):
                theirs.append(time_ort(session, feed, a.iters))
                # ONNX Runtime's idle workers spin a while after a run; on 2 cores they took
                # ferrocnn's second core (2-thread 960x7x7 depthwise: 0.017 ms straight after
                # ORT's runs, 0.0105 alone). A pause lets them block first.
                time.sleep(0.5)
                ours.append(run_ours(threads))
            t, o = statistics.median(theirs), statistics.median(ours)
            print(f"| {name} | {threads} | {t:.3f} | {o:.3f} | {work / t / 1e6:.1f} {unit} | {work / o / 1e6:.1f} {unit} "
                  f"| {t / o:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
