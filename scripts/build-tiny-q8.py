#!/usr/bin/python3
# Writes int8 variants of a tiny test model's towers (onnx/*_quantized.onnx beside the fp32 ones),
# so tests cover the plumbing of quantized registry variants (clip-vit-b32-q8 and the like)
# without downloading one. Every float weight with more than MIN_ELEMENTS values is stored as
# int8 with one per-tensor scale and restored by a DequantizeLinear node under its old name:
# the graph's inputs, outputs and shapes are unchanged, the file is about 4x smaller, and the
# outputs move by the rounding, as a real int8 export's do.
#
#   /usr/bin/python3 scripts/build-tiny-q8.py [models/tiny-test]
# Deterministic: the same fp32 files give byte-identical int8 files.

import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Small tensors (biases, shape constants) stay as they are, as quantizers leave them.
MIN_ELEMENTS = 1024


def quantize(source, target):
    model = onnx.load(source)
    graph = model.graph
    kept, nodes = [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32 or array.size <= MIN_ELEMENTS:
            kept.append(init)
            continue
        scale = np.float32(max(float(np.abs(array).max()), 1e-12) / 127.0)
        q = np.clip(np.round(array / scale), -127, 127).astype(np.int8)
        kept.append(numpy_helper.from_array(q, name=init.name + "_q8"))
        kept.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), name=init.name + "_scale"))
        nodes.append(helper.make_node("DequantizeLinear", [init.name + "_q8", init.name + "_scale"], [init.name]))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    existing = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + existing)
    model.doc_string = "int8 weights of the random-weight tiny model, for tests of quantized variants."
    onnx.checker.check_model(model, full_check=True)
    with open(target, "wb") as f:
        f.write(model.SerializeToString())
    print(f"{target}: {os.path.getsize(target)} bytes")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "tiny-test")
    for tower in ("text_model", "vision_model"):
        quantize(os.path.join(folder, "onnx", tower + ".onnx"), os.path.join(folder, "onnx", tower + "_quantized.onnx"))


if __name__ == "__main__":
    main()
