#!/usr/bin/env python3
# Writes test/fixtures/siglip-tokenizer/reference-ids.json: queries with the characters where
# JavaScript's whitespace class and Python's disagree (U+001C-U+001F and U+0085 are whitespace to
# Python, U+FEFF is not), each with the ids transformers' SiglipTokenizer gives it.
# Also queries with the control characters CLIP's clean-up (ftfy) deletes but SiglipTokenizer keeps
# (NUL, BEL, ESC and terminal escapes, DEL, C1 controls). src/core/text/siglip-tokenizer-reference
# .test.ts checks findimage's SentencePieceTokenizer against them, alone and behind SigLIP's query
# clean-up (normalizeSiglipQuery), which must leave every one of these ids unchanged.
#
# No real SigLIP spiece.model can be had here (no package reachable from this machine ships one),
# so the reference tokenizer is SiglipTokenizer itself (canonicalize_text, then SentencePiece)
# over a SentencePiece model made from tiny-siglip's own vocabulary: the same pieces, scores and
# special ids as models/tiny-siglip/tokenizer.json, which the test loads. What is compared is
# therefore SigLIP's text clean-up and SentencePiece's segmentation, not a real vocabulary.
#
#   python3 -m venv /tmp/sigvenv
#   /tmp/sigvenv/bin/pip install --no-index --find-links /opt/pypi/files transformers sentencepiece protobuf
#   /tmp/sigvenv/bin/python scripts/build-siglip-tokenizer-fixture.py
#
# Tests never run Python: they read the committed file. Regenerate after changing QUERIES or the
# tiny model's vocabulary.

import json
import os
import tempfile

from sentencepiece import sentencepiece_model_pb2 as spm_model
from transformers import SiglipTokenizer
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_JSON = os.path.join(ROOT, "models", "tiny-siglip", "tokenizer.json")
FIXTURE_PATH = os.path.join(ROOT, "test", "fixtures", "siglip-tokenizer", "reference-ids.json")
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2

# Words from tiny-siglip's vocabulary, joined or followed by the characters in question, and a few
# plain queries as a control. None starts with whitespace: the slow SiglipTokenizer prepends "▁"
# before its clean-up strips the text, so leading whitespace leaves an extra "▁" piece there; the
# fast tokenizer and big_vision (SigLIP's own code, which cleans before SentencePiece) have no such
# piece, and neither has findimage.
QUERIES = [
    "a photo of a cat",
    "Two dogs on the beach!",
    "red\x1ccar",
    "red\x1dcar",
    "red\x1ecar",
    "red\x1fcar",
    "cat\x85dog",
    "a\x1dphoto\x1eof\x1fa cat\x85",
    "\ufeffcat",
    "red \ufeff car",
    "snow\ufeffmountain",
    "\ufeff",
    "two\u3000dogs",
    "beach\u00a0sunset",
    "snow\u2028mountain",
    "sky\u2029night",
    "cat\t\x0b\x0cdog\r\n",
    "green\u2000\u200atree",
    "old\u202fhouse\u205fcity",
    "dog\u200bcat",
    "white\u1680snow",
    "big   \x1c\x85  house  ",
    "two\x1c\x1cdogs\x85\x85on the beach",
    "cat \ufeff\x1c dog",
    "red\x00car",
    "bell\x07 ring",
    "\x1b[31mred\x1b[0m car",
    "cat\x7fdog",
    "snow\x80mountain\x9f",
]


def vocabulary():
    with open(TOKENIZER_JSON, encoding="utf-8") as handle:
        model = json.load(handle)["model"]
    assert model["type"] == "Unigram" and model["unk_id"] == UNK_ID
    return model["vocab"]


def sentencepiece_model(path):
    """A Unigram SentencePiece model with tiny-siglip's pieces, scores and special ids."""
    proto = spm_model.ModelProto()
    for index, (piece, score) in enumerate(vocabulary()):
        entry = proto.pieces.add()
        entry.piece = piece
        entry.score = score
        if index in (PAD_ID, EOS_ID):
            entry.type = spm_model.ModelProto.SentencePiece.CONTROL
        elif index == UNK_ID:
            entry.type = spm_model.ModelProto.SentencePiece.UNKNOWN
        else:
            entry.type = spm_model.ModelProto.SentencePiece.NORMAL
    proto.trainer_spec.model_type = spm_model.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(proto.pieces)
    proto.trainer_spec.pad_id, proto.trainer_spec.eos_id = PAD_ID, EOS_ID
    proto.trainer_spec.unk_id, proto.trainer_spec.bos_id = UNK_ID, -1
    proto.trainer_spec.pad_piece, proto.trainer_spec.eos_piece = "<pad>", "</s>"
    proto.trainer_spec.unk_piece = "<unk>"
    # tiny-siglip's tokenizer.json has no Unicode normalisation: neither has this model.
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = True
    with open(path, "wb") as handle:
        handle.write(proto.SerializeToString())


def main():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "spiece.model")
        sentencepiece_model(path)
        tokenizer = SiglipTokenizer(vocab_file=path)
        cases = [{"text": text, "ids": tokenizer(text)["input_ids"]} for text in QUERIES]
    with open(FIXTURE_PATH, "w", encoding="utf-8") as handle:
        json.dump({
            "generator": "scripts/build-siglip-tokenizer-fixture.py",
            "reference": "transformers %s SiglipTokenizer over tiny-siglip's vocabulary" % transformers.__version__,
            "queries": cases,
        }, handle, indent=1, ensure_ascii=True)
        handle.write("\n")
    for case in cases:
        print(repr(case["text"]), case["ids"])


if __name__ == "__main__":
    main()
