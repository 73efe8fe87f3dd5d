"""Recurrent Attention Model on translated MNIST: each digit at a random place on a 60x60 canvas.

`python run_translated_mnist.py` trains RUNS independent runs and prints the mean and standard
deviation of their test accuracy. Training images are generated afresh every epoch; validation and
test images once, from fixed seeds. The values below are what this task sets; every other value is
the default in ram/config.py (see README.md, "Config reference").
"""

import sys

from ram import cli

DATASET = "translated"  # A 28x28 digit at a uniformly random place on a black canvas...
IMAGE_SIZE = 60  # ...of 60x60 pixels.
PATCH_SIZE = 12  # The paper's sensor for 60x60: 12x12 patches...
NUM_SCALES = 3  # ...at three scales (12, 24 and 48 pixels wide).
UNIT_PIXELS = 26.0  # A location of +/-1 lies 26 pixels from the centre (the Torch reference).
NUM_GLIMPSES = 8  # The paper's glimpse count for translated MNIST.
EPISODES_PER_IMAGE = 2  # Two sampled episodes per image and step: better than one (docs/experiments.md).
LEARNING_RATE = 5e-4  # Better than 3e-4, 1e-3 and 2e-3 on this task (docs/experiments.md).


def main(argv=None):
    return cli.run_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
