"""Where a colour MNIST model's test errors lie: on digits that clutter touches, or on clear ones.

    python tools/colour_mnist_errors.py \\
        results/run_images_colour_mnist_conv16_150/run_2/network.h5 --data output/colour_mnist

A lab-notes measurement for the demonstration set of tools/make_colour_mnist.py. It remakes that
set's test canvases from the bundled MNIST (the same seed gives the same pixels), checks them
against the PNG files in `--data`/test, and keeps where each canvas's ink lies: the digit's and
the three clutter pieces'. Then it classifies every test image with one deterministic episode (and
with `--samples M`, the mean of M sampled episodes) and prints the accuracy by how many clutter
pixels lie within REACH pixels of the digit's ink: the clutter the 8x8 pieces put on or against the
digit's strokes, where the digit itself is painted on top. `--part train` does the same for the
training folder, split as a run splits it into the images it trains on (as stored: without the
run's shifts and colourings) and its validation images.
"""

import argparse
import pathlib
import sys

import cv2
import numpy as np

from ram import data as data_module
from ram import images as images_module
from ram import runs

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_colour_mnist  # noqa: E402  (a script beside this one, not a package module)

INK = 0.25  # A pixel is ink where its mask (0-1) reaches a quarter.
REACH = 2  # Clutter "touches" the digit within this many pixels (on both axes) of its ink.
# Bands of touching clutter pixels in the report: (label, fewest, most).
BANDS = (("0", 0, 0), ("1-9", 1, 9), ("10-29", 10, 29), ("30 or more", 30, np.inf))


def touching(digit, clutter, ink=INK, reach=REACH):
    """Per image, the clutter ink pixels within `reach` pixels (rows and columns) of the digit's
    ink: `digit` and `clutter` are `[n, H, W]` masks (0-1)."""
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    near = np.stack([cv2.dilate((mask >= ink).astype(np.uint8), kernel) for mask in digit]) > 0
    return (near & (clutter >= ink)).sum(axis=(1, 2))


def canvases_of(folder, part="test"):
    """`(files, labels, canvases, layout)` of the `part` ("test" or "train") folder in `folder`,
    files in the order the run scripts read them, with the canvases and ink that
    make_colour_mnist.py made for those files; DataError where the folder is not that set."""
    split = pathlib.Path(folder) / part
    if not split.is_dir():
        raise data_module.DataError(f"{folder} has no {part}/ folder: give the folder that "
                                    "tools/make_colour_mnist.py wrote")
    classes, _ = images_module.class_folders(split)  # As a run lists them, in its order.
    files = [path for name in sorted(classes) for path in classes[name]]
    for path in files:
        if part == "train" and "_" in path.stem:  # <index>_<k>.png: a copy's canvas.
            raise data_module.DataError(f"{split} holds more than one canvas per digit "
                                        f"({path.name}): --part train reads only sets made "
                                        "without --train-copies")
        if not (path.parent.name.isdigit() and path.stem.isdigit() and path.suffix == ".png"):
            raise data_module.DataError(f"{path} is not named as make_colour_mnist.py names its "
                                        f"files ({part}/<digit>/<index>.png)")
    labels = np.array([int(path.parent.name) for path in files])
    indices = np.array([int(path.stem) for path in files])
    x_train, y_train, x_test, y_test, _ = data_module.load_mnist()
    digits, digit_labels = (x_test, y_test) if part == "test" else (x_train, y_train)
    count = len(files)  # A --limit N set holds the first N digits, drawn for N.
    if indices.max() >= count or (digit_labels[indices] != labels).any():
        raise data_module.DataError(f"the files in {split} are not the {count} digits that "
                                    "make_colour_mnist.py writes")
    layout = {}
    canvases = make_colour_mnist.make(digits[:count], digits[:count],
                                      np.random.default_rng(make_colour_mnist.SEEDS[part]), layout)
    return files, labels, canvases[indices], {key: value[indices]
                                              for key, value in layout.items()}


def read_checked(files, canvases, config):
    """The test files as the model reads them; DataError if any differs from its remade canvas."""
    pixels = np.stack([images_module.read_image(path, config.image_size, config.channels)
                       for path in files])
    differs = np.flatnonzero((pixels != canvases).any(axis=(1, 2, 3)))
    if len(differs):
        raise data_module.DataError(f"{files[differs[0]]} (and {len(differs) - 1} more) differs "
                                    "from what make_colour_mnist.py makes: not its colour MNIST")
    return pixels


def report(correct, contact):
    """Lines of accuracy by band of touching clutter pixels, for each `{name: correct}`."""
    lines = ["clutter pixels touching the digit | images | " + " | ".join(
        f"accuracy, {name} (errors)" for name in correct)]
    for label, low, high in BANDS + (("all", 0, np.inf),):
        rows = (contact >= low) & (contact <= high)
        cells = [f"{100 * right[rows].mean():.2f}% ({int((~right[rows]).sum())})" if rows.any()
                 else "-" for right in correct.values()]
        lines.append(f"{label} | {int(rows.sum())} ({100 * rows.mean():.1f}%) | "
                     + " | ".join(cells))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="a colour MNIST run's network.h5")
    parser.add_argument("--data", required=True,
                        help="the folder tools/make_colour_mnist.py wrote (its test/ is used)")
    parser.add_argument("--part", choices=("test", "train"), default="test",
                        help="the test images, or the training folder's (split as the run split "
                             "them into training and validation images)")
    parser.add_argument("--samples", type=int, default=0,
                        help="also the mean of this many sampled episodes per image")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled episodes' noise")
    args = parser.parse_args(argv)
    try:
        if args.samples < 0:
            raise ValueError(f"--samples must be 0 or more, got {args.samples}")
        config = runs.saved_config(args.weights)
        if (config.image_size, config.channels) != (make_colour_mnist.CANVAS, 3):
            raise ValueError(f"{args.weights} reads {config.image_size}x{config.image_size}x"
                             f"{config.channels} images, not colour MNIST's "
                             f"{make_colour_mnist.CANVAS}x{make_colour_mnist.CANVAS}x3")
        if config.names() and config.names() != [str(digit) for digit in range(10)]:
            raise ValueError(f"{args.weights} names its classes {config.class_names}, not the "
                             "digits 0-9 of colour MNIST")
        files, labels, canvases, layout = canvases_of(args.data, args.part)
        pixels = read_checked(files, canvases, config)
        groups = {"test": np.arange(len(files))}
        if args.part == "train":  # The run held out its validation images from these.
            groups = dict(zip(("training", "validation"),
                              images_module.validation_split(labels, config)))
        # TensorFlow loads only once the arguments are known to be good.
        from ram import rollout
        from ram.backend import keras
        model = rollout.load_trained(args.weights, config)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    model.seed_generator = keras.random.SeedGenerator(args.seed)
    episodes = rollout.Rollout(model, config.eval_batch_size)
    correct = {"one episode": episodes.probabilities(pixels).argmax(-1) == labels}
    if args.samples:
        correct[f"{args.samples} sampled"] = (
            episodes.probabilities(pixels, args.samples).argmax(-1) == labels)
    contact = touching(layout["digit"], layout["clutter"])
    print(f"{args.weights} on {args.data}/{args.part}: clutter touches a digit where its ink "
          f"(mask >= {INK}) lies within {REACH} pixels of the digit's")
    for name, rows in groups.items():
        print(f"{name} images, as stored (unshifted, in their own colours):" if name == "training"
              else f"{name} images:")
        print("\n".join(report({key: right[rows] for key, right in correct.items()},
                                contact[rows])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
