#!/usr/bin/python3
# Builds test/fixtures/siglip-parity/: small synthetic images whose squash to 224x224 enlarges an
# axis, shrinks one, or both (plus the CLIP fixtures' three 12 MP photos, referenced where they
# are), and for each the 224x224 RGB bytes Hugging Face's SiglipImageProcessor
# (its PIL reference, SiglipImageProcessorPil) feeds the model.
# src/core/image/squash-parity.test.ts compares findimage's SigLIP tensors with them.
#
# Run with Debian's Python (apt-get install python3-pil python3-numpy), from the repository root:
#   /usr/bin/python3 scripts/build-siglip-parity-fixtures.py           # references from the images
#   /usr/bin/python3 scripts/build-siglip-parity-fixtures.py --draw    # redraw the images first
#   python3 scripts/build-siglip-parity-fixtures.py --check            # recompute, compare, write nothing
# --check also runs transformers' SiglipImageProcessorPil on every image when transformers is
# importable (a venv: pip install --no-index --find-links /opt/pypi/files transformers pillow numpy)
# and fails unless its pixel_values equal the committed references.
#
# The reference is SiglipImageProcessorPil's, step for step: EXIF orientation applied (transformers'
# load_image), the whole image resized to 224x224 with PIL bicubic (no aspect ratio kept, no crop);
# rescale 1/255 and normalise (mean = std = 0.5) are exact arithmetic on these bytes, so the bytes
# are stored (lossless PNG) rather than the float tensor. Transparency is flattened on white
# first, findimage's deliberate departure (as for CLIP). The images are drawn by the CLIP fixture
# script's draw(), with seeds of their own.

import argparse
import hashlib
import importlib.util
import json
import os
import sys

import numpy as np
from PIL import Image

SIZE = 224
# SigLIP's normalisation (the same numbers as the siglip family in src/core/models).
MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float64)
STD = np.array([0.5, 0.5, 0.5], dtype=np.float64)
SEED_BASE = 100

# name, stored width, stored height, PIL mode, EXIF orientation (None: no EXIF). The first three
# are the shapes whose one-pass libvips squash was measured furthest from PIL (cosine 0.971,
# 0.980, 0.988).
IMAGES = [
    ("wide-999x223.jpg", 999, 223, "RGB", None),        # width shrunk, height enlarged
    ("tall-16x1000.png", 16, 1000, "RGB", None),        # width enlarged 14x, height shrunk
    ("small-100x75.jpg", 100, 75, "RGB", None),         # both enlarged
    ("tiny-64x64.png", 64, 64, "RGB", None),            # both enlarged 3.5x
    ("strip-1000x40.jpg", 1000, 40, "RGB", None),       # width shrunk, height enlarged 5.6x
    ("portrait-150x400.jpg", 150, 400, "RGB", None),    # width enlarged, height shrunk
    ("photo-640x480.jpg", 640, 480, "RGB", None),       # both shrunk
    ("square-224x224.png", 224, 224, "RGB", None),      # unchanged
    # Stored 300x120 with orientation 6 (rotate 90 degrees clockwise): shown 120x300.
    ("exif-rotated-300x120.jpg", 300, 120, "RGB", 6),
    ("alpha-180x120.png", 180, 120, "RGBA", None),
]

# 12 MP photos, the CLIP fixtures' own (test/fixtures/clip-parity, not copied): findimage decodes
# the first two at 1/4 scale (libjpeg's DCT scaling), the odd-sided one at full size.
PHOTOS = ["../clip-parity/photo-4000x3000.jpg", "../clip-parity/progressive-4032x3024.jpg", "../clip-parity/photo-4001x2999.jpg"]


def clip_script():
    """The CLIP fixture script, for its draw(), save_image() and upright_rgb()."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build-clip-parity-fixtures.py")
    spec = importlib.util.spec_from_file_location("clip_parity_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLIP = clip_script()


def reference(path):
    """224x224x3 uint8: the whole upright image resized with PIL bicubic, as SigLIP does."""
    image = CLIP.upright_rgb(path)
    width, height = image.size
    squashed = np.asarray(image.resize((SIZE, SIZE), Image.BICUBIC))
    entry = {
        "width": width,
        "height": height,
        "enlarged": [width < SIZE, height < SIZE],
    }
    return np.ascontiguousarray(squashed), entry


def normalised(pixels):
    """CHW float tensor: (byte / 255 - mean) / std."""
    return ((pixels.astype(np.float64) / 255.0 - MEAN) / STD).transpose(2, 0, 1)


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def check_with_transformers(path, pixels):
    """Largest difference between SiglipImageProcessorPil's pixel_values and the reference."""
    try:
        from transformers import SiglipImageProcessorPil
    except ImportError:
        return None
    processor = SiglipImageProcessorPil(
        size={"height": SIZE, "width": SIZE},
        resample=Image.BICUBIC,
        image_mean=MEAN.tolist(),
        image_std=STD.tolist(),
    )
    values = processor(images=CLIP.upright_rgb(path), return_tensors="np")["pixel_values"][0]
    return float(np.max(np.abs(values - normalised(pixels))))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join("test", "fixtures", "siglip-parity"))
    parser.add_argument("--draw", action="store_true", help="redraw the images first")
    parser.add_argument("--check", action="store_true", help="compare with committed files only")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    manifest = []
    failures = []
    for seed, (name, width, height, mode, orientation) in enumerate(IMAGES, start=SEED_BASE):
        if args.draw and not args.check:
            CLIP.save_image(os.path.join(args.out, name), CLIP.draw(width, height, mode, seed), orientation)
    for name in [image[0] for image in IMAGES] + PHOTOS:
        path = os.path.normpath(os.path.join(args.out, name))
        pixels, entry = reference(path)
        reference_name = os.path.splitext(os.path.basename(name))[0] + ".reference.png"
        reference_path = os.path.join(args.out, reference_name)
        if args.check:
            committed = np.asarray(Image.open(reference_path).convert("RGB"))
            if not np.array_equal(committed, pixels):
                failures.append("%s: PIL %s now gives other bytes" % (name, Image.__version__))
        else:
            Image.fromarray(pixels, "RGB").save(reference_path, optimize=True)
        hf = check_with_transformers(path, pixels)
        if hf is not None and hf > 1e-5:
            failures.append("%s: SiglipImageProcessorPil differs by %.6f" % (name, hf))
        print("%-26s %4dx%-4d -> %dx%d%s" % (
            name, entry["width"], entry["height"], SIZE, SIZE,
            "" if hf is None else ", SiglipImageProcessorPil max diff %.2e" % hf))
        manifest.append({
            "image": name,
            "sha256": sha256(path),
            "reference": reference_name,
            "referenceSha256": sha256(reference_path),
            **entry,
        })

    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)
    if not args.check:
        with open(os.path.join(args.out, "manifest.json"), "w") as handle:
            json.dump({
                "generator": "scripts/build-siglip-parity-fixtures.py",
                "pillow": Image.__version__,
                "numpy": np.__version__,
                "size": SIZE,
                "images": manifest,
            }, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()
