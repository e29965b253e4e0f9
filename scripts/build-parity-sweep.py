#!/usr/bin/python3
# Draws the larger JPEGs of the scaled-decode parity sweep (docs/image-preprocessing.md, "Large
# JPEGs") into .bench/parity-sweep/ (never committed: about 25 MB), each with the 224x224 RGB crop
# CLIPImageProcessor makes of it (<name>.ref.rgb, raw bytes), computed as
# scripts/build-clip-parity-fixtures.py computes the committed fixtures' references, with its
# draw(). bench/jpeg-parity-sweep.ts compares findimage's tensors with them.
# Needs Pillow and numpy (a venv: pip install --no-index --find-links /opt/pypi/files pillow numpy):
#   python scripts/build-parity-sweep.py [--out .bench/parity-sweep]

import argparse
import importlib.util
import os

import numpy as np
from PIL import Image

# name, width, height, seed, noise (standard deviation in levels), JPEG quality, chroma subsampling
# (PIL's: 0 is 4:4:4, 2 is 4:2:0). Phone sizes, a 48 MP one, one whose sides 4 does not divide and
# one whose sides 8 does not divide.
SWEEP = [
    ("noisy-4032x3024.jpg", 4032, 3024, 11, 8, 90, 2),
    ("drawn-4000x3000-444.jpg", 4000, 3000, 12, 0, 92, 0),
    ("noisy-3024x4032.jpg", 3024, 4032, 13, 6, 90, 2),
    ("drawn-4001x2999.jpg", 4001, 2999, 14, 2, 90, 2),
    ("noisy-3264x2448.jpg", 3264, 2448, 15, 6, 90, 2),
    ("noisy-2800x2100.jpg", 2800, 2100, 16, 6, 90, 2),
    ("drawn-8000x6000.jpg", 8000, 6000, 17, 3, 90, 2),
    ("noisy-1920x1440.jpg", 1920, 1440, 18, 6, 90, 2),
    ("drawn-4002x3002.jpg", 4002, 3002, 21, 2, 90, 2),
    ("noisy-5712x4284.jpg", 5712, 4284, 22, 5, 90, 2),
]


def clip_script():
    """The CLIP fixture script, for its draw() and reference()."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build-clip-parity-fixtures.py")
    spec = importlib.util.spec_from_file_location("clip_parity_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(".bench", "parity-sweep"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    clip = clip_script()
    for name, width, height, seed, noise, quality, subsampling in SWEEP:
        image = clip.draw(width, height, "RGB", seed)
        if noise:
            pixels = np.asarray(image).astype(np.float32)
            pixels += np.random.RandomState(seed).normal(0, noise, (height, width, 3))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        path = os.path.join(args.out, name)
        image.save(path, quality=quality, subsampling=subsampling)
        crop, entry = clip.reference(path)
        with open(path + ".ref.rgb", "wb") as handle:
            handle.write(crop.tobytes())
        print("%-26s %4dx%-4d -> %dx%d" % (name, width, height, entry["resized"][0], entry["resized"][1]))


if __name__ == "__main__":
    main()
