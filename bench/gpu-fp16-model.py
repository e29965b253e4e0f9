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
import sys

import onnx

# The conversion itself is the one the tiny test models' fp16 twins are built with.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "tiny-model"))
from float16_graph import to_float16  # noqa: E402

TOWERS = ("text_model.onnx", "vision_model.onnx")


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
        model = to_float16(onnx.load(os.path.join(args.src, "onnx", tower)), keep_io_types=True)
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
