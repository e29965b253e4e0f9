#!/usr/bin/env python3
# Writes an int8 copy of the bench's random ViT-B/32-shaped model, the way Xenova's
# *_quantized.onnx exports are made: onnxruntime's dynamic quantization (int8 weights, activations
# quantized on the fly, float32 in and out), so `npm run bench -- --model vit-b32-random-q8` can
# measure what clip-vit-b32-q8 costs against clip-vit-b32 without downloading either.
#
# Needs onnxruntime's Python package (not Debian's python3-onnx alone), for example:
#   python3 -m venv /tmp/ort && /tmp/ort/bin/pip install --no-index --find-links /opt/pypi/files onnxruntime onnx
#   /tmp/ort/bin/python scripts/quantize-bench-model.py [.bench/models/vit-b32-random] [.bench/models/vit-b32-random-q8]
# Writes onnx/text_model.onnx, onnx/vision_model.onnx and tokenizer.json, then manifest.json (each
# file's size and sha256), as bench/build-vit-b32-model.py does for the fp32 model.

import hashlib
import json
import os
import shutil
import sys

from onnxruntime.quantization import QuantType, quantize_dynamic


def pin(folder, path):
    digest = hashlib.sha256()
    with open(os.path.join(folder, path), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"path": path, "size": os.path.getsize(os.path.join(folder, path)), "sha256": digest.hexdigest()}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".bench", "models", "vit-b32-random")
    target = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, ".bench", "models", "vit-b32-random-q8")
    os.makedirs(os.path.join(target, "onnx"), exist_ok=True)
    for tower in ("text_model", "vision_model"):
        # Per-tensor int8 weights on MatMul/Gemm (and attention), as transformers.js' quantize script does.
        quantize_dynamic(
            os.path.join(source, "onnx", tower + ".onnx"),
            os.path.join(target, "onnx", tower + ".onnx"),
            weight_type=QuantType.QInt8,
        )
        print(f"{tower}: {os.path.getsize(os.path.join(target, 'onnx', tower + '.onnx'))} bytes")
    shutil.copyfile(os.path.join(source, "tokenizer.json"), os.path.join(target, "tokenizer.json"))
    manifest = {
        "textModel": pin(target, "onnx/text_model.onnx"),
        "visionModel": pin(target, "onnx/vision_model.onnx"),
        "tokenizer": pin(target, "tokenizer.json"),
    }
    with open(os.path.join(target, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
