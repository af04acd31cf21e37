"""Writes the hand-made seeds of the fuzz corpora (numpy only; run from fuzz/).

Each seed is a real case the target must handle: valid files in every variant the readers
accept, and the common ways a file is wrong. libFuzzer mutates from these.
"""
import io
import json
import os
import struct

import numpy as np

rng = np.random.default_rng(7)


def write(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data)


# --- npy_reader: what np.save writes, versions 1-3, and damaged files.
def npy(array, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array)
    else:
        np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()


image = rng.standard_normal((1, 3, 8, 8)).astype("<f4")
write("npy_reader", "v1_nchw", npy(image))
write("npy_reader", "v2_vector", npy(rng.standard_normal(5).astype("<f4"), (2, 0)))
write("npy_reader", "v3_matrix", npy(rng.standard_normal((2, 3)).astype("<f4"), (3, 0)))
write("npy_reader", "scalar", npy(np.float32(1.5)))
write("npy_reader", "empty", npy(np.zeros((0, 4), "<f4")))
write("npy_reader", "float64", npy(image.astype("<f8")))
write("npy_reader", "fortran", npy(np.asfortranarray(rng.standard_normal((3, 2)).astype("<f4"))))
write("npy_reader", "truncated", npy(image)[:-10])
write("npy_reader", "big_endian", npy(image.astype(">f4")))


# --- weights_loader: safetensors files for the target's `Net` (conv 2->3 3x3 on 6x6,
# batch-norm, linear 48 -> 4), written by hand: u64 header length, JSON header, data.
def safetensors(tensors):
    header, data = {}, b""
    for name, array in tensors.items():
        raw = array.tobytes()
        dtype = {"float32": "F32", "float64": "F64", "int64": "I64"}[array.dtype.name]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(*shape):
    return rng.standard_normal(shape).astype("<f4")


net = {
    "conv.weight": f32(3, 2, 3, 3),
    "conv.bias": f32(3),
    "bn.weight": f32(3),
    "bn.bias": f32(3),
    "bn.running_mean": f32(3),
    "bn.running_var": np.abs(f32(3)) + 0.5,
    "bn.num_batches_tracked": np.array(10, "<i8"),
    "fc.weight": f32(4, 48),
    "fc.bias": f32(4),
}
write("weights_loader", "valid", safetensors(net))
write("weights_loader", "missing_fc_bias", safetensors({k: v for k, v in net.items() if k != "fc.bias"}))
write("weights_loader", "wrong_shape", safetensors({**net, "fc.weight": f32(4, 47)}))
write("weights_loader", "float64", safetensors({**net, "conv.bias": net["conv.bias"].astype("<f8")}))
write("weights_loader", "unexpected", safetensors({**net, "fc2.weight": f32(2, 2)}))
write("weights_loader", "truncated", safetensors(net)[:-7])


# --- pool_depthwise: the target's 18-byte descriptor (see its source) for the pooling and
# depthwise layers of the zoo, each followed by 64 bytes of data.
def descriptor(fields):
    return bytes(fields) + bytes(rng.integers(0, 256, 64, dtype=np.uint8))


#                 batch ch  h   w  kh kw sh sw dh dw  t  b  l  r thr kind flags flags
pools = {
    "max_3x3_s2_p1": [1, 4, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
    "max_2x2_s2": [1, 8, 14, 14, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0],
    "max_3x3_s1_p1_ceil": [2, 3, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 2, 0],
    "max_3x3_s2_ceil": [1, 5, 13, 13, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 2, 0],
    "avg_2x2": [1, 6, 10, 10, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    "avg_3x3_p1_exclude_pad": [1, 4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0],
    "avg_3x3_p1_include_pad": [1, 4, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 5, 0],
    "max_dilated": [1, 2, 12, 12, 3, 3, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0],
}
depthwise = {
    "dw_3x3_s1_p1_relu6": [1, 12, 14, 14, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 2, 1],
    "dw_3x3_s2_p1_relu": [1, 8, 28, 28, 3, 3, 2, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0],
    "dw_5x5_s1_p2_residual": [1, 4, 7, 7, 5, 5, 1, 1, 0, 0, 2, 2, 2, 2, 0, 1, 0, 3],
    "dw_5x5_s2_tf_same": [1, 4, 15, 15, 5, 5, 2, 1, 0, 0, 1, 2, 1, 2, 0, 1, 0, 0],
    "dw_3x3_dilated": [1, 3, 12, 12, 3, 3, 1, 2, 0, 0, 2, 2, 2, 2, 0, 1, 0, 0],
    "dw_multiplier_2": [1, 3, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1],
    "dw_7x7": [1, 2, 16, 16, 7, 7, 1, 1, 0, 0, 3, 3, 3, 3, 0, 1, 0, 0],
}
for name, fields in {**pools, **depthwise}.items():
    write("pool_depthwise", name, descriptor(fields))
