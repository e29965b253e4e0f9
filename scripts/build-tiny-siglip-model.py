#!/usr/bin/python3
# Builds models/tiny-siglip: random-weight, SigLIP-shaped towers with the exact input/output names
# and shapes of Xenova/siglip-base-patch16-224 (text: input_ids int64 [batch, 64] ->
# pooler_output [batch, 768]; vision: pixel_values [batch, 3, 224, 224] -> pooler_output
# [batch, 768], both also returning last_hidden_state as the real export does), and a small
# SentencePiece-style (Unigram) tokenizer.json laid out as the real one: </s> is id 1 and pads.
#
#   /usr/bin/python3 scripts/build-tiny-siglip-model.py [--out models/tiny-siglip]
# Also writes onnx/*_fp16.onnx, the fp16 twins (tiny-siglip-fp16). A fixed seed gives
# byte-identical files. Random weights: rankings are meaningless.

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-model"))
from float16_graph import to_float16  # noqa: E402

OPSET = 17
IR_VERSION = 8
SEED = 20261130

# The real model's numbers (google/siglip-base-patch16-224 as exported by Xenova).
CONTEXT_LENGTH = 64
IMAGE_SIZE = 224
PATCH_SIZE = 16
EMBED_DIM = 768
WIDTH = 8

# SentencePiece's special pieces, at the ids SigLIP's spiece.model gives them.
SPECIALS = ["<pad>", "</s>", "<unk>"]
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
WORDS = (
    "a an the of on in at with and photo picture image cat cats dog dogs car red blue green "
    "yellow black white tree house beach sunset mountain person people man woman child sofa "
    "table street city snow water sky night day two three small big old new"
).split()
# A few words of other languages, so that tests can show what a multilingual vocabulary gives.
FOREIGN = ["chat", "gato", "katze", "hund", "perro", "voiture"]
CJK = ["猫", "の", "写真", "犬"]
SUFFIXES = ["s", "ing", "ed", "er", "es"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")


def vocabulary():
    """[piece, log probability] rows in id order: specials, whole words, then fallbacks."""
    rows = [[piece, 0.0] for piece in SPECIALS]
    rows += [["\u2581" + word, -6.0 - i * 0.01] for i, word in enumerate(WORDS + FOREIGN)]
    rows += [[piece, -7.0] for piece in CJK]
    rows += [[suffix, -8.0] for suffix in SUFFIXES]
    rows += [["\u2581", -9.0]]
    rows += [["\u2581" + letter, -10.0] for letter in LETTERS if letter not in WORDS]
    # A letter that is already a suffix piece ("s") is not listed again: SentencePiece holds each
    # piece once, and a second copy gave "s" two ids, so that tokenizers counting distinct pieces
    # saw one id fewer than the model's embedding rows.
    rows += [[letter, -10.5] for letter in LETTERS if letter not in SUFFIXES]
    pieces = [piece for piece, _ in rows]
    duplicates = sorted({piece for piece in pieces if pieces.count(piece) > 1})
    assert not duplicates, "pieces listed twice: %s" % duplicates
    return rows


def tokenizer_json():
    special = lambda i, piece: {
        "id": i, "content": piece, "single_word": False, "lstrip": False, "rstrip": False,
        "normalized": False, "special": True,
    }
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(i, piece) for i, piece in enumerate(SPECIALS)],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [{"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}],
        },
        "pre_tokenizer": metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
            ],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [EOS_ID], "tokens": ["</s>"]}},
        },
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": UNK_ID, "vocab": vocabulary(), "byte_fallback": False},
    }


def tensor(name, array):
    return numpy_helper.from_array(np.ascontiguousarray(array), name=name)


def save(graph, path):
    model = helper.make_model(
        graph,
        producer_name="findimage-build-tiny-siglip-model",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    model.doc_string = "Random weights, for development and tests only; rankings are meaningless."
    onnx.checker.check_model(model, full_check=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def build_text(rng, vocab_size, path):
    # Token + position embedding through a Tanh (so order matters), then a mean over every
    # position: SigLIP's text encoder is bidirectional and pools the last position, which sees the
    # whole row. The head projects to 768 without normalising, as the real pooler_output is not.
    token_embedding = rng.standard_normal((vocab_size, WIDTH)).astype(np.float32)
    position_embedding = (0.5 * rng.standard_normal((CONTEXT_LENGTH, WIDTH))).astype(np.float32)
    head = (rng.standard_normal((WIDTH, EMBED_DIM)) / np.sqrt(WIDTH)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["token_embedding", "input_ids"], ["tokens"], axis=0),
        helper.make_node("Add", ["tokens", "position_embedding"], ["embedded"]),
        helper.make_node("Tanh", ["embedded"], ["last_hidden_state"]),
        helper.make_node("ReduceMean", ["last_hidden_state"], ["pooled"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["pooled", "head"], ["pooler_output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_siglip_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
        [
            helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", "sequence_length", WIDTH]),
            helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch_size", EMBED_DIM]),
        ],
        initializer=[
            tensor("token_embedding", token_embedding),
            tensor("position_embedding", position_embedding),
            tensor("head", head),
        ],
    )
    save(graph, path)


def build_vision(rng, path):
    # A 16x16 stride-16 patch convolution (SigLIP B/16's patch embedding, 14x14 patches), a Tanh,
    # mean pooling and a head to 768, not normalised.
    fan_in = 3 * PATCH_SIZE * PATCH_SIZE
    patch_weight = (rng.standard_normal((WIDTH, 3, PATCH_SIZE, PATCH_SIZE)) / np.sqrt(fan_in)).astype(np.float32)
    patch_bias = (0.1 * rng.standard_normal((WIDTH,))).astype(np.float32)
    head = (rng.standard_normal((WIDTH, EMBED_DIM)) / np.sqrt(WIDTH)).astype(np.float32)
    patches = (IMAGE_SIZE // PATCH_SIZE) ** 2
    nodes = [
        helper.make_node("Conv", ["pixel_values", "patch_weight", "patch_bias"], ["patches"],
                         kernel_shape=[PATCH_SIZE, PATCH_SIZE], strides=[PATCH_SIZE, PATCH_SIZE]),
        helper.make_node("Tanh", ["patches"], ["activated"]),
        helper.make_node("Reshape", ["activated", "grid_to_sequence"], ["flat"]),
        helper.make_node("Transpose", ["flat"], ["last_hidden_state"], perm=[0, 2, 1]),
        helper.make_node("ReduceMean", ["last_hidden_state"], ["pooled"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["pooled", "head"], ["pooler_output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_siglip_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [
            helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", patches, WIDTH]),
            helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch_size", EMBED_DIM]),
        ],
        initializer=[
            tensor("patch_weight", patch_weight),
            tensor("patch_bias", patch_bias),
            tensor("grid_to_sequence", np.array([0, WIDTH, -1], dtype=np.int64)),
            tensor("head", head),
        ],
    )
    save(graph, path)


# The fp16 twin of each tower, for tests of fp16 variants (tiny-siglip-fp16): float32 inputs and outputs around float16 weights (Casts inside the graph), the other style
# of published fp16 exports; tiny-test's twin has float16 inputs and outputs.
KEEP_FLOAT32_IO = True


def write_fp16_twin(onnx_dir, name):
    model = onnx.load(os.path.join(onnx_dir, name + ".onnx"))
    with open(os.path.join(onnx_dir, name + "_fp16.onnx"), "wb") as f:
        f.write(to_float16(model, keep_io_types=KEEP_FLOAT32_IO).SerializeToString())


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description="Build the tiny-siglip model.")
    parser.add_argument("--out", default=os.path.join(root, "models", "tiny-siglip"))
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    tokenizer = tokenizer_json()
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
        f.write("\n")
    vocab_size = len(tokenizer["model"]["vocab"])
    build_text(np.random.default_rng([SEED, 1]), vocab_size, os.path.join(args.out, "onnx", "text_model.onnx"))
    build_vision(np.random.default_rng([SEED, 2]), os.path.join(args.out, "onnx", "vision_model.onnx"))
    for tower in ("text_model", "vision_model"):
        write_fp16_twin(os.path.join(args.out, "onnx"), tower)
    for name in ("onnx/text_model.onnx", "onnx/vision_model.onnx", "onnx/text_model_fp16.onnx", "onnx/vision_model_fp16.onnx", "tokenizer.json"):
        path = os.path.join(args.out, name)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
