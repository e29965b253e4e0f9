#!/usr/bin/python3
# Builds masked-text-model.onnx beside this file: a tiny text tower that, like Hugging Face's CLIP
# exports, declares attention_mask as well as input_ids, and whose output depends on the mask.
# The pool tests use it to prove the pool feeds exactly the inputs a graph declares.
#
#   apt-get install -y python3-onnx python3-numpy
#   /usr/bin/python3 src/gpu-worker/testing/build-masked-text-model.py
# A fixed seed gives byte-identical output.

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # what onnxruntime 1.29 runs and Debian 12's onnx 1.12 writes
IR_VERSION = 8
SEED = 7
CONTEXT_LENGTH = 77
EMBED_DIM = 512
WIDTH = 16  # small hidden width keeps the file near 40 KB


def main():
    rng = np.random.default_rng(SEED)
    w1 = rng.standard_normal((CONTEXT_LENGTH, WIDTH)).astype(np.float32)
    w2 = rng.standard_normal((WIDTH, EMBED_DIM)).astype(np.float32)
    scale = np.array(1.0 / 49408.0, dtype=np.float32)
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["ids_f", "scale"], ["ids_s"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        # Masked positions add a constant instead of their id, so a wrong mask changes the result.
        helper.make_node("Add", ["ids_s", "mask_f"], ["mixed"]),
        helper.make_node("MatMul", ["mixed", "w1"], ["hidden"]),
        helper.make_node("Tanh", ["hidden"], ["hidden_t"]),
        helper.make_node("MatMul", ["hidden_t", "w2"], ["projected"]),
        helper.make_node("ReduceL2", ["projected"], ["norm"], axes=[1], keepdims=1),
        helper.make_node("Div", ["projected", "norm"], ["text_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "masked_text_model",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", CONTEXT_LENGTH]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", CONTEXT_LENGTH]),
        ],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", EMBED_DIM])],
        [
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(w2, "w2"),
            numpy_helper.from_array(scale, "scale"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "masked-text-model.onnx")
    with open(out, "wb") as f:
        f.write(model.SerializeToString())
    print(out, os.path.getsize(out))


if __name__ == "__main__":
    main()
