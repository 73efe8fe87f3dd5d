"""What does the convolutional glimpse network cost a training step, with and without XLA?

    python benchmarks/glimpse_network.py [--filters 0 8 16] [--steps 10]

Times the gradient of one training rollout (the whole model: retina, glimpse, core, location and
action networks) for a batch of the colour MNIST demonstration's shape (128 images of 60x60x3, two
episodes each, 8 glimpses of 12x12 x 3 scales, `glimpse_hidden=256`, as `run_images.py` trains it)
with `glimpse_conv_filters` = each of `--filters` (0: the paper's dense layer on the raw pixels),
compiled with XLA and without. Prints the median of `--steps` steps after a first, compiling one,
one thread (as each of two runs side by side uses), and each time against the first row's (with
the default `--filters`, the dense layer's with XLA).
"""

import argparse
import statistics
import sys
import time

from ram import quiet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, nargs="+", default=[0, 8, 16],
                        help="glimpse_conv_filters values to time (default 0 8 16)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads (default 1)")
    args = parser.parse_args(argv)
    tf = quiet.import_tensorflow(args.threads)
    import numpy as np
    from ram import config as config_module
    from ram import model as model_module

    images = tf.constant(np.random.default_rng(0).integers(0, 256, (128, 60, 60, 3), np.uint8))
    reference = None
    print(f"{'filters':>7} {'XLA':>5} {'ms/step':>9} {'x row 1':>8}")
    for filters in args.filters:
        for jit in (True, False):
            config = config_module.ModelConfig(
                image_size=60, channels=3, patch_size=12, num_scales=3, unit_pixels=26.4,
                glimpse_normalization="patch_mean", glimpse_hidden=256, num_glimpses=8,
                glimpse_conv_filters=filters).validate()
            model = model_module.RecurrentAttentionModel(config, seed=0)

            @tf.function(jit_compile=jit)
            def step(images):
                with tf.GradientTape() as tape:
                    outputs = model.rollout(images, training=True, episodes=2)
                    loss = tf.reduce_sum(outputs["logits"]) + tf.reduce_sum(outputs["log_probs"])
                return tape.gradient(loss, model.trainable_variables)

            step(images)
            times = []
            for _ in range(args.steps):
                start = time.perf_counter()
                step(images)
                times.append(time.perf_counter() - start)
            median = statistics.median(times) * 1000
            reference = reference or median
            print(f"{filters:>7} {'yes' if jit else 'no':>5} {median:>9.1f} {median / reference:>8.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
