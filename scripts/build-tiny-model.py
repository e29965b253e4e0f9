#!/usr/bin/python3
# Builds models/tiny-test/onnx/{text,vision}_model.onnx: random-weight, CLIP-shaped towers with the
# exact input/output names and shapes of Xenova/clip-vit-base-patch32, small enough to ship in git.
#
# Run with Debian's Python (apt-get install python3-onnx python3-numpy):
#   /usr/bin/python3 scripts/build-tiny-model.py [--out models/tiny-test/onnx]
#   /usr/bin/python3 scripts/build-tiny-model.py --dynamic-text-out test/fixtures/dynamic-text/text_model.onnx
# It also writes onnx/*_fp16.onnx, the fp16 twins of both towers (tiny-test-fp16).
# The weights come from a fixed seed, so a rebuild gives byte-identical files.
# The weights are random: rankings from this model are meaningless. It exists so that tests and
# development can load, batch and run a real ONNX graph in milliseconds with nothing downloaded.

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-model"))
from float16_graph import to_float16  # noqa: E402

# onnxruntime 1.29 runs opset 17 (and onnx 1.12 from Debian 12 writes at most 17).
OPSET = 17
# IR version 8 is what onnx 1.12 writes for opset 17; onnxruntime reads it.
IR_VERSION = 8
SEED = 20261127

# The real model's numbers (Xenova/clip-vit-base-patch32): the graphs must accept the same tensors.
VOCAB_SIZE = 49408
CONTEXT_LENGTH = 77
IMAGE_SIZE = 224
PATCH_SIZE = 32
EMBED_DIM = 512
# Width of the hidden layer. 8 keeps the token table (49,408 x 8 float32) near 1.6 MB.
WIDTH = 8


def tensor(name, array):
    return numpy_helper.from_array(np.ascontiguousarray(array), name=name)


def save(graph, path):
    model = helper.make_model(
        graph,
        producer_name="findimage-build-tiny-model",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    model.doc_string = "Random weights, for development and tests only; rankings are meaningless."
    onnx.checker.check_model(model, full_check=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def text_weights(rng, width):
    """The text tower's token and position tables, the running mean's counts and the projection."""
    token_embedding = rng.standard_normal((VOCAB_SIZE, width)).astype(np.float32)
    position_embedding = (0.5 * rng.standard_normal((CONTEXT_LENGTH, width))).astype(np.float32)
    counts = np.arange(1, CONTEXT_LENGTH + 1, dtype=np.float32).reshape(CONTEXT_LENGTH, 1)
    projection = (rng.standard_normal((width, EMBED_DIM)) / np.sqrt(width)).astype(np.float32)
    return token_embedding, position_embedding, counts, projection


def text_initializers(token_embedding, position_embedding, counts, projection):
    """The text tower's weights as graph initializers, with the running sum's axis."""
    return [
        tensor("token_embedding", token_embedding),
        tensor("position_embedding", position_embedding),
        tensor("seq_axis", np.array(1, dtype=np.int64)),
        tensor("counts", counts),
        tensor("text_projection", projection),
    ]


def pooled_at_end_token():
    """From `hidden` to `text_embeds`: the row at the end-of-text token, projected, L2-normalised."""
    return [
        # CLIP pools at argmax(input_ids): EOT (49407) is the largest id in the vocabulary.
        helper.make_node("ArgMax", ["input_ids"], ["eot_position"], axis=1, keepdims=1),
        helper.make_node("GatherND", ["hidden", "eot_position"], ["pooled"], batch_dims=1),
        helper.make_node("MatMul", ["pooled", "text_projection"], ["projected"]),
        helper.make_node("ReduceL2", ["projected"], ["norm"], axes=[-1], keepdims=1),
        helper.make_node("Div", ["projected", "norm"], ["text_embeds"]),
    ]


def build_text(rng, path):
    # Token embedding + position embedding through a Tanh, then a causal running mean (position i
    # sees tokens 0..i, as CLIP's causal attention mask allows), pooled at the end-of-text token.
    # Pooling a plain embedding at EOT would give every text the same vector; the running mean
    # makes the pooled row depend on every token before it. The Tanh sits before the sum so that
    # word order matters: a sum of (token + position) alone is the same for any order.
    token_embedding, position_embedding, counts, projection = text_weights(rng, WIDTH)

    nodes = [
        helper.make_node("Gather", ["token_embedding", "input_ids"], ["tokens"], axis=0),
        helper.make_node("Add", ["tokens", "position_embedding"], ["embedded"]),
        helper.make_node("Tanh", ["embedded"], ["activated"]),
        helper.make_node("CumSum", ["activated", "seq_axis"], ["running_sum"]),
        helper.make_node("Div", ["running_sum", "counts"], ["hidden"]),
    ] + pooled_at_end_token()
    graph = helper.make_graph(
        nodes,
        "tiny_clip_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", CONTEXT_LENGTH])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", EMBED_DIM])],
        initializer=text_initializers(token_embedding, position_embedding, counts, projection),
    )
    save(graph, path)


def build_dynamic_text(rng, path, width=2):
    # The text tower above with a dynamic sequence axis, as optimum exports CLIP's text model
    # (input_ids [batch_size, sequence_length]): the position table and the running mean's counts
    # are sliced to the input's length, and it declares an attention_mask as some exports do.
    # Width 2 keeps the file near 400 KB; it is a test fixture
    # (test/fixtures/dynamic-text) for feeding rows cut after their end-of-text token.
    token_embedding, position_embedding, counts, projection = text_weights(rng, width)

    nodes = [
        helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
        helper.make_node("Slice", ["ids_shape", "one", "two"], ["length"]),
        helper.make_node("Slice", ["position_embedding", "zero", "length", "zero"], ["positions"]),
        helper.make_node("Slice", ["counts", "zero", "length", "zero"], ["counts_used"]),
        helper.make_node("Gather", ["token_embedding", "input_ids"], ["tokens"], axis=0),
        helper.make_node("Add", ["tokens", "positions"], ["embedded"]),
        helper.make_node("Tanh", ["embedded"], ["activated"]),
        # The padding mask Hugging Face's CLIPTextModel export may declare: masked tokens count as
        # zero (findimage feeds all ones, at the width it feeds input_ids).
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_column"]),
        helper.make_node("Mul", ["activated", "mask_column"], ["kept"]),
        helper.make_node("CumSum", ["kept", "seq_axis"], ["running_sum"]),
        helper.make_node("Div", ["running_sum", "counts_used"], ["hidden"]),
    ] + pooled_at_end_token()
    graph = helper.make_graph(
        nodes,
        "tiny_clip_text_dynamic",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "sequence_length"]),
        ],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", EMBED_DIM])],
        initializer=text_initializers(token_embedding, position_embedding, counts, projection)
        + [
            tensor("zero", np.array([0], dtype=np.int64)),
            tensor("one", np.array([1], dtype=np.int64)),
            tensor("two", np.array([2], dtype=np.int64)),
            tensor("last_axis", np.array([2], dtype=np.int64)),
        ],
    )
    save(graph, path)


def build_vision(rng, path):
    # One 32x32 stride-32 patch convolution (ViT-B/32's patch embedding, 7x7 patches), a Tanh so the
    # tower is not one linear map of the mean colour, mean pooling, projection, L2 normalisation.
    fan_in = 3 * PATCH_SIZE * PATCH_SIZE
    patch_weight = (rng.standard_normal((WIDTH, 3, PATCH_SIZE, PATCH_SIZE)) / np.sqrt(fan_in)).astype(
        np.float32
    )
    patch_bias = (0.1 * rng.standard_normal((WIDTH,))).astype(np.float32)
    projection = (rng.standard_normal((WIDTH, EMBED_DIM)) / np.sqrt(WIDTH)).astype(np.float32)

    nodes = [
        helper.make_node(
            "Conv",
            ["pixel_values", "patch_weight", "patch_bias"],
            ["patches"],
            kernel_shape=[PATCH_SIZE, PATCH_SIZE],
            strides=[PATCH_SIZE, PATCH_SIZE],
        ),
        helper.make_node("Tanh", ["patches"], ["activated"]),
        helper.make_node("ReduceMean", ["activated"], ["pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["pooled", "visual_projection"], ["projected"]),
        helper.make_node("ReduceL2", ["projected"], ["norm"], axes=[-1], keepdims=1),
        helper.make_node("Div", ["projected", "norm"], ["image_embeds"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_clip_vision",
        [
            helper.make_tensor_value_info(
                "pixel_values", TensorProto.FLOAT, ["batch_size", 3, IMAGE_SIZE, IMAGE_SIZE]
            )
        ],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch_size", EMBED_DIM])],
        initializer=[
            tensor("patch_weight", patch_weight),
            tensor("patch_bias", patch_bias),
            tensor("visual_projection", projection),
        ],
    )
    save(graph, path)


# The fp16 twin of each tower, for tests of fp16 variants (tiny-test-fp16): float16 inputs and outputs (findimage converts at the boundary), one of the two
# styles of published fp16 exports; tiny-siglip's twin keeps float32 ones.
KEEP_FLOAT32_IO = False


def write_fp16_twin(onnx_dir, name):
    model = onnx.load(os.path.join(onnx_dir, name + ".onnx"))
    with open(os.path.join(onnx_dir, name + "_fp16.onnx"), "wb") as f:
        f.write(to_float16(model, keep_io_types=KEEP_FLOAT32_IO).SerializeToString())


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description="Build the tiny-test CLIP-shaped ONNX towers.")
    parser.add_argument("--out", default=os.path.join(root, "models", "tiny-test", "onnx"))
    parser.add_argument(
        "--dynamic-text-out",
        help="write only the text tower with a dynamic sequence axis here (test/fixtures/dynamic-text/text_model.onnx)",
    )
    args = parser.parse_args()
    if args.dynamic_text_out is not None:
        os.makedirs(os.path.dirname(os.path.abspath(args.dynamic_text_out)), exist_ok=True)
        build_dynamic_text(np.random.default_rng([SEED, 3]), args.dynamic_text_out)
        print(f"{args.dynamic_text_out}: {os.path.getsize(args.dynamic_text_out)} bytes")
        return
    os.makedirs(args.out, exist_ok=True)
    # One generator per tower, each from the fixed seed, so changing one tower leaves the other's
    # bytes (and sha256) unchanged.
    build_text(np.random.default_rng([SEED, 1]), os.path.join(args.out, "text_model.onnx"))
    build_vision(np.random.default_rng([SEED, 2]), os.path.join(args.out, "vision_model.onnx"))
    for tower in ("text_model", "vision_model"):
        write_fp16_twin(args.out, tower)
    for name in ("text_model.onnx", "vision_model.onnx", "text_model_fp16.onnx", "vision_model_fp16.onnx"):
        path = os.path.join(args.out, name)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
