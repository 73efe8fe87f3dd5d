"""How fast does a run config train and infer on this machine (images/second)?

    python benchmarks/throughput.py                       # run_mnist
    python benchmarks/throughput.py run_translated_mnist --set jit_compile=true

Training: whole epochs of `Trainer.fit_batches` on batches of `--train-batch` (default 128), as
`run_*.py` trains them (data made in a prefetch thread, generated afresh for the translated and
cluttered tasks; the config's `steps_per_execution` steps per call); the first epoch, which
compiles and warms up, is not timed. Inference: `eval_step` on batches of `--eval-batch` (default
1000). Also prints the time to make one epoch's data alone, and
one whole epoch (training plus validation).
"""

import argparse
import os
import sys
import time

from ram import config as config_module
from ram import runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default="run_mnist", help="run module (default run_mnist)")
    parser.add_argument("--train-batch", type=int, default=128)
    parser.add_argument("--eval-batch", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="time inference this long")
    parser.add_argument("--warmup-epochs", type=int, default=1, help="untimed epochs first")
    parser.add_argument("--epochs", type=int, default=2,
                        help="timed training epochs; the fastest gives the rate (default 2)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        config = config_module.config_from_module_name(args.config).with_overrides(args.set)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")

    # TensorFlow loads only once the arguments are known to be good.
    from ram import data as data_module
    from ram import distribute
    from ram import step
    # `--set distribute=mirrored` times the tf.distribute step (one replica per GPU, or
    # cpu_replicas CPU devices; one CPU device by default): its overhead against `none`.
    strategy = distribute.make_strategy(config)
    dataset = data_module.Dataset(config)
    trainer = step.Trainer(config, seed=0, steps_per_epoch=dataset.steps_per_epoch(args.train_batch),
                           strategy=strategy)

    def train_epoch(epoch):
        start = time.perf_counter()
        for _ in trainer.fit_batches(dataset.train_batches(epoch, 0, args.train_batch)):
            pass
        return time.perf_counter() - start

    # The first epoch compiles the steps (stacked batches, one full batch and the smaller last one)
    # and runs slowly for a while after; every figure below is from later, steady-state epochs.
    for epoch in range(1, 1 + args.warmup_epochs):
        train_epoch(epoch)
    seconds = [train_epoch(epoch) for epoch in range(10, 10 + args.epochs)]
    train_rate = dataset.num_train / min(seconds)

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
          f"{config.num_scales} scales, {config.core_type} core, jit_compile={config.jit_compile}, "
          f"{config.steps_per_execution} steps per call"
          + (f", distribute={config.distribute} over {strategy.num_replicas_in_sync} replica(s)"
             if strategy else "") + ")")
    print(f"machine           {runs.machine_line()}, "
          f"XLA_FLAGS {os.environ.get('XLA_FLAGS') or '(none)'}")
    print(f"training          {train_rate:,.0f} images/s (batch {args.train_batch}; fastest of "
          f"{args.epochs} whole epochs after {args.warmup_epochs} untimed)")
    print(f"inference         {eval_rate:,.0f} images/s (batch {args.eval_batch})")
    start = time.perf_counter()
    for images, labels in dataset.train_batches(2, 0, config.batch_size):
        pass
    generation = time.perf_counter() - start
    print(f"data              {generation:.2f} s to make one epoch's {dataset.num_train} training "
          f"images ({'generated' if dataset.generated else 'shuffled'}, in a prefetch thread "
          "during training)")
    start = time.perf_counter()
    trainer.accuracy(dataset.validation_images, dataset.validation_labels)
    validation = time.perf_counter() - start
    print(f"one epoch         {min(seconds) + validation:.2f} s ({dataset.num_train} training "
          f"images in {min(seconds):.2f} s, batch {args.train_batch}; "
          f"{len(dataset.validation_labels)} validation images in {validation:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
