#!/usr/bin/env python3
# Fine-tunes an open_clip model on a findimage caption dataset (a folder of images plus
# captions.jsonl, as `findimage eval --dataset` reads), then exports its two towers to ONNX with
# the tensor names findimage's openai-clip family expects, and writes a folder that
# `findimage model add <out>` registers:
#
#   <out>/onnx/text_model.onnx     input "input_ids" int64 [batch, 77]            -> output "text_embeds" [batch, dim]
#   <out>/onnx/vision_model.onnx   input "pixel_values" float32 [batch, 3, S, S]  -> output "image_embeds" [batch, dim]
#   <out>/tokenizer.json           the base model's CLIP BPE tokenizer (copied from --tokenizer)
#   <out>/findimage-model.json     name, family, dimension, files, and the image size, mean and std
#
# The towers return the projected embeddings, not normalised: findimage normalises them, as it does
# for the Hugging Face exports. findimage pads token rows with the end-of-text id (49407) where
# open_clip pads with 0; open_clip pools at the first largest id (argmax), which is the
# end-of-text token either way, and its causal mask keeps the padding from reaching it.
#
# Needs torch >= 2.0, torchvision and open_clip_torch (pip install open_clip_torch), plus onnx;
# onnxruntime, when present, is used to check the export against torch. Usage (docs/models.md):
#
#   python3 scripts/fine-tune-open-clip.py --dataset ./our-captions --model ViT-B-32 --pretrained openai \
#       --tokenizer ~/.cache/findimage/.../tokenizer.json --out ./our-clip --name our-clip --epochs 3
#   findimage model add ./our-clip
#
# --model tiny builds a small randomly initialised CLIP (width 64, 2 layers, 32-pixel images) so
# that the whole recipe runs in seconds: the recipe's test uses it where torch and open_clip exist.

import argparse
import inspect
import json
import os
import random
import shutil
import sys

# findimage's openai-clip family (src/core/models/model-family.ts): the graphs' tensor names and
# the token row it feeds.
TEXT_INPUT = "input_ids"
TEXT_OUTPUT = "text_embeds"
VISION_INPUT = "pixel_values"
VISION_OUTPUT = "image_embeds"
CONTEXT_LENGTH = 77
BOS_ID = 49406
EOS_ID = 49407
# onnxruntime 1.29 (findimage's) runs opset 17.
OPSET = 17
# The tiny configuration: enough to exercise training and export, nothing more.
TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "patch_size": 16, "width": 64, "layers": 2, "head_width": 32},
    "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Fine-tune open_clip on a findimage caption dataset and export it for `findimage model add`.")
    parser.add_argument("--dataset", required=True, help="folder with captions.jsonl and the images it names")
    parser.add_argument("--model", default="ViT-B-32", help="open_clip model name, or 'tiny' for the test configuration")
    parser.add_argument("--pretrained", default="openai", help="open_clip pretrained tag ('none' for random weights)")
    parser.add_argument("--tokenizer", required=True, help="the base model's tokenizer.json (CLIP BPE, ids 49406/49407)")
    parser.add_argument("--out", required=True, help="folder to write (created; must be empty if it exists)")
    parser.add_argument("--name", required=True, help="model id for FINDIMAGE_MODEL (lowercase letters, digits, . _ -)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-5, help="small: a fine-tune should move a pretrained CLIP a little")
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--device", default=None, help="cuda, cpu (default: cuda when available)")
    return parser.parse_args(argv)


def read_dataset(folder):
    """(image path, caption) pairs from captions.jsonl, as findimage reads it."""
    pairs = []
    with open(os.path.join(folder, "captions.jsonl"), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("image"), str) or not row.get("captions"):
                sys.exit(f"captions.jsonl line {number}: expected {{\"image\": \"a.jpg\", \"captions\": [\"...\"]}}")
            for caption in row["captions"]:
                pairs.append((os.path.join(folder, row["image"]), caption.strip()))
    if not pairs:
        sys.exit("captions.jsonl lists no captions")
    return pairs


def build_model(args, open_clip, torch):
    if args.model == "tiny":
        model = open_clip.model.CLIP(**TINY)
        size = TINY["vision_cfg"]["image_size"]
        mean, std = open_clip.constants.OPENAI_DATASET_MEAN, open_clip.constants.OPENAI_DATASET_STD
        preprocess_train = open_clip.transform.image_transform(size, is_train=True, mean=mean, std=std)
        return model, preprocess_train, size, list(mean), list(std)
    pretrained = None if args.pretrained == "none" else args.pretrained
    model, preprocess_train, _ = open_clip.create_model_and_transforms(args.model, pretrained=pretrained)
    config = getattr(model.visual, "preprocess_cfg", {})
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    mean = list(config.get("mean", open_clip.constants.OPENAI_DATASET_MEAN))
    std = list(config.get("std", open_clip.constants.OPENAI_DATASET_STD))
    return model, preprocess_train, size, mean, std


def tokenize(texts, tokenizer, torch):
    """Rows of CONTEXT_LENGTH ids as findimage makes them: BOS, tokens, EOS, then EOS as padding."""
    rows = []
    for text in texts:
        ids = [i for i in tokenizer.encode(text, add_special_tokens=False).ids][: CONTEXT_LENGTH - 2]
        row = [BOS_ID] + ids + [EOS_ID]
        rows.append(row + [EOS_ID] * (CONTEXT_LENGTH - len(row)))
    return torch.tensor(rows, dtype=torch.long)


def train(model, pairs, preprocess, tokenizer, args, torch, open_clip, Image, device):
    """Contrastive fine-tune (CLIP's own loss, in-batch negatives)."""
    loss_fn = open_clip.loss.ClipLoss()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=args.weight_decay)
    model.train()
    for epoch in range(1, args.epochs + 1):
        random.shuffle(pairs)
        total, batches = 0.0, 0
        for start in range(0, len(pairs), args.batch_size):
            batch = pairs[start : start + args.batch_size]
            if len(batch) < 2:
                continue  # one pair has no negatives to contrast with
            images = torch.stack([preprocess(Image.open(path).convert("RGB")) for path, _ in batch]).to(device)
            texts = tokenize([caption for _, caption in batch], tokenizer, torch).to(device)
            image_features = model.encode_image(images, normalize=True)
            text_features = model.encode_text(texts, normalize=True)
            loss = loss_fn(image_features, text_features, model.logit_scale.exp())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        print(f"epoch {epoch}: mean loss {total / max(1, batches):.4f} over {batches} batches", file=sys.stderr)


def export(model, size, out, torch):
    """The two towers as ONNX graphs with findimage's tensor names and a dynamic batch axis."""

    class TextTower(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, input_ids):
            return self.clip.encode_text(input_ids, normalize=False)

    class VisionTower(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, pixel_values):
            return self.clip.encode_image(pixel_values, normalize=False)

    model = model.cpu().eval()
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    # torch >= 2.5 exports through dynamo by default; the TorchScript exporter gives the plain
    # opset-17 graph onnxruntime 1.29 runs. Older torch has no such switch (and needs none).
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    ids = torch.full((2, CONTEXT_LENGTH), EOS_ID, dtype=torch.long)
    ids[:, 0] = BOS_ID
    ids[:, 1] = 320
    pixels = torch.randn(2, 3, size, size)
    with torch.no_grad():
        torch.onnx.export(TextTower(model), (ids,), os.path.join(out, "onnx", "text_model.onnx"), input_names=[TEXT_INPUT], output_names=[TEXT_OUTPUT],
                          dynamic_axes={TEXT_INPUT: {0: "batch"}, TEXT_OUTPUT: {0: "batch"}}, opset_version=OPSET, **legacy)
        torch.onnx.export(VisionTower(model), (pixels,), os.path.join(out, "onnx", "vision_model.onnx"), input_names=[VISION_INPUT], output_names=[VISION_OUTPUT],
                          dynamic_axes={VISION_INPUT: {0: "batch"}, VISION_OUTPUT: {0: "batch"}}, opset_version=OPSET, **legacy)
        expected = {"text": TextTower(model)(ids).numpy(), "vision": VisionTower(model)(pixels).numpy()}
    return {"text": (ids.numpy(), expected["text"]), "vision": (pixels.numpy(), expected["vision"])}


def check_with_onnxruntime(out, probes):
    """Runs both graphs once and compares with torch: a wrong export fails here, not in findimage."""
    try:
        import numpy as np
        import onnxruntime
    except ImportError:
        print("onnxruntime not installed: the export was not run once here (findimage model add will run it)", file=sys.stderr)
        return
    for tower, (input_name, output_name) in {"text": (TEXT_INPUT, TEXT_OUTPUT), "vision": (VISION_INPUT, VISION_OUTPUT)}.items():
        session = onnxruntime.InferenceSession(os.path.join(out, "onnx", f"{tower}_model.onnx"), providers=["CPUExecutionProvider"])
        inputs, expected = probes[tower]
        (got,) = session.run([output_name], {input_name: inputs})
        if not np.allclose(got, expected, atol=1e-4, rtol=1e-3):
            sys.exit(f"the {tower} graph's output differs from torch's (largest gap {np.abs(got - expected).max()})")
    print("both graphs give torch's outputs under onnxruntime", file=sys.stderr)


def write_manifest(out, name, dimension, size, mean, std, description):
    manifest = {
        "name": name,
        "family": "openai-clip",
        "description": description,
        "dimension": dimension,
        "files": {"textModel": "onnx/text_model.onnx", "visionModel": "onnx/vision_model.onnx", "tokenizer": "tokenizer.json"},
        "text": {"inputName": TEXT_INPUT, "outputName": TEXT_OUTPUT, "contextLength": CONTEXT_LENGTH, "bosId": BOS_ID, "eosId": EOS_ID, "padId": EOS_ID},
        "vision": {"inputName": VISION_INPUT, "outputName": VISION_OUTPUT, "imageSize": size, "mean": mean, "std": std, "resize": "shortest-side-crop"},
    }
    with open(os.path.join(out, "findimage-model.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def main(argv):
    args = parse_args(argv)
    import open_clip
    import torch
    from PIL import Image
    from tokenizers import Tokenizer

    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"{args.out} is not empty: give a new or empty folder")
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = Tokenizer.from_file(args.tokenizer)
    if tokenizer.token_to_id("<|startoftext|>") != BOS_ID or tokenizer.token_to_id("<|endoftext|>") != EOS_ID:
        sys.exit(f"{args.tokenizer} is not CLIP's BPE tokenizer (start and end of text must be {BOS_ID} and {EOS_ID})")
    model, preprocess, size, mean, std = build_model(args, open_clip, torch)
    model = model.to(device)
    pairs = read_dataset(args.dataset)
    train(model, pairs, preprocess, tokenizer, args, torch, open_clip, Image, device)
    probes = export(model, size, args.out, torch)
    check_with_onnxruntime(args.out, probes)
    shutil.copyfile(args.tokenizer, os.path.join(args.out, "tokenizer.json"))
    dimension = int(probes["text"][1].shape[1])
    write_manifest(args.out, args.name, dimension, size, mean, std, f"{args.model} ({args.pretrained}) fine-tuned on {os.path.basename(os.path.abspath(args.dataset))}, {args.epochs} epochs")
    print(f"Wrote {args.out}. Register it with: findimage model add {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
