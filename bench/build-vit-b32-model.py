#!/usr/bin/python3
# Builds a ViT-B/32-shaped CLIP pair with random weights for `npm run bench`: the same layers, widths
# and I/O names as Xenova/clip-vit-base-patch32, so inference costs what the real model costs.
#
# Run with Debian's Python (apt-get install python3-onnx python3-numpy):
#   /usr/bin/python3 bench/build-vit-b32-model.py [--out .bench/models/vit-b32-random]
#       [--tokenizer models/tiny-test/tokenizer.json]
# Writes <out>/onnx/text_model.onnx (~253 MB), <out>/onnx/vision_model.onnx (~351 MB) and copies
# tokenizer.json beside them (the layout of the real model folder), then manifest.json with each
# file's size and sha256. Never commit the output: the weights are random (rankings mean nothing)
# and the files are large; .bench/ is gitignored.

import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# onnxruntime 1.29 runs opset 17, the first with LayerNormalization; onnx 1.12 (Debian 12) writes it.
OPSET = 17
IR_VERSION = 8
SEED = 20261127

# CLIP ViT-B/32 (OpenAI), as exported by Xenova/clip-vit-base-patch32.
VOCAB_SIZE = 49408
CONTEXT_LENGTH = 77
# The layout of the graphs this script writes, recorded in manifest.json (see bench/bench-model.ts).
GRAPH_VERSION = 2
EMBED_DIM = 512
TEXT_WIDTH = 512
TEXT_HEADS = 8
TEXT_LAYERS = 12
IMAGE_SIZE = 224
PATCH_SIZE = 32
VISION_WIDTH = 768
VISION_HEADS = 12
VISION_LAYERS = 12
MLP_RATIO = 4
LN_EPSILON = 1e-5
# QuickGELU, the activation OpenAI's CLIP was trained with: x * sigmoid(1.702 x).
QUICK_GELU_ALPHA = 1.702


class GraphBuilder:
    """Collects nodes and initialisers, naming each one after the layer it belongs to."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.initializers = []

    def weight(self, name, shape, std):
        array = (self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)
        return self.constant(name, array)

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name=name))
        return name

    def node(self, op, inputs, output, **attributes):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def layer_norm(self, prefix, x, width):
        scale = self.constant(f"{prefix}.weight", np.ones(width, dtype=np.float32))
        bias = self.constant(f"{prefix}.bias", np.zeros(width, dtype=np.float32))
        return self.node("LayerNormalization", [x, scale, bias], f"{prefix}.out", axis=-1, epsilon=LN_EPSILON)

    def linear(self, prefix, x, fan_in, fan_out, bias=True):
        w = self.weight(f"{prefix}.weight", (fan_in, fan_out), 1.0 / np.sqrt(fan_in))
        y = self.node("MatMul", [x, w], f"{prefix}.matmul")
        if not bias:
            return y
        b = self.constant(f"{prefix}.bias", np.zeros(fan_out, dtype=np.float32))
        return self.node("Add", [y, b], f"{prefix}.out")

    def attention(self, prefix, x, width, heads, mask=None):
        head_dim = width // heads
        # Reshape's 0 copies the input's dimension, so batch and sequence stay dynamic.
        split_heads = self.constant(f"{prefix}.split_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
        merge_heads = self.constant(f"{prefix}.merge_shape", np.array([0, 0, width], dtype=np.int64))
        scale = self.constant(f"{prefix}.scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))

        def heads_of(name):
            projected = self.linear(f"{prefix}.{name}_proj", x, width, width)
            return self.node("Reshape", [projected, split_heads], f"{prefix}.{name}_heads")

        q = self.node("Transpose", [heads_of("q")], f"{prefix}.q_t", perm=[0, 2, 1, 3])
        k = self.node("Transpose", [heads_of("k")], f"{prefix}.k_t", perm=[0, 2, 3, 1])
        v = self.node("Transpose", [heads_of("v")], f"{prefix}.v_t", perm=[0, 2, 1, 3])
        scores = self.node("MatMul", [q, k], f"{prefix}.scores")
        scores = self.node("Mul", [scores, scale], f"{prefix}.scaled")
        if mask is not None:
            scores = self.node("Add", [scores, mask], f"{prefix}.masked")
        probs = self.node("Softmax", [scores], f"{prefix}.probs", axis=-1)
        context = self.node("MatMul", [probs, v], f"{prefix}.context")
        context = self.node("Transpose", [context], f"{prefix}.context_t", perm=[0, 2, 1, 3])
        context = self.node("Reshape", [context, merge_heads], f"{prefix}.merged")
        return self.linear(f"{prefix}.out_proj", context, width, width)

    def mlp(self, prefix, x, width):
        hidden = self.linear(f"{prefix}.fc1", x, width, width * MLP_RATIO)
        alpha = self.constant(f"{prefix}.gelu_alpha", np.array(QUICK_GELU_ALPHA, dtype=np.float32))
        gate = self.node("Sigmoid", [self.node("Mul", [hidden, alpha], f"{prefix}.gelu_in")], f"{prefix}.gate")
        activated = self.node("Mul", [hidden, gate], f"{prefix}.gelu")
        return self.linear(f"{prefix}.fc2", activated, width * MLP_RATIO, width)

    def encoder(self, prefix, x, layers, width, heads, mask=None):
        # Pre-LN residual blocks, as in CLIP: x + attn(ln1(x)), then x + mlp(ln2(x)).
        for i in range(layers):
            p = f"{prefix}.layers.{i}"
            attended = self.attention(f"{p}.self_attn", self.layer_norm(f"{p}.ln1", x, width), width, heads, mask)
            x = self.node("Add", [x, attended], f"{p}.residual1")
            fed = self.mlp(f"{p}.mlp", self.layer_norm(f"{p}.ln2", x, width), width)
            x = self.node("Add", [x, fed], f"{p}.residual2")
        return x

    def l2_normalise(self, x, output):
        norm = self.node("ReduceL2", [x], "embeds_norm", axes=[-1], keepdims=1)
        return self.node("Div", [x, norm], output)


def save(builder, name, inputs, outputs, path):
    graph = helper.make_graph(builder.nodes, name, inputs, outputs, initializer=builder.initializers)
    model = helper.make_model(
        graph,
        producer_name="findimage-bench-build-vit-b32-model",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    model.doc_string = "ViT-B/32-shaped, random weights: for benchmarks only; rankings are meaningless."
    onnx.checker.check_model(model)
    tmp = path + ".partial"
    # Plain protobuf (both towers are under its 2 GB limit); written aside then renamed, so an
    # interrupted build never leaves a truncated model that the bench would try to load.
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, path)


def build_text(rng, path):
    b = GraphBuilder(rng)
    token_embedding = b.weight("token_embedding", (VOCAB_SIZE, TEXT_WIDTH), 0.02)
    position_embedding = b.weight("position_embedding", (CONTEXT_LENGTH, TEXT_WIDTH), 0.01)
    # Causal mask: position i attends to 0..i only. A large negative rather than -inf keeps
    # softmax finite; every row keeps its diagonal.
    causal = np.triu(np.full((CONTEXT_LENGTH, CONTEXT_LENGTH), -1e9, dtype=np.float32), k=1)
    full_mask = b.constant("causal_mask", causal)
    # The sequence axis is dynamic, as in optimum's export of CLIP's text model: the position
    # table and the mask are cut to the input's length (rows may be fed cut after their end token).
    zero = b.constant("axis_zero", np.array([0], dtype=np.int64))
    shape = b.node("Shape", ["input_ids"], "ids_shape")
    length = b.node("Slice", [shape, b.constant("axis_one", np.array([1], dtype=np.int64)), b.constant("axis_two", np.array([2], dtype=np.int64))], "sequence_length")
    positions = b.node("Slice", [position_embedding, zero, length, zero], "positions")
    both_axes = b.constant("mask_axes", np.array([0, 1], dtype=np.int64))
    square = b.node("Concat", [length, length], "mask_ends", axis=0)
    mask = b.node("Slice", [full_mask, b.constant("mask_starts", np.array([0, 0], dtype=np.int64)), square, both_axes], "mask")

    x = b.node("Gather", [token_embedding, "input_ids"], "tokens", axis=0)
    x = b.node("Add", [x, positions], "embedded")
    x = b.encoder("text", x, TEXT_LAYERS, TEXT_WIDTH, TEXT_HEADS, mask)
    x = b.layer_norm("final_ln", x, TEXT_WIDTH)
    # CLIP pools at argmax(input_ids): the end-of-text token (49407) is the largest id.
    eot = b.node("ArgMax", ["input_ids"], "eot_position", axis=1, keepdims=1)
    pooled = b.node("GatherND", [x, eot], "pooled", batch_dims=1)
    projected = b.linear("text_projection", pooled, TEXT_WIDTH, EMBED_DIM, bias=False)
    b.l2_normalise(projected, "text_embeds")
    save(
        b,
        "clip_vit_b32_text_random",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", EMBED_DIM])],
        path,
    )


def build_vision(rng, path):
    b = GraphBuilder(rng)
    patches_per_side = IMAGE_SIZE // PATCH_SIZE
    positions = patches_per_side * patches_per_side + 1
    fan_in = 3 * PATCH_SIZE * PATCH_SIZE
    patch_weight = b.weight("patch_embedding.weight", (VISION_WIDTH, 3, PATCH_SIZE, PATCH_SIZE), 1.0 / np.sqrt(fan_in))
    class_embedding = b.weight("class_embedding", (1, 1, VISION_WIDTH), 0.02)
    position_embedding = b.weight("position_embedding", (positions, VISION_WIDTH), 0.01)

    x = b.node(
        "Conv",
        ["pixel_values", patch_weight],
        "patches",
        kernel_shape=[PATCH_SIZE, PATCH_SIZE],
        strides=[PATCH_SIZE, PATCH_SIZE],
    )
    flat_shape = b.constant("patches_shape", np.array([0, VISION_WIDTH, -1], dtype=np.int64))
    x = b.node("Reshape", [x, flat_shape], "patches_flat")
    x = b.node("Transpose", [x], "patch_tokens", perm=[0, 2, 1])
    # The class token, repeated for each image of the (dynamic) batch.
    batch = b.node("Shape", ["pixel_values"], "batch_size", start=0, end=1)
    tail = b.constant("class_tail_shape", np.array([1, VISION_WIDTH], dtype=np.int64))
    class_shape = b.node("Concat", [batch, tail], "class_shape", axis=0)
    cls = b.node("Expand", [class_embedding, class_shape], "class_tokens")
    x = b.node("Concat", [cls, x], "tokens", axis=1)
    x = b.node("Add", [x, position_embedding], "embedded")
    x = b.layer_norm("pre_ln", x, VISION_WIDTH)
    x = b.encoder("vision", x, VISION_LAYERS, VISION_WIDTH, VISION_HEADS)
    first = b.constant("class_index", np.array(0, dtype=np.int64))
    pooled = b.node("Gather", [x, first], "pooled", axis=1)
    pooled = b.layer_norm("post_ln", pooled, VISION_WIDTH)
    projected = b.linear("visual_projection", pooled, VISION_WIDTH, EMBED_DIM, bias=False)
    b.l2_normalise(projected, "image_embeds")
    save(
        b,
        "clip_vit_b32_vision_random",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch_size", EMBED_DIM])],
        path,
    )


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description="Builds random-weight ViT-B/32-shaped CLIP towers.")
    parser.add_argument("--out", default=os.path.join(root, ".bench", "models", "vit-b32-random"))
    parser.add_argument("--tokenizer", default=os.path.join(root, "models", "tiny-test", "tokenizer.json"))
    args = parser.parse_args()
    onnx_dir = os.path.join(args.out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    # One generator per tower from the fixed seed: a rebuild gives the same bytes.
    build_text(np.random.default_rng([SEED, 1]), os.path.join(onnx_dir, "text_model.onnx"))
    build_vision(np.random.default_rng([SEED, 2]), os.path.join(onnx_dir, "vision_model.onnx"))
    shutil.copyfile(args.tokenizer, os.path.join(args.out, "tokenizer.json"))
    # manifest.json: each file's size and sha256, from which the bench builds the ModelSpec it
    # registers (findimage checks every model file against its spec before loading it).
    # graphVersion: bumped when a graph changes, so the bench rebuilds an older folder (2: the text
    # tower's sequence axis is dynamic).
    manifest = {"graphVersion": GRAPH_VERSION}
    for key, name in (("textModel", "onnx/text_model.onnx"), ("visionModel", "onnx/vision_model.onnx"), ("tokenizer", "tokenizer.json")):
        path = os.path.join(args.out, name)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        manifest[key] = {"path": name, "size": os.path.getsize(path), "sha256": digest.hexdigest()}
        print(f"{path}: {manifest[key]['size']} bytes, sha256 {manifest[key]['sha256']}")
    with open(os.path.join(args.out, "manifest.json.partial"), "w") as f:
        json.dump(manifest, f, indent=2)
    # Written last: its presence says the build finished.
    os.replace(os.path.join(args.out, "manifest.json.partial"), os.path.join(args.out, "manifest.json"))


if __name__ == "__main__":
    main()
