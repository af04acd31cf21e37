#!/usr/bin/env python3
"""Single convolution layers, ONNX Runtime (CPU provider, all graph optimisations) against
`ferrocnn conv`, on 1 and 2 threads, timed alternately round by round so host drift hits
both alike. Prints median ms, GFLOP/s and the speed ratio (ORT time / ferrocnn time).

    pip install -r tools/layers_vs_ort/requirements.txt
    cargo build --release -p ferrocnn-models
    python3 tools/layers_vs_ort/compare.py [--rounds 5] [--only depthwise]

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


def ort_session(c, hw, k, kernel, stride, pad, groups, threads):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((k, c // groups, kernel, kernel)) * 0.05).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[kernel, kernel], strides=[stride, stride],
                            pads=[pad] * 4, group=groups)
    graph = helper.make_graph([node], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = rng.standard_normal((1, c, hw, hw)).astype(np.float32)
    return session, {"x": x}


def time_ort(session, feed, iters):
    for _ in range(5):
        session.run(None, feed)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def time_ours(binary, c, hw, k, kernel, stride, pad, groups, threads, iters):
    out = subprocess.run([binary, "conv", "--input", f"1x{c}x{hw}x{hw}", "--out-channels", str(k), "--kernel", str(kernel),
                          "--stride", str(stride), "--pad", str(pad), "--groups", str(groups), "--threads", str(threads),
                          "--iters", str(iters), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["median_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/release/ferrocnn")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--only", default="")
    a = p.parse_args()
    print(f"onnxruntime {ort.__version__}; medians of {a.rounds} alternating rounds\n")
    print("| layer | threads | ORT ms | ferrocnn ms | ORT GFLOP/s | ferrocnn GFLOP/s | speed vs ORT |")
    print("|---|---|---|---|---|---|---|")
    for name, c, hw, k, kernel, stride, pad, groups in LAYERS:
        if a.only not in name:
            continue
        out_hw = (hw + 2 * pad - kernel) // stride + 1
        flops = 2 * k * (c // groups) * kernel * kernel * out_hw * out_hw
        for threads in (1, 2):
            session, feed = ort_session(c, hw, k, kernel, stride, pad, groups, threads)
            theirs, ours = [], []
            for _ in range(a.rounds):
                theirs.append(time_ort(session, feed, a.iters))
                ours.append(time_ours(a.binary, c, hw, k, kernel, stride, pad, groups, threads, a.iters))
            t, o = statistics.median(theirs), statistics.median(ours)
            print(f"| {name} | {threads} | {t:.3f} | {o:.3f} | {flops / t / 1e6:.1f} | {flops / o / 1e6:.1f} | {t / o:.2f}x |",
                  flush=True)


if __name__ == "__main__":
    main()
