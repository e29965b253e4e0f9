#!/usr/bin/env python3
# Converts a CLIP tower's ONNX graph to float16 for the GPU bench (bench/gpu.sh): every float32
# weight and constant becomes float16, and a Cast at each float input and output keeps the
# graph's interface float32, so findimage feeds and reads it unchanged (tower-runner.ts checks
# for a float32 output). Needs only onnx and numpy: the GPU machine's Python has both, while
# onnxconverter-common and onnxruntime's transformers tools may not be installed there.
#
#   python3 bench/gpu-fp16-model.py --src DIR --out DIR [--dtype float16|float32]
# DIR holds onnx/text_model.onnx, onnx/vision_model.onnx and tokenizer.json (the model folder
# layout); --out gets the same layout in float16 plus manifest.json (sizes and sha256), which
# bench/bench-model.ts reads. --dtype float32 copies the towers unchanged with a manifest (the
# dry run of bench/gpu.sh uses it to load the tiny test model the way it loads the bench model).

import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT16_MAX = float(np.finfo(np.float16).max)
TOWERS = ("text_model.onnx", "vision_model.onnx")


def to_float16(tensor):
    """A float32 TensorProto as float16, clipped to float16's range (masks use large negatives)."""
    array = numpy_helper.to_array(tensor).astype(np.float32)
    converted = numpy_helper.from_array(np.clip(array, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16), tensor.name)
    return converted


def convert_graph(graph):
    for index, initializer in enumerate(graph.initializer):
        if initializer.data_type == TensorProto.FLOAT:
            graph.initializer[index].CopyFrom(to_float16(initializer))
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
                attribute.t.CopyFrom(to_float16(attribute.t))
            if node.op_type == "Cast" and attribute.name == "to" and attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.FLOAT16
            if attribute.type == onnx.AttributeProto.GRAPH:
                convert_graph(attribute.g)
    # Shapes inferred for float32 would now be wrong; ONNX Runtime infers them again.
    del graph.value_info[:]


def keep_float32_interface(graph):
    """Casts float32 inputs to float16 on entry and float16 outputs back to float32 on exit."""
    casts_in = []
    for graph_input in graph.input:
        if graph_input.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        name = graph_input.name
        half = f"{name}_fp16"
        for node in graph.node:
            node.input[:] = [half if value == name else value for value in node.input]
        casts_in.append(helper.make_node("Cast", [name], [half], name=f"{name}_to_fp16", to=TensorProto.FLOAT16))
    for graph_output in graph.output:
        if graph_output.type.tensor_type.elem_type != TensorProto.FLOAT:
            continue
        name = graph_output.name
        half = f"{name}_fp16"
        for node in graph.node:
            node.output[:] = [half if value == name else value for value in node.output]
        graph.node.append(helper.make_node("Cast", [half], [name], name=f"{name}_to_fp32", to=TensorProto.FLOAT))
    for cast in reversed(casts_in):
        graph.node.insert(0, cast)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    for tower in TOWERS:
        if args.dtype == "float32":
            shutil.copyfile(os.path.join(args.src, "onnx", tower), os.path.join(args.out, "onnx", tower))
            continue
        model = onnx.load(os.path.join(args.src, "onnx", tower))
        convert_graph(model.graph)
        keep_float32_interface(model.graph)
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(args.out, "onnx", tower))
    shutil.copyfile(os.path.join(args.src, "tokenizer.json"), os.path.join(args.out, "tokenizer.json"))
    files = {"textModel": "onnx/text_model.onnx", "visionModel": "onnx/vision_model.onnx", "tokenizer": "tokenizer.json"}
    manifest = {}
    for key, relative in files.items():
        path = os.path.join(args.out, relative)
        manifest[key] = {"path": relative, "size": os.path.getsize(path), "sha256": sha256(path)}
    # Written last: its presence says the conversion finished.
    with open(manifest_path, "w") as file:
        json.dump(manifest, file, indent=2)
    print(f"{args.dtype} towers written to {args.out}")


if __name__ == "__main__":
    main()
