"""Time of one compiled training step at several batch sizes: how much of a step is fixed cost.

    python benchmarks/step_time.py run_mnist --batches 8,32,128,512

Times the config's XLA-compiled train step (forward, backward and Adam update; no data loading, no
Python loop around it) on one fixed batch of random pixels, the fastest of five rounds of 30 steps
after one untimed step. A step that took time in proportion to its batch would give the same
images/s at every size; the time at small batches is the fixed cost of launching many small
operations, which the per-image arithmetic at the largest batch puts in perspective.
"""

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ram  # noqa: E402,F401  (keeps TensorFlow quiet)
from ram import cli  # noqa: E402
from ram import config as config_module  # noqa: E402


def random_batch(config, batch, rng):
    """`batch` images of random uint8 pixels and random labels for `config`, as tensors."""
    import numpy as np
    from ram import training
    tf = training.tf
    images = rng.integers(0, 256, (batch, config.image_size, config.image_size, 1), dtype=np.uint8)
    labels = rng.integers(0, config.num_classes, batch, dtype=np.int32)
    return tf.constant(images), tf.constant(labels)


def best_seconds(call, rounds=5, repeats=30):
    """Fastest mean time of `call` (which returns a tensor) over `rounds` rounds of `repeats`
    calls, after one untimed call."""
    call().numpy()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            result = call()
        result.numpy()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("config", nargs="?", default="run_mnist", help="run module (default run_mnist)")
    parser.add_argument("--batches", default="8,32,128,512",
                        help="comma-separated batch sizes (default 8,32,128,512)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        batches = [int(text) for text in args.batches.split(",")]
        if not batches or min(batches) < 1:
            raise ValueError
    except ValueError:
        cli.fail(f"--batches must be positive whole numbers separated by commas, got {args.batches!r}")
    try:
        config = config_module.config_from_module_name(args.config).with_overrides(args.set)
    except ValueError as error:
        cli.fail(error)
    import numpy as np
    from ram import training
    print(f"config   {args.config}, jit_compile={config.jit_compile}, "
          f"{config.episodes_per_image} episode(s) per image")
    print(f"machine  {training.machine_line()}")
    rng = np.random.default_rng(0)
    for batch in batches:
        trainer = training.Trainer(config.with_overrides([f"batch_size={batch}"]), 0, 100)
        images, labels = random_batch(config, batch, rng)
        best = best_seconds(lambda: trainer.train_step(images, labels))
        print(f"batch {batch:5d}  {1000 * best:7.2f} ms/step  {batch / best:9,.0f} images/s  "
              f"{1e6 * best / batch:8.1f} us/image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
