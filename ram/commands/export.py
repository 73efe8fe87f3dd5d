"""Export a trained model as a TensorFlow SavedModel that serves without this project.

    python export.py results/run_mnist/run_0/network.h5 exported/mnist
    python export.py output/run_mnist/run_0/model.keras exported/mnist/1     # TF Serving layout

WEIGHTS is a network.h5 (with network.json beside it, or its own saved config) or a model.keras.
The SavedModel's `serve` signature takes uint8 images [N, H, W, C] (the model's image size and
channels, pixel values 0-255) and returns `probabilities` [N, classes], `classes` [N] and
`locations` [N, T, 2] of one deterministic episode per image. In Python:

    import tensorflow as tf
    serve = tf.saved_model.load("exported/mnist").signatures["serve"]
    outputs = serve(images=tf.constant(batch_uint8))   # outputs["classes"], ...

OUT_DIR must not exist yet (or be empty); it is written whole or not at all.
"""

import os
import pathlib
import shutil
import sys
import tempfile

from ram import cli
from ram import config as config_module
from ram import runs
from ram import storage


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("weights", help="network.h5 or model.keras written by training")
    parser.add_argument("output", help="folder to write the SavedModel into (must not exist)")
    args = parser.parse_args(argv)
    output = pathlib.Path(args.output)
    try:
        if not pathlib.Path(args.weights).is_file():
            raise storage.StorageError(f"weights file {args.weights} does not exist")
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise storage.StorageError(f"{output} already exists; choose a new folder")
        config = runs.saved_config(args.weights)
        if config.task == "play":
            raise config_module.ConfigError(
                f"{args.weights} is a Catch agent: it plays games instead of classifying images "
                f"(see it play with: python evaluate.py run_catch {args.weights})")
        # TensorFlow loads only once the arguments are known to be good.
        from ram import export
        from ram import rollout
        model = rollout.load_trained(args.weights, config)
    except ValueError as error:
        cli.fail(error)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        export.export_saved_model(model, temporary)
        if output.exists():
            output.rmdir()  # Empty, checked above.
        os.replace(temporary, output)
    except OSError as error:
        cli.fail(f"cannot write {output} ({error})")
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    print(f"wrote a SavedModel to {output}: serve(images=uint8 [N, {model.config.image_size}, "
          f"{model.config.image_size}, {model.config.channels}]) -> probabilities, classes, "
          "locations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
