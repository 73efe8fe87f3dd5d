"""How fast a training step could be on this machine: its matrix products against the cores' peak.

    python benchmarks/roofline.py run_mnist

Reads the config's XLA-compiled train step (batch `batch_size`) as XLA's optimised HLO and counts
the floating-point operations of every matrix product (`dot`) in it, forward and backward: two per
multiply-add, `2 * prod(output shape) * contracted size`. It then times, on this machine:

- a large square matrix product (`--peak-size`, default 2048), the highest rate the cores reach on
  dense float32 arithmetic through the same library;
- the whole compiled step (forward, backward, Adam), as `benchmarks/step_time.py` does.

The first bounds training images/s from above: the step cannot be faster than its matrix products
alone at the peak rate, with no time at all for the retina, the other operations and the update.
The second says what share of that peak the step's products reach now. `--goal N` prints the step
time and product rate that N images/s needs.
"""

import collections
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ram  # noqa: E402,F401  (keeps TensorFlow quiet)
from ram import cli  # noqa: E402
from ram import config as config_module  # noqa: E402
from step_time import best_seconds, random_batch  # noqa: E402  (benchmarks/step_time.py)

_DEFINITION = re.compile(r"%([\w.\-]+) = \w+\[([\d,]*)\]")
_DOT = re.compile(r"%[\w.\-]+ = \w+\[([\d,]*)\]\S* dot\(%([\w.\-]+), %([\w.\-]+)\), "
                  r"lhs_contracting_dims=\{([\d,]*)\}, rhs_contracting_dims=\{([\d,]*)\}"
                  r"(?:, lhs_batch_dims=\{([\d,]*)\}, rhs_batch_dims=\{([\d,]*)\})?")

Dot = collections.namedtuple("Dot", "lhs rhs lhs_contracting rhs_contracting flops")


def _dims(text):
    return tuple(int(value) for value in text.split(",") if value)


def hlo_dots(hlo_text):
    """Every `dot` in an HLO module's text, with its operand shapes and float operations.

    Operand shapes are looked up from their definitions (optimised HLO names operands without
    shapes). Products with batch dimensions are not expected in this model and raise ValueError.
    """
    shapes = {match.group(1): _dims(match.group(2)) for match in _DEFINITION.finditer(hlo_text)}
    dots = []
    for match in _DOT.finditer(hlo_text):
        output, lhs_name, rhs_name, lhs_contracting, rhs_contracting, lhs_batch, _ = match.groups()
        if lhs_batch:
            raise ValueError("a batched matrix product: not supported by this count")
        lhs, rhs = shapes[lhs_name], shapes[rhs_name]
        lhs_contracting = _dims(lhs_contracting)
        contracted = 1
        for axis in lhs_contracting:
            contracted *= lhs[axis]
        flops = 2 * contracted
        for size in _dims(output):
            flops *= size
        dots.append(Dot(lhs, rhs, lhs_contracting, _dims(rhs_contracting), flops))
    return dots


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("config", nargs="?", default="run_mnist", help="run module (default run_mnist)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--peak-size", type=int, default=2048, metavar="N",
                        help="side of the square matrix product that measures the peak (default 2048)")
    parser.add_argument("--goal", type=float, default=20000, metavar="IMAGES_PER_SECOND",
                        help="training images/s to compare with (default 20000)")
    args = parser.parse_args(argv)
    if args.peak_size < 1:
        cli.fail(f"--peak-size must be at least 1, got {args.peak_size}")
    if not args.goal > 0:
        cli.fail(f"--goal must be positive, got {args.goal}")
    try:
        config = config_module.config_from_module_name(args.config).with_overrides(args.set)
    except ValueError as error:
        cli.fail(error)
    import numpy as np
    from ram import training
    tf = training.tf
    batch = config.batch_size
    print(f"config   {args.config}, batch {batch}, {config.num_glimpses} glimpses, "
          f"{config.episodes_per_image} episode(s) per image, float32")
    print(f"machine  {training.machine_line()}")
    rng = np.random.default_rng(0)
    trainer = training.Trainer(config, 0, 100)
    images, labels = random_batch(config, batch, rng)
    hlo = trainer.train_step.experimental_get_compiler_ir(images, labels)(stage="optimized_hlo")
    dots = hlo_dots(hlo)
    step_flops = sum(dot.flops for dot in dots)
    shapes = {(dot.lhs, dot.rhs, dot.lhs_contracting, dot.rhs_contracting) for dot in dots}
    print(f"matrix products in the compiled train step: {len(dots)} ({len(shapes)} shapes), "
          f"{step_flops / 1e6:,.1f} MFLOP per step, {step_flops / batch / 1e6:.2f} MFLOP per image")

    size = args.peak_size
    left = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
    right = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
    square = tf.function(lambda: tf.matmul(left, right), jit_compile=True)
    peak = 2 * size ** 3 / best_seconds(square, repeats=3)
    peak_images = peak / step_flops * batch
    print(f"peak     {size}x{size} matrix product: {peak / 1e9:,.1f} GFLOP/s; the step's products "
          f"at that rate take {1000 * step_flops / peak:.2f} ms: at most {peak_images:,.0f} images/s")

    step_seconds = best_seconds(lambda: trainer.train_step(images, labels))
    rate = step_flops / step_seconds
    print(f"step     the whole compiled train step: {1000 * step_seconds:.2f} ms, {batch / step_seconds:,.0f} "
          f"images/s; its products run at {rate / 1e9:,.1f} GFLOP/s, {100 * rate / peak:.0f}% of the peak")
    print(f"goal     {args.goal:,.0f} images/s needs the step in {1000 * batch / args.goal:.2f} ms, "
          f"{step_flops / batch * args.goal / 1e9:,.1f} GFLOP/s of products "
          f"({100 * step_flops / batch * args.goal / peak:.0f}% of the peak above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
