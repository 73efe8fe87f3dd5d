"""Recurrent Attention Model on cluttered 60x60 MNIST: a translated digit plus 4 pieces of clutter.

Each clutter piece is an 8x8 patch cut at random from another random training digit and pasted at a
random place. `python run_cluttered_mnist.py` trains RUNS runs and reports their mean and standard
deviation; the 100x100 task with 8 pieces is run_cluttered_mnist_100.py. The values below are what
this task sets; every other value is the default in ram/config.py (see README.md, "Config
reference").
"""

import sys

from ram import cli

DATASET = "cluttered"  # Translated digits plus pieces of other digits as clutter...
IMAGE_SIZE = 60  # ...on a 60x60 canvas...
NUM_CLUTTER = 4  # ...with four pieces of 8x8 clutter (the paper's task).
PATCH_SIZE = 12  # The paper's sensor for cluttered 60x60: 12x12 patches...
NUM_SCALES = 4  # ...at four scales (12, 24, 48 and 96 pixels wide).
UNIT_PIXELS = 26.0  # A location of +/-1 lies 26 pixels from the centre (the Torch reference).
NUM_GLIMPSES = 8  # The paper's glimpse count for cluttered MNIST.
EPISODES_PER_IMAGE = 2  # Two sampled episodes per image and step: better than one (docs/experiments.md).
LEARNING_RATE = 5e-4  # Better than 1e-3 here, as on translated (docs/experiments.md).
EPOCHS = 150  # Two episodes per image make an epoch longer; 150 epochs fit the time budget.


def main(argv=None):
    return cli.run_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
