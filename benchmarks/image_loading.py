"""How long does one epoch of your own images take held in memory, and streamed from disk?

    python benchmarks/image_loading.py                  # 50,000 PNGs of 32x32 colour, generated
    python benchmarks/image_loading.py --images 5000    # a quicker look

Writes a folder of small PNG files (ten classes of coloured squares on black) into a temporary
folder, then for each way of reading it (`memory_limit_mb` large: decoded once into memory with
Pillow; `memory_limit_mb=0`: each epoch read from disk through tf.data, decoded in parallel) times
the load (splits, and the decoding of what is held in memory), one epoch of batches alone, and one
training epoch of run_images.py's model on them (after one untimed epoch that compiles the step).
"""

import argparse
import dataclasses
import pathlib
import sys
import tempfile
import time

import numpy as np
from PIL import Image

from ram import config as config_module
from ram import images
from ram import runs


def write_folder(root, count, size, rng):
    colours = rng.integers(40, 256, (10, 3))
    for label in range(10):
        (root / str(label)).mkdir(parents=True)
    for index in range(count):
        label = index % 10
        pixels = np.zeros((size, size, 3), np.uint8)
        row, col = rng.integers(0, size - 8, 2)
        pixels[row:row + 8, col:col + 8] = colours[label]
        Image.fromarray(pixels).save(root / str(label) / f"{index:06d}.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=50000, help="PNG files to write (50,000)")
    parser.add_argument("--size", type=int, default=32, help="their side in pixels (32)")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)
    if args.images < 100 or args.size < 16:
        parser.exit(2, "error: --images must be at least 100 and --size at least 16\n")
    from ram import step  # TensorFlow loads only once the arguments are known to be good.
    with tempfile.TemporaryDirectory() as temporary:
        folder = pathlib.Path(temporary) / "images"
        start = time.perf_counter()
        write_folder(folder, args.images, args.size, np.random.default_rng(0))
        print(f"wrote {args.images} PNG files of {args.size}x{args.size} in "
              f"{time.perf_counter() - start:.1f} s")
        print(f"machine           {runs.machine_line()}")
        base = config_module.config_from_module_name("run_images").with_overrides(
            ["test_samples=0", f"batch_size={args.batch}"])
        for name, limit in (("in memory", 1 << 20), ("streamed", 0)):
            start = time.perf_counter()
            config = dataclasses.replace(base, memory_limit_mb=limit)
            data, facts = images.load(folder, config)
            config = images.resolve(config, facts)
            loaded = time.perf_counter() - start
            start = time.perf_counter()
            for _ in data.train_batches(1, 0, args.batch):
                pass
            batches = time.perf_counter() - start
            trainer = step.Trainer(config, seed=0, steps_per_epoch=data.steps_per_epoch(args.batch))
            for _ in trainer.fit_batches(data.train_batches(1, 0, args.batch)):
                pass
            start = time.perf_counter()
            for _ in trainer.fit_batches(data.train_batches(2, 0, args.batch)):
                pass
            epoch = time.perf_counter() - start
            print(f"{name:17s} load {loaded:6.1f} s, one epoch of batches {batches:6.2f} s, one "
                  f"training epoch {epoch:6.1f} s ({data.num_train} images, "
                  f"{data.num_train / epoch:,.0f} images/s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
