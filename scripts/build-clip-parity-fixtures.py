#!/usr/bin/python3
# Builds test/fixtures/clip-parity/: a dozen small synthetic images, three 12-megapixel photos
# (the path where findimage decodes JPEGs at reduced scale), and for each the 224x224 RGB crop
# that Hugging Face's CLIPImageProcessor (the preprocessing the ONNX export of CLIP expects) feeds
# the model. src/core/image/clip-parity.test.ts compares findimage's tensors with them.
#
# Run once with Debian's Python (apt-get install python3-pil python3-numpy):
#   /usr/bin/python3 scripts/build-clip-parity-fixtures.py           # references from the images
#   /usr/bin/python3 scripts/build-clip-parity-fixtures.py --draw    # redraw the images first
#   python3 scripts/build-clip-parity-fixtures.py --check            # recompute, compare, write nothing
# --check also runs transformers' CLIPImageProcessor on every image when transformers is
# importable (a venv: pip install --no-index --find-links /opt/pypi/files transformers pillow numpy)
# and fails unless its pixel_values equal the committed references.
#
# The reference is CLIPImageProcessor's, step for step: EXIF orientation applied (transformers'
# load_image does it), the shortest side resized to 224 and the long side to int(224*long/short),
# PIL bicubic, crop at ((w-224)//2, (h-224)//2); rescale 1/255 and normalise are exact arithmetic
# on these bytes, so the 224x224 RGB bytes are stored (lossless PNG) rather than the float tensor.
# One deliberate departure, findimage's: transparency is flattened on white before resizing
# (PIL's convert('RGB') would keep whatever colour hides under transparent pixels).
#
# Images are drawn from fixed seeds, but JPEG encoders differ between Pillow versions, so redraw
# only on purpose: the references are always computed from the committed image bytes.
#
# The 12 MP photos are a few hundred KB each, so only two are committed: a baseline 4000x3000 and
# a progressive 4032x3024 (a phone camera's size). The third, the 4000x3000 with EXIF orientation 6
# (shown 3000x4000), is derived: the committed bytes with an EXIF segment inserted after SOI,
# which the test builds the same way (withExifOrientation in clip-parity.test.ts), byte for byte.

import argparse
import hashlib
import io
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageOps

SIZE = 224
# OpenAI CLIP's published normalisation (the same numbers as src/core/models/model-spec.ts).
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float64)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float64)
EXIF_ORIENTATION = 0x0112
JPEG_QUALITY = 75

# Quality of the 12 MP photos: lower than the small ones' to keep the committed files small
# (about 300 KB); quality changes the bytes, not the path findimage takes.
PHOTO_JPEG_QUALITY = 60

# name, stored width, stored height, PIL mode, EXIF orientation (None: no EXIF), JPEG options
IMAGES = [
    ("photo-300x225.jpg", 300, 225, "RGB", None),
    ("photo-640x480.jpg", 640, 480, "RGB", None),
    ("photo-1600x1200.jpg", 1600, 1200, "RGB", None),
    ("square-1000x999.jpg", 1000, 999, "RGB", None),
    ("near-square-225x224.jpg", 225, 224, "RGB", None),
    ("portrait-224x300.jpg", 224, 300, "RGB", None),
    # Stored 400x300 with orientation 6 (rotate 90 degrees clockwise): shown 300x400.
    ("exif-rotated-400x300.jpg", 400, 300, "RGB", 6),
    ("grey-480x360.jpg", 480, 360, "L", None),
    ("alpha-320x240.png", 320, 240, "RGBA", None),
    ("wide-500x200.jpg", 500, 200, "RGB", None),
    ("small-150x100.jpg", 150, 100, "RGB", None),
    ("tiny-64x64.png", 64, 64, "RGB", None),
    # 12 MP: findimage decodes these at 1/4 scale (libjpeg's DCT scaling), then resizes exactly.
    ("photo-4000x3000.jpg", 4000, 3000, "RGB", None),
    ("progressive-4032x3024.jpg", 4032, 3024, "RGB", None),
    # Odd sides: libjpeg's scaled sides would be rounded up, so findimage decodes it at full size.
    ("photo-4001x2999.jpg", 4001, 2999, "RGB", None),
]

# Derived images: name, the committed image they are made from, EXIF orientation inserted.
DERIVED = [
    ("exif-rotated-4000x3000.jpg", "photo-4000x3000.jpg", 6),
]


def draw(width, height, mode, seed):
    """Photo-like test content: smooth colour fields, hard-edged shapes, thin lines and text."""
    rng = np.random.RandomState(seed)
    # Low-frequency colour field: a 4x3 grid of random colours, enlarged smoothly.
    field = Image.fromarray(rng.randint(0, 256, (3, 4, 3), dtype=np.uint8), "RGB")
    image = field.resize((width, height), Image.BICUBIC)
    canvas = ImageDraw.Draw(image)
    unit = min(width, height)
    for _ in range(14):
        x0, y0 = rng.randint(0, width), rng.randint(0, height)
        w, h = rng.randint(unit // 12 + 1, unit // 3 + 2), rng.randint(unit // 12 + 1, unit // 3 + 2)
        colour = tuple(int(c) for c in rng.randint(0, 256, 3))
        if rng.rand() < 0.5:
            canvas.ellipse([x0, y0, x0 + w, y0 + h], fill=colour)
        else:
            canvas.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
    for _ in range(10):
        points = [int(rng.randint(0, width)), int(rng.randint(0, height)),
                  int(rng.randint(0, width)), int(rng.randint(0, height))]
        colour = tuple(int(c) for c in rng.randint(0, 256, 3))
        canvas.line(points, fill=colour, width=int(rng.randint(1, max(2, unit // 60) + 1)))
    for row in range(3):
        canvas.text((unit // 20, (row + 1) * height // 4), "findimage %d" % seed, fill=(0, 0, 0))
    if mode == "L":
        return image.convert("L")
    if mode == "RGBA":
        # Opaque in the middle, fading out towards the edges, fully transparent in the corners.
        ys, xs = np.mgrid[0:height, 0:width]
        distance = np.maximum(np.abs(xs / width - 0.5), np.abs(ys / height - 0.5)) * 2
        alpha = np.clip((1.0 - distance) * 3 * 255, 0, 255).astype(np.uint8)
        rgba = image.convert("RGBA")
        rgba.putalpha(Image.fromarray(alpha, "L"))
        return rgba
    return image


def save_image(path, image, orientation):
    if path.endswith(".png"):
        image.save(path, optimize=True)
        return
    large = image.width * image.height >= 10_000_000
    options = {"quality": PHOTO_JPEG_QUALITY if large else JPEG_QUALITY}
    if "progressive" in os.path.basename(path):
        options["progressive"] = True
    if orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    image.save(path, **options)


def with_exif_orientation(jpeg, orientation):
    """The JPEG with an APP1 Exif segment holding only the orientation, inserted after SOI.

    Big-endian TIFF header, one IFD with one SHORT entry (0x0112), no next IFD: 26 bytes of TIFF,
    the same bytes clip-parity.test.ts writes.
    """
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    tiff = (b"MM\x00\x2a" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big")
            + (EXIF_ORIENTATION).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
            + orientation.to_bytes(2, "big") + b"\x00\x00" + (0).to_bytes(4, "big"))
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def upright_rgb(path):
    """The image as transformers' load_image opens it, with transparency flattened on white."""
    image = ImageOps.exif_transpose(Image.open(path) if isinstance(path, str) else Image.open(io.BytesIO(path)))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def resized_size(width, height):
    """CLIPImageProcessor's shortest_edge resize: short side 224, long side truncated."""
    if width <= height:
        return SIZE, int(SIZE * height / width)
    return int(SIZE * width / height), SIZE


def reference(path):
    """224x224x3 uint8: resize (PIL bicubic) then centre crop, as CLIPImageProcessor does."""
    image = upright_rgb(path)
    width, height = image.size
    new_width, new_height = resized_size(width, height)
    resized = np.asarray(image.resize((new_width, new_height), Image.BICUBIC))
    top, left = (new_height - SIZE) // 2, (new_width - SIZE) // 2
    crop = resized[top:top + SIZE, left:left + SIZE]
    entry = {
        "width": width,
        "height": height,
        "resized": [new_width, new_height],
        "crop": [left, top],
        "upscaled": min(width, height) < SIZE,
    }
    return np.ascontiguousarray(crop), entry


def normalised(crop):
    """CHW float tensor: (byte / 255 - mean) / std."""
    return ((crop.astype(np.float64) / 255.0 - MEAN) / STD).transpose(2, 0, 1)


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def check_with_transformers(path, crop):
    """Largest difference between CLIPImageProcessor's pixel_values and the stored reference."""
    try:
        from transformers import CLIPImageProcessor
    except ImportError:
        return None
    processor = CLIPImageProcessor(
        size={"shortest_edge": SIZE},
        crop_size={"height": SIZE, "width": SIZE},
        resample=Image.BICUBIC,
        image_mean=MEAN.tolist(),
        image_std=STD.tolist(),
    )
    values = processor(images=upright_rgb(path), return_tensors="np")["pixel_values"][0]
    return float(np.max(np.abs(values - normalised(crop))))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join("test", "fixtures", "clip-parity"))
    parser.add_argument("--draw", action="store_true", help="redraw the images first")
    parser.add_argument("--check", action="store_true", help="compare with committed files only")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    manifest = []
    failures = []
    sources = [(name, os.path.join(args.out, name), None) for name, *_ in IMAGES]
    sources += [(name, os.path.join(args.out, base), orientation) for name, base, orientation in DERIVED]
    for seed, (name, width, height, mode, orientation) in enumerate(IMAGES, start=1):
        # A listed image not drawn yet is drawn (a new fixture); --draw redraws them all.
        missing = not os.path.exists(os.path.join(args.out, name))
        if (args.draw or missing) and not args.check:
            save_image(os.path.join(args.out, name), draw(width, height, mode, seed), orientation)
    for name, path, derived_orientation in sources:
        source = path
        if derived_orientation is not None:
            with open(path, "rb") as handle:
                source = with_exif_orientation(handle.read(), derived_orientation)
        crop, entry = reference(source)
        reference_name = os.path.splitext(name)[0] + ".reference.png"
        reference_path = os.path.join(args.out, reference_name)
        if args.check:
            committed = np.asarray(Image.open(reference_path).convert("RGB"))
            if not np.array_equal(committed, crop):
                failures.append("%s: PIL %s now gives other bytes" % (name, Image.__version__))
        else:
            Image.fromarray(crop, "RGB").save(reference_path, optimize=True)
        hf = check_with_transformers(source, crop)
        if hf is not None and hf > 1e-5:
            failures.append("%s: CLIPImageProcessor differs by %.6f" % (name, hf))
        print("%-26s %4dx%-4d -> %4dx%-4d crop at %s%s%s" % (
            name, entry["width"], entry["height"], entry["resized"][0], entry["resized"][1],
            entry["crop"], " (upscaled)" if entry["upscaled"] else "",
            "" if hf is None else ", CLIPImageProcessor max diff %.2e" % hf))
        derivation = {}
        if derived_orientation is not None:
            derivation = {"derivedFrom": os.path.basename(path), "exifOrientation": derived_orientation}
        manifest.append({
            "image": name,
            **derivation,
            "sha256": sha256(path) if derived_orientation is None else hashlib.sha256(source).hexdigest(),
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
                "generator": "scripts/build-clip-parity-fixtures.py",
                "pillow": Image.__version__,
                "numpy": np.__version__,
                "size": SIZE,
                "images": manifest,
            }, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()
