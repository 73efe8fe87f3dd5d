"""Classify image files with a trained model: one line per image, its class and probability.

    python predict.py results/run_mnist/run_0/network.h5 digit.png
    python predict.py output/run_images/run_0/model.keras photos/ --top 3 --samples 10
    python predict.py output/run_images/run_0/network.h5 photos/ --json > predictions.json

WEIGHTS is a network.h5 (with network.json beside it, or its own saved config) or a model.keras;
the config saved with it says the image size, channels and class names. Each IMAGE is an image
file (PNG, JPEG, BMP, GIF) or a folder, searched recursively (other files in a folder are skipped
with a warning). Images are converted and resized as in training (config `resize`). Without
--samples, one deterministic episode per image (the policy's mean locations); with --samples N,
the mean class probabilities of N episodes with sampled locations.
"""

import json
import pathlib
import sys

import numpy as np

from ram import cli
from ram import config as config_module
from ram import images as images_module
from ram import runs
from ram import storage


def image_files(arguments):
    """The image files the arguments name, and how many other files folders held."""
    files, skipped = [], 0
    for argument in arguments:
        path = pathlib.Path(argument)
        if path.is_dir():
            found = sorted(entry for entry in path.rglob("*")
                           if entry.is_file() and not entry.name.startswith("."))
            images = [entry for entry in found
                      if entry.suffix.lower() in images_module.IMAGE_SUFFIXES]
            skipped += len(found) - len(images)
            files += images
        elif path.is_file():
            files.append(path)
        else:
            raise storage.StorageError(f"{path} does not exist")
    if not files:
        raise storage.StorageError(f"no image files ({', '.join(images_module.IMAGE_SUFFIXES)}) "
                                   f"in {', '.join(map(str, arguments))}")
    return files, skipped


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("weights", help="network.h5 or model.keras written by training")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders")
    parser.add_argument("--samples", type=int, default=0,
                        help="mean of this many sampled episodes (default: one deterministic)")
    parser.add_argument("--top", type=int, default=1, help="the K most probable classes (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling noise")
    args = parser.parse_args(argv)
    try:
        if args.samples < 0 or args.top < 1:
            raise ValueError("--samples must be 0 or more and --top at least 1")
        if not pathlib.Path(args.weights).is_file():
            raise storage.StorageError(f"weights file {args.weights} does not exist")
        config = runs.saved_config(args.weights)
        if config.task == "play":
            raise config_module.ConfigError(
                f"{args.weights} is a Catch agent: it plays games instead of classifying images "
                f"(see it play with: python evaluate.py run_catch {args.weights})")
        files, skipped = image_files(args.images)
        pixels = np.stack([images_module.read_image(path, config.image_size, config.channels,
                                                    config.resize) for path in files])
        # TensorFlow loads only once the arguments and images are known to be good.
        from ram import rollout
        from ram.backend import keras
        model = rollout.load_trained(args.weights, config)
    except ValueError as error:
        cli.fail(error)
    if skipped:
        print(f"warning: skipped {skipped} file(s) that are not images", file=sys.stderr)
    model.seed_generator = keras.random.SeedGenerator(args.seed)
    probabilities = rollout.Rollout(model, config.eval_batch_size).probabilities(pixels,
                                                                                  args.samples)
    top = min(args.top, probabilities.shape[1])
    results = []
    for path, row in zip(files, probabilities):
        best = np.argsort(-row, kind="stable")[:top]
        results.append({"path": str(path), "predictions": [
            {"class": config.class_name(int(label)), "label": int(label),
             "probability": float(row[label])} for label in best]})
    if args.json:
        json.dump({"weights": str(args.weights), "samples": args.samples, "images": results},
                  sys.stdout, indent=2)
        print()
    else:
        for result in results:
            print(result["path"] + "  " + "  ".join(
                f"{entry['class']} {entry['probability']:.4f}" for entry in result["predictions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
