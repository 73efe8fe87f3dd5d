"""Recurrent Attention Model on centred 28x28 MNIST, the paper's first task.

`python run_mnist.py` trains RUNS independent runs and prints the mean and standard deviation of
their test accuracy. The values below are what this task sets; every other value is the default in
ram/config.py (see README.md, "Config reference"). Override any value with `--set KEY=VALUE` (the
name in lower case), for example `--set num_glimpses=4` for the faster four-glimpse variant.
"""

import sys

from ram import cli

# The defaults are this task's: 28x28 MNIST, the Torch reference's 8x8 one-scale retina with
# unit_pixels 13 (+/-1 near the edge), the paper's seven glimpses and network sizes.
TRAIN_SHIFT = 2  # Shift training digits by up to 2 pixels: without it the model overfits.


def main(argv=None):
    return cli.run_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
