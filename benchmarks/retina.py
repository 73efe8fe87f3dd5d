"""Which way of computing the retina's patches is fastest? Where the retina's time goes: ram.glimpse.retina against two other ways to compute the same patches.

    python benchmarks/retina.py

For each task's sensor (batch 128), milliseconds per call of 8 retina calls in one compiled
function (one episode's worth of glimpses), without and with XLA:
  table        ram.glimpse.retina: scale 0 gathered pixel by pixel, every coarser block summed from
               four entries of a summed-area table computed once per batch (outside the timing,
               as the model does);
  square       a per-pixel gather of the largest square, a mask, and block means per scale;
  rows         a gather of whole image rows, then per-image matrix products that cut, zero-pad and
               average the columns;
  selection    rows @ image @ columns^T with per-image 0/1 selection matrices over the whole image.
All three return the same values (checked here); only their speed differs.

    python benchmarks/retina.py --table

The cost of the summed-area table itself, once per training batch (of `--batch` images, and twice
that, the episodes of a batch with two episodes per image), for uint8 images: `tf.cumsum` along
rows and columns in int32 (`ram.glimpse.cumsum_table`) against `ram.glimpse.summed_area_table`
(two float32 matrix products with triangular 0/1 matrices), without and with XLA. Both give the
same, exact integers (checked here).
"""

import argparse
import os
import sys
import time

from ram import quiet

TASKS = [("run_mnist", 28, 8, 1, 13.0), ("run_translated_mnist", 60, 12, 3, 26.0),
         ("run_cluttered_mnist", 60, 12, 4, 26.0), ("run_cluttered_mnist_100", 100, 12, 4, 44.0)]


def _averaging_matrices(tf, starts, size, patch_size, factor):
    """`[batch, size, patch_size]`: column p averages pixels starts + p*factor ... + factor - 1."""
    pixels = tf.range(size, dtype=tf.int32)[None, :, None]
    first = starts[:, None, None] + factor * tf.range(patch_size, dtype=tf.int32)[None, None, :]
    return tf.cast((pixels >= first) & (pixels < first + factor), tf.float32) / float(factor)


def square_retina(tf, glimpse, images, locations, patch_size, num_scales, scale_factor,
                  unit_pixels):
    height, width = images.shape[1], images.shape[2]
    corners = glimpse.patch_corners(locations, float(height), float(width), patch_size, unit_pixels)
    largest = patch_size * scale_factor ** (num_scales - 1)
    margin = (largest - patch_size) // 2
    offsets = tf.range(largest, dtype=tf.int32)
    rows = corners[:, 0, None] - margin + offsets[None]
    cols = corners[:, 1, None] - margin + offsets[None]
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :])
    index = (tf.clip_by_value(rows, 0, height - 1)[:, :, None] * width
             + tf.clip_by_value(cols, 0, width - 1)[:, None, :])
    flat = tf.reshape(images, [-1, height * width, 1])
    square = tf.gather(flat, tf.reshape(index, [-1, largest * largest]), batch_dims=1)
    square = tf.reshape(square, [-1, largest, largest, 1]) * tf.cast(inside, tf.float32)[..., None]
    patches = []
    for scale in range(num_scales):
        factor = scale_factor ** scale
        side = patch_size * factor
        start = margin - (side - patch_size) // 2
        crop = square[:, start:start + side, start:start + side, :]
        if factor > 1:
            crop = tf.reduce_mean(
                tf.reshape(crop, [-1, patch_size, factor, patch_size, factor, 1]), axis=[2, 4])
        patches.append(crop)
    return tf.stack(patches, axis=1)


def row_gather_retina(tf, glimpse, images, locations, patch_size, num_scales, scale_factor,
                      unit_pixels):
    height, width = images.shape[1], images.shape[2]
    corners = glimpse.patch_corners(locations, float(height), float(width), patch_size, unit_pixels)
    largest = patch_size * scale_factor ** (num_scales - 1)
    margin = (largest - patch_size) // 2
    rows = corners[:, 0, None] - margin + tf.range(largest, dtype=tf.int32)[None, :]
    inside = tf.cast((rows >= 0) & (rows < height), tf.float32)
    band = tf.gather(images[..., 0], tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
    band = band * inside[:, :, None]
    patches = []
    for scale in range(num_scales):
        factor = scale_factor ** scale
        side = patch_size * factor
        start = margin - (side - patch_size) // 2
        part = band[:, start:start + side, :]
        if factor > 1:
            part = tf.reduce_mean(tf.reshape(part, [-1, patch_size, factor, width]), axis=2)
        columns = _averaging_matrices(tf, corners[:, 1] - (side - patch_size) // 2, width,
                                      patch_size, factor)
        patches.append(tf.matmul(part, columns))
    return tf.stack(patches, axis=1)[..., None]


def selection_retina(tf, glimpse, images, locations, patch_size, num_scales, scale_factor,
                     unit_pixels):
    height, width = images.shape[1], images.shape[2]
    corners = glimpse.patch_corners(locations, float(height), float(width), patch_size, unit_pixels)
    image = images[..., 0]
    patches = []
    for scale in range(num_scales):
        factor = scale_factor ** scale
        margin = (patch_size * factor - patch_size) // 2
        rows = _averaging_matrices(tf, corners[:, 0] - margin, height, patch_size, factor)
        cols = _averaging_matrices(tf, corners[:, 1] - margin, width, patch_size, factor)
        patches.append(tf.matmul(tf.matmul(rows, image, transpose_a=True), cols))
    return tf.stack(patches, axis=1)[..., None]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--table", action="store_true",
                        help="time the summed-area table (cumsum against matrix products) instead")
    args = parser.parse_args(argv)
    tf = quiet.import_tensorflow()
    import numpy as np
    from ram import glimpse
    if args.table:
        return table_main(args, tf, np, glimpse)
    print(f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, batch {args.batch}: "
          f"milliseconds per retina call (8 calls per compiled function, {args.calls} repeats)")
    names = ("table", "square", "rows", "selection")
    print(f"{'task':26s} {'sensor':17s} " + " ".join(f"{name:>9s} {name + '+XLA':>13s}"
                                                   for name in names))
    for name, size, patch, scales, unit in TASKS:
        images = tf.random.uniform((args.batch, size, size, 1))
        locations = tf.random.uniform((args.batch, 2), -1.2, 1.2)
        times = []
        reference = glimpse.retina(images, locations, patch, scales, 2, unit).numpy()
        table = glimpse.summed_area_table(images) if scales > 1 else None
        for implementation in (lambda x, *a: glimpse.retina_from_table(x, table, *a),
                               lambda *a: square_retina(tf, glimpse, *a),
                               lambda *a: row_gather_retina(tf, glimpse, *a),
                               lambda *a: selection_retina(tf, glimpse, *a)):
            np.testing.assert_allclose(
                implementation(images, locations, patch, scales, 2, unit).numpy(), reference,
                atol=1e-5)

            def episode(x, l, f=implementation):
                return tf.add_n([tf.reduce_sum(f(x, l * (1 - 0.1 * step), patch, scales, 2, unit))
                                 for step in range(8)])
            for jit in (False, True):
                function = tf.function(episode, jit_compile=jit)
                function(images, locations).numpy()
                start = time.perf_counter()
                for _ in range(args.calls):
                    function(images, locations).numpy()
                times.append(1000 * (time.perf_counter() - start) / args.calls / 8)
        sensor = f"{size}x{size}, {scales}x{patch}x{patch}"
        print(f"{name:26s} {sensor:17s} " + " ".join(
            f"{times[2 * i]:9.2f} {times[2 * i + 1]:13.2f}" for i in range(len(names))))
    return 0


def table_main(args, tf, np, glimpse):
    calls = max(1, args.calls // 5)
    print(f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}: milliseconds per "
          f"summed-area table of a batch of uint8 images (best of 5 x {calls} calls)")
    columns = ("cumsum", "cumsum+XLA", "products", "products+XLA")
    print(f"{'task':26s} {'batch':>5s} " + " ".join(f"{name:>12s}" for name in columns))
    for name, size, _, scales, _ in TASKS:
        if scales == 1:
            continue
        for batch in (args.batch, 2 * args.batch):
            images = tf.constant(np.random.default_rng(0).integers(0, 256, (batch, size, size, 1),
                                                                   dtype=np.uint8))
            reference = glimpse.cumsum_table(images).numpy()
            times = []
            for method in (glimpse.cumsum_table, glimpse.summed_area_table):
                for jit in (False, True):
                    function = tf.function(method, jit_compile=jit)
                    assert np.array_equal(function(images).numpy(), reference)
                    best = float("inf")
                    for _ in range(5):
                        start = time.perf_counter()
                        for _ in range(calls):
                            result = function(images)
                        result.numpy()
                        best = min(best, (time.perf_counter() - start) / calls)
                    times.append(1000 * best)
            print(f"{name:26s} {batch:5d} " + " ".join(f"{t:12.2f}" for t in times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
