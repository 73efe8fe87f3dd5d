"""Write "colour translated MNIST", a folder data set anyone can re-create offline from the bundled
MNIST, to try run_images.py on colour images.

    python tools/make_colour_mnist.py data/colour_mnist
    python run_images.py --data data/colour_mnist

Each 28x28 digit is painted in a random colour at a random place on a 60x60 canvas of another
random colour, with three 8x8 pieces of other digits as clutter, each in a colour of its own. Every
colour differs from the background by at least MIN_CONTRAST (the mean absolute difference over R,
G and B, of 255), so digit and clutter stay visible; colours are drawn independently of the class,
so they say nothing about it. The 60,000 training images go to `train/<digit>/`, the 10,000 test
images to `test/<digit>/`, as PNG files; the same seed gives the same images, byte for byte. The
folder is written whole under a temporary name and renamed, or not at all.

`--train-copies N` (N >= 2) gives each training digit N canvases, each with its own place, colours
and clutter, the way the grey tasks draw fresh canvases every epoch. A run's validation images
must then come from other digits than its training images, so a seeded, stratified 10% of the
digits go to `validation/<digit>/` with one canvas each; the others' first canvases are those of
the plain set (same file names), the further ones `<index>_<copy>.png`. The test images are the
plain set's.
"""

import argparse
import os
import pathlib
import shutil
import sys
import tempfile

import cv2
import numpy as np

from ram import data as data_module
from ram import images as images_module

CANVAS = 60  # Side of each image.
CLUTTER = 3  # Pieces of clutter per image...
CLUTTER_SIZE = 8  # ...each an 8x8 cut from another digit.
MIN_CONTRAST = 80  # Least mean absolute RGB difference of a digit or a piece from the background.
SEEDS = {"train": 27, "test": 1992}  # Fixed: the test images never change.
VALIDATION_FRACTION = 0.1  # With --train-copies: the digits held out for validation/...
VALIDATION_SEED = 28  # ...chosen by this seed; copy k of a training digit draws from [27, k].


def contrasting_colours(background, rng):
    """One random RGB colour per row of `background`, at least MIN_CONTRAST away from it."""
    colours = rng.integers(0, 256, background.shape)
    while True:
        close = np.abs(colours - background).mean(axis=1) < MIN_CONTRAST
        if not close.any():
            return colours
        colours[close] = rng.integers(0, 256, (int(close.sum()), 3))


def paint(canvases, masks, colours, rows, cols):
    """Paints each `masks[i]` (values 0-1) in `colours[i]` onto `canvases[i]` at `(rows, cols)`."""
    size = masks.shape[1]
    for index in range(len(canvases)):
        window = canvases[index, rows[index]:rows[index] + size, cols[index]:cols[index] + size]
        mask = masks[index][..., None]
        window[:] = window * (1 - mask) + colours[index] * mask


def make(digits, sources, rng, layout=None):
    """uint8 `[n, CANVAS, CANVAS, 3]` canvases of `digits` with clutter cut from `sources`. A dict
    `layout` receives where each canvas's ink lies: `digit` and `clutter`, `[n, CANVAS, CANVAS]`
    masks (0-1) of the digit and of the clutter pieces (the brighter where two overlap); the
    canvases are the same either way."""
    count = len(digits)
    if layout is not None:
        layout["digit"] = np.zeros((count, CANVAS, CANVAS), np.float32)
        layout["clutter"] = np.zeros((count, CANVAS, CANVAS), np.float32)
    background = rng.integers(0, 256, (count, 3))
    canvases = np.broadcast_to(background[:, None, None, :].astype(np.float32),
                               (count, CANVAS, CANVAS, 3)).copy()
    for _ in range(CLUTTER):
        pieces = sources[rng.integers(0, len(sources), count)]
        cut = rng.integers(0, 28 - CLUTTER_SIZE + 1, (count, 2))
        masks = np.stack([piece[r:r + CLUTTER_SIZE, c:c + CLUTTER_SIZE]
                          for piece, (r, c) in zip(pieces, cut)]) / 255.0
        at = rng.integers(0, CANVAS - CLUTTER_SIZE + 1, (count, 2))
        paint(canvases, masks, contrasting_colours(background, rng), at[:, 0], at[:, 1])
        if layout is not None:
            _mark(layout["clutter"], masks, at)
    at = rng.integers(0, CANVAS - 28 + 1, (count, 2))
    paint(canvases, digits / 255.0, contrasting_colours(background, rng), at[:, 0], at[:, 1])
    if layout is not None:
        _mark(layout["digit"], digits / 255.0, at)
    return np.round(canvases).astype(np.uint8)


def _mark(layer, masks, at):
    size = masks.shape[1]
    for index, (row, col) in enumerate(at):
        window = layer[index, row:row + size, col:col + size]
        window[:] = np.maximum(window, masks[index])


def write(folder, images, labels, progress, indices=None, suffix=""):
    """Writes `images[i]` to `folder/<labels[i]>/<indices[i]><suffix>.png` (indices: 0, 1, ...)."""
    for label in np.unique(labels):  # A --limit set may lack a digit: no empty folder for it.
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
    indices = range(len(images)) if indices is None else indices
    for count, (image, label, index) in enumerate(zip(images, labels, indices), 1):
        path = folder / str(label) / f"{index:05d}{suffix}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
        if progress and count % 10000 == 0:
            print(f"  {folder.name}{suffix}: {count} of {len(images)}", flush=True)


def write_copies(folder, digits, labels, copies, progress):
    """The training digits in `copies` canvases each, a stratified share held out for validation
    with one canvas each (see --train-copies)."""
    canvases = make(digits, digits, np.random.default_rng(SEEDS["train"]))
    kept, held = images_module.stratified_split(labels, VALIDATION_FRACTION, VALIDATION_SEED)
    write(folder / "validation", canvases[held], labels[held], progress, held)
    write(folder / "train", canvases[kept], labels[kept], progress, kept)
    for copy in range(1, copies):
        canvases = make(digits[kept], digits[kept], np.random.default_rng([SEEDS["train"], copy]))
        write(folder / "train", canvases, labels[kept], progress, kept, f"_{copy}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="folder to create (must not exist)")
    parser.add_argument("--limit", type=int, help="only the first N training and N test digits")
    parser.add_argument("--train-copies", type=int, default=1, metavar="N",
                        help="canvases per training digit (2 or more also writes validation/)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    output = pathlib.Path(args.output)
    if output.exists():
        parser.exit(2, f"error: {output} already exists; choose a new folder\n")
    if args.limit is not None and args.limit < 1:
        parser.exit(2, f"error: --limit must be at least 1, got {args.limit}\n")
    if args.train_copies < 1:
        parser.exit(2, f"error: --train-copies must be at least 1, got {args.train_copies}\n")
    x_train, y_train, x_test, y_test, _ = data_module.load_mnist()
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        for part, digits, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
            digits, labels = digits[:args.limit], labels[:args.limit]
            if part == "train" and args.train_copies > 1:
                write_copies(temporary, digits, labels, args.train_copies, not args.quiet)
                continue
            images = make(digits, digits, np.random.default_rng(SEEDS[part]))
            write(temporary / part, images, labels, not args.quiet)
        os.chmod(temporary, 0o777 & ~_umask())
        os.replace(temporary, output)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    parts = "train/, validation/ and test/" if args.train_copies > 1 else "train/ and test/"
    print(f"wrote {output}: {parts}, one folder per digit, {CANVAS}x{CANVAS} RGB PNGs")
    return 0


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


if __name__ == "__main__":
    sys.exit(main())
