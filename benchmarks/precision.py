"""Would bfloat16 make training faster? float32 with XLA (the default) against bfloat16 on AMX.

    python benchmarks/precision.py                        # run_mnist
    python benchmarks/precision.py run_translated_mnist

This CPU (Sapphire Rapids) has AMX tiles for bfloat16 matrix products. TensorFlow reaches them
through oneDNN only in graph mode; XLA's CPU backend compiles its own dot kernels and does not.
The benchmark prints, in this order:
  1. one matrix product the size of the core network's (128x512 by 512x256), per mode: the ceiling
     bfloat16 could give;
  2. the whole training step (batch 128, real training images, steps only, no data loading) for
     float32 and Keras' "mixed_bfloat16" policy, each with and without XLA (jit_compile).
The training step is what matters; `benchmarks/throughput.py` times whole epochs of the default.
"""

import argparse
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import ram  # noqa: E402,F401  (sets the TensorFlow log level before TensorFlow loads)
from ram import config as config_module  # noqa: E402
from ram import experiment  # noqa: E402


def time_calls(function, seconds):
    """Seconds per call of `function`: the best of 3 rounds of `seconds / 3` each."""
    function()
    best = float("inf")
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            result = function()
            count += 1
        if hasattr(result, "numpy"):
            result.numpy()
        best = min(best, (time.perf_counter() - start) / count)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default="run_mnist", help="run module (default run_mnist)")
    parser.add_argument("--batch", type=int, default=128, help="training batch (default 128)")
    parser.add_argument("--seconds", type=float, default=6.0, help="time each case this long")
    args = parser.parse_args(argv)
    try:
        base = config_module.config_from_module_name(args.config)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")

    from ram import training  # imports TensorFlow and Keras quietly first
    import keras
    tf = training.tf

    print(f"machine      {os.cpu_count()} CPU cores ({experiment.cpu_model()}, {experiment.cpu_id()}), TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}")
    print("matmul       128x512 @ 512x256, 16 products per call")
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.cast(tf.random.normal((128, 512)), dtype)
        b = tf.cast(tf.random.normal((512, 256)), dtype)
        for jit in (True, False):
            @tf.function(jit_compile=jit)
            def products(a=a, b=b):
                return tf.add_n([tf.matmul(a + float(i), b) for i in range(16)])
            seconds = time_calls(products, args.seconds) / 16
            print(f"  {dtype.name:9s} {'XLA  ' if jit else 'graph'}  {seconds * 1e6:7.1f} us  "
                  f"{2 * 128 * 512 * 256 / seconds / 1e9:6.1f} GFLOP/s")

    dataset = training.data_module.Dataset(base)
    images, labels = next(iter(dataset.train_batches(1, 0, args.batch)))
    print(f"train step   {args.config}, batch {args.batch}")
    for policy in ("float32", "mixed_bfloat16"):
        for jit in (True, False):
            keras.config.set_dtype_policy(policy)
            config = base.with_overrides([f"jit_compile={jit}"])
            trainer = training.Trainer(config, seed=0, steps_per_epoch=dataset.steps_per_epoch(args.batch))
            for _ in range(5):
                trainer.train_step(images, labels).numpy()
            seconds = time_calls(lambda: trainer.train_step(images, labels), args.seconds)
            print(f"  {policy:15s} {'XLA  ' if jit else 'graph'}  {seconds * 1e3:6.2f} ms/step  "
                  f"{args.batch / seconds:8,.0f} images/s")
    keras.config.set_dtype_policy("float32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
