"""Measures training and inference throughput (images/second) of a run config on this machine.

    python benchmarks/throughput.py                       # run_mnist
    python benchmarks/throughput.py run_translated_mnist --set jit_compile=true

Training: `train_step` on batches of `--train-batch` (default 128), data generation included for the
generated datasets. Inference: `eval_step` on batches of `--eval-batch` (default 1000). Also times
one full epoch (all training images plus validation), as `run_*.py` runs it. The first steps, which
trace and compile, are not timed.
"""

import argparse
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import ram  # noqa: E402,F401  (sets the TensorFlow log level before TensorFlow loads)
from ram import config as config_module  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default="run_mnist", help="run module (default run_mnist)")
    parser.add_argument("--train-batch", type=int, default=128)
    parser.add_argument("--eval-batch", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="time each measurement this long")
    parser.add_argument("--no-epoch", action="store_true", help="skip the full-epoch timing")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        config = config_module.config_from_module_name(args.config).with_overrides(args.set)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")

    from ram import data
    from ram import training
    tf = training.tf
    dataset = training.data_module.Dataset(config)
    trainer = training.Trainer(config, seed=0, steps_per_epoch=dataset.steps_per_epoch(args.train_batch))

    def train_batches():
        epoch = 0
        while True:
            epoch += 1
            yield from dataset.train_batches(epoch, 0, args.train_batch)

    batches = train_batches()
    for _ in range(5):
        images, labels = next(batches)
        trainer.train_step(images, labels).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        images, labels = next(batches)
        trainer.train_step(images, labels).numpy()
        count += len(labels)
    train_rate = count / (time.perf_counter() - start)

    images = dataset.validation_images[:args.eval_batch]
    labels = dataset.validation_labels[:args.eval_batch]
    for _ in range(3):
        int(trainer.eval_step(images, labels))
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        int(trainer.eval_step(images, labels))
        count += len(labels)
    eval_rate = count / (time.perf_counter() - start)

    print(f"config            {args.config} ({config.dataset} {config.image_size}x{config.image_size}, "
          f"{config.num_glimpses} glimpses of {config.patch_size}x{config.patch_size} x "
          f"{config.num_scales} scales, {config.core_type} core, jit_compile={config.jit_compile})")
    print(f"machine           {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, "
          f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")
    print(f"training          {train_rate:,.0f} images/s (batch {args.train_batch})")
    print(f"inference         {eval_rate:,.0f} images/s (batch {args.eval_batch})")
    start = time.perf_counter()
    for images, labels in dataset.train_batches(2, 0, config.batch_size):
        pass
    generation = time.perf_counter() - start
    print(f"data              {generation:.2f} s to make one epoch's {dataset.num_train} training "
          f"images ({'generated' if dataset.generated else 'shuffled'}, in a prefetch thread "
          "during training)")
    if not args.no_epoch:
        # The first epoch compiles the step for the last, smaller batch; time the second.
        for epoch in (1, 2):
            start = time.perf_counter()
            for images, labels in data.prefetch(dataset.train_batches(epoch, 0, config.batch_size)):
                trainer.train_step(images, labels).numpy()
            middle = time.perf_counter()
            trainer.accuracy(dataset.validation_images, dataset.validation_labels)
            end = time.perf_counter()
        print(f"one epoch         {end - start:.2f} s ({dataset.num_train} training images in "
              f"{middle - start:.2f} s, batch {config.batch_size}; "
              f"{len(dataset.validation_labels)} validation images in {end - middle:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
