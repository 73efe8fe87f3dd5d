"""Recurrent Attention Model on your own labelled images: a folder of class folders, or an .npz.

    python run_images.py --data PATH

PATH is a folder with one subfolder per class (or `train/`, `test/` and optionally `validation/`
folders, each so), or an .npz with x_train, y_train, x_test, y_test (see README.md, "Your own
images"). The image size, channels, classes and their names come from the data, and the retina
from the image size (the rule in ram/images.py); set any of them here or with `--set` to fix it.
The values below are what this config sets; every other value is the default in ram/config.py.
"""

import sys

from ram import cli

DATASET = "images"  # Your own images, from --data.
IMAGE_SIZE = 0  # 0: the most common longer side of the images (others are resized to it).
CHANNELS = 0  # 0: 3 if any image is in colour, else 1.
NUM_CLASSES = 0  # 0: one per class folder (or label).
PATCH_SIZE = 0  # 0: by the rule in ram/images.py (8 up to 32x32 images, else 12)...
NUM_SCALES = 0  # ...with scales until the coarsest covers 80% of the image...
UNIT_PIXELS = 0.0  # ...and +/-1 at 44% of the side from the centre.
GLIMPSE_NORMALIZATION = "patch_mean"  # Each patch less its mean colour: without it, colour
# backgrounds leave the glimpse network's units dead (a colour MNIST pilot stayed at chance).
NUM_GLIMPSES = 8  # The paper's count for its 60x60 tasks.
GLIMPSE_CONV_FILTERS = 16  # Two 3x3 convolutions (16 and 32 filters) read each patch before the
# glimpse network's dense layer: on colour MNIST, 60 epochs of them beat 150 epochs without (0, the
# paper's glimpse network) by 1.5 points in less time (docs/experiments.md).
GLIMPSE_HIDDEN = 256  # Twice the paper's 128: a colour glimpse has three times the values of a grey
# one, and on colour MNIST 256 units gain 1.1-1.7 points at the same speed (docs/experiments.md).
EPISODES_PER_IMAGE = 2  # Two sampled episodes per image and step, as on translated MNIST.
LEARNING_RATE = 5e-4  # Better than 1e-3 on translated and cluttered MNIST (docs/experiments.md).
TRAIN_SHIFT = 4  # Each training image moves by up to 4 pixels every epoch (edge fill): a folder gives
# the same images every epoch, and without it colour MNIST overfits (docs/experiments.md).
EPOCHS = 150  # The cosine schedule anneals over them and validation picks the best epoch: on colour
# MNIST 150 gain 0.35 points over 90 on three seeds, and 90 gained 0.43 over 60 (--epochs 90 or 60:
# 40% or 60% less time; docs/experiments.md).
JIT_COMPILE = False  # XLA compiles the convolutions slowly on CPUs (2.6 times the dense network's
# step without it, 6.4 with: benchmarks/glimpse_network.py); try --set jit_compile=true on a GPU.


def main(argv=None):
    return cli.run_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    sys.exit(main())
