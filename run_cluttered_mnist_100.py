"""Recurrent Attention Model on cluttered 100x100 MNIST: a translated digit plus 8 pieces of clutter.

`python run_cluttered_mnist_100.py` trains RUNS runs and reports their mean and standard deviation.
The values below are what this task sets; every other value is the default in ram/config.py (see
README.md, "Config reference").
"""

import sys

from ram import cli

DATASET = "cluttered"  # Translated digits plus pieces of other digits as clutter...
IMAGE_SIZE = 100  # ...on a 100x100 canvas...
NUM_CLUTTER = 8  # ...with eight pieces of 8x8 clutter (the paper's task).
PATCH_SIZE = 12  # The paper's sensor for cluttered MNIST: 12x12 patches...
NUM_SCALES = 4  # ...at four scales (12, 24, 48 and 96 pixels wide).
UNIT_PIXELS = 44.0  # A location of +/-1 lies 44 pixels from the centre, 6 from the edge.
NUM_GLIMPSES = 8  # The paper's glimpse count for cluttered MNIST.
EPISODES_PER_IMAGE = 2  # Two sampled episodes per image and step: better than one (docs/experiments.md).
LEARNING_RATE = 5e-4  # Better than 1e-3 on translated and cluttered 60x60 (docs/experiments.md).
EPOCHS = 130  # Two episodes per image make an epoch 1.7 times as long; 130 fit the time budget.


def main(argv=None):
    return cli.run_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
