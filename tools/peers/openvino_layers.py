#!/usr/bin/env python3
"""Where OpenVINO spends a model's time, layer by layer, beside where ferrocnn does: for
finding which layers a peer runs faster (the comparison that showed ferrocnn's 1x1 layers
with few output channels losing to their B packing).

OpenVINO runs the torchvision model with its performance counters on (`PERF_COUNT`), and
prints each executed node's median time over the runs, its kernel and its name; then
`ferrocnn bench MODEL --per-layer` runs on the same thread count. OpenVINO fuses differently
(its convolutions carry their batch-norm, activation and residual add, as ferrocnn's steps
do), and its counters add some time per node: compare the layers' ratios, not the sums.

    pip install -r tools/peers/requirements.txt
    cargo build --release -p ferrocnn-models
    python3 tools/peers/openvino_layers.py mobilenet-v2 [--threads 1] [--runs 30]

Development-time only: it needs PyPI; the test suite never runs it.
"""
import argparse
import collections
import os
import statistics
import subprocess
import sys
import warnings

import numpy as np
import openvino as ov

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MODELS, onnx_bytes  # noqa: E402

warnings.filterwarnings("ignore")


def openvino_layers(name, threads, runs):
    """(node name, node type, kernel, median ms) of every executed node, in graph order."""
    build, size = MODELS[name]
    core = ov.Core()
    model = core.read_model(onnx_bytes(build().eval(), size), b"")
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads,
              "INFERENCE_PRECISION_HINT": "f32", "PERF_COUNT": True}
    request = core.compile_model(model, "CPU", config).create_infer_request()
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    for _ in range(10):
        request.infer({0: x})
    times = collections.defaultdict(list)
    order = []
    for _ in range(runs):
        request.infer({0: x})
        for p in request.get_profiling_info():
            if p.status != p.Status.EXECUTED:
                continue
            key = (p.node_name, p.node_type, p.exec_type)
            if key not in times:
                order.append(key)
            times[key].append(p.real_time.total_seconds() * 1e3)
    return [(*key, statistics.median(times[key])) for key in order]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=list(MODELS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--binary", default="target/release/ferrocnn")
    a = p.parse_args()
    layers = openvino_layers(a.model, a.threads, a.runs)
    print(f"OpenVINO {ov.__version__.split('-')[0]}, {a.model}, {a.threads} thread(s), "
          f"median of {a.runs} runs per node, ms")
    for node, kind, kernel, ms in layers:
        print(f"{ms:8.3f}  {kind:18s} {kernel:28s} {node}")
    print(f"{sum(ms for *_, ms in layers):8.3f}  sum of the nodes\n")
    subprocess.run([a.binary, "bench", a.model, "--per-layer", "--threads", str(a.threads)], check=True)


if __name__ == "__main__":
    main()
