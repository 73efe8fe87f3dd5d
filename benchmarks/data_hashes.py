"""Fingerprints of the generated data: SHA-256 of each task's fixed validation and test images and of
one epoch's training batches.

    python benchmarks/data_hashes.py

Run it under two commits to check that a change to `ram/data.py` leaves every image byte-identical
(the fixed sets every run is scored on, and the training batches a seed and epoch produce).
"""

import argparse
import hashlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from ram import config as config_module  # noqa: E402
from ram import data  # noqa: E402

TASKS = ("run_translated_mnist", "run_cluttered_mnist", "run_cluttered_mnist_100")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epoch", type=int, default=3, help="training epoch to hash (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="run seed of that epoch (default 1)")
    args = parser.parse_args(argv)
    for name in TASKS:
        dataset = data.Dataset(config_module.config_from_module_name(name))
        fixed = hashlib.sha256(dataset.validation_images.tobytes()
                               + dataset.test_images.tobytes()).hexdigest()
        batches = hashlib.sha256()
        for images, labels in dataset.train_batches(args.epoch, args.seed, 128):
            batches.update(images.tobytes())
            batches.update(labels.tobytes())
        print(f"{name:26s} fixed sets {fixed[:16]}  epoch {args.epoch} seed {args.seed} "
              f"batches {batches.hexdigest()[:16]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
