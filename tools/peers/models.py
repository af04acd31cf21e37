#!/usr/bin/env python3
"""Whole networks at batch 1 against the peers, on 1 and 2 threads, in one run:
ONNX Runtime (CPU provider, all graph optimisations), OpenVINO (CPU, latency hint),
PyTorch (eager, inference mode) and `ferrocnn bench --json` (Auto). Each peer runs the
torchvision model with its random initial weights (exported to ONNX for ONNX Runtime and
OpenVINO); ferrocnn runs its seeded random weights: the work is the same, the values do not
matter to the time.

Engines take turns round by round, so drift on this noisy machine hits all alike (with a
pause between turns, so no engine's idle threads still spin while the next is timed); the
figure is the median over rounds of each round's median. Prints one table: median ms per
engine and ferrocnn's time as a ratio of the best peer's (below 1 is faster).

    pip install -r tools/peers/requirements.txt
    cargo build --release -p ferrocnn-models
    python3 tools/peers/models.py [--rounds 5] [--iters 10] [--models resnet18,resnet50]

Development-time only: it needs PyPI; the test suite never runs it.
"""
import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import time
import warnings

import numpy as np
import onnxruntime as ort
import openvino as ov
import torch
import torchvision.models as tvm

warnings.filterwarnings("ignore")

# ferrocnn's name -> (torchvision constructor, input size)
MODELS = {
    "resnet18": (tvm.resnet18, 224),
    "resnet50": (tvm.resnet50, 224),
    "vgg16": (tvm.vgg16, 224),
    "mobilenet-v2": (tvm.mobilenet_v2, 224),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), 224),
    "alexnet": (tvm.alexnet, 224),
}


def onnx_bytes(model, size):
    buffer = io.BytesIO()
    x = torch.zeros(1, 3, size, size)
    torch.onnx.export(model, (x,), buffer, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
    return buffer.getvalue()


class Ort:
    name = "onnxruntime"

    def __init__(self, model_bytes, threads):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    def __call__(self, x):
        self.session.run(None, {"x": x})


class OpenVino:
    name = "openvino"

    def __init__(self, model_bytes, threads):
        core = ov.Core()
        model = core.read_model(model_bytes, b"")
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"}
        self.request = core.compile_model(model, "CPU", config).create_infer_request()

    def __call__(self, x):
        self.request.infer({0: x})


class Torch:
    name = "pytorch"

    def __init__(self, model, threads):
        self.model, self.threads = model, threads

    def __call__(self, x):
        torch.set_num_threads(self.threads)
        with torch.inference_mode():
            self.model(torch.from_numpy(x))


def quiet():
    """Lets the previous engine's worker threads stop spinning (OpenMP's and TBB's wait
    policies spin for a while after a run) before the next engine is timed."""
    time.sleep(0.5)


def time_peer(run, x, iters):
    quiet()
    run(x)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def time_ferrocnn(binary, name, threads, iters):
    quiet()
    out = subprocess.run([binary, "bench", name, "--threads", str(threads), "--iters", str(iters), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/release/ferrocnn")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--threads", default="1,2")
    a = p.parse_args()
    unknown = [m for m in a.models.split(",") if m not in MODELS]
    if unknown:
        p.error(f"--models: unknown {', '.join(unknown)}; known: {', '.join(MODELS)}")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(f"{cpu}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")
    print(f"onnxruntime {ort.__version__}, openvino {ov.__version__.split('-')[0]}, torch {torch.__version__}")
    print(f"batch 1, fp32; median ms of {a.rounds} alternating rounds of {a.iters} runs\n")
    print("| model | threads | ONNX Runtime | OpenVINO | PyTorch | ferrocnn | ferrocnn / best peer | ferrocnn peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.models.split(","):
        build, size = MODELS[name]
        model = build().eval()
        model_bytes = onnx_bytes(model, size)
        x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
        for threads in [int(t) for t in a.threads.split(",")]:
            peers = [Ort(model_bytes, threads), OpenVino(model_bytes, threads), Torch(model, threads)]
            samples = {peer.name: [] for peer in peers}
            ours, rss = [], []
            for _ in range(a.rounds):
                for peer in peers:
                    samples[peer.name].append(time_peer(peer, x, a.iters))
                result = time_ferrocnn(a.binary, name, threads, a.iters)
                ours.append(result["median_ms"])
                rss.append(result.get("peak_rss_mb") or float("nan"))
            medians = {k: statistics.median(v) for k, v in samples.items()}
            mine = statistics.median(ours)
            best = min(medians["onnxruntime"], medians["openvino"])
            print(f"| {name} | {threads} | {medians['onnxruntime']:.2f} | {medians['openvino']:.2f} | "
                  f"{medians['pytorch']:.2f} | {mine:.2f} | {mine / best:.2f} | {max(rss):.0f} |", flush=True)
    print("\nbest peer = the faster of ONNX Runtime and OpenVINO (the issue's reference); PyTorch for context.")


if __name__ == "__main__":
    main()
