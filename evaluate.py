"""Evaluate trained weights and draw where the model looked.

    python evaluate.py run_mnist output/run_mnist/run_0/network.h5
    python evaluate.py run_mnist results/run_mnist/run_0/network.h5 --images 8 --samples 10 --output docs/mnist

Rebuilds the model from the config saved beside the weights (network.json), checks it against the
named config module, reports the test accuracy (deterministic locations; with --samples M, the mean
of M stochastic rollouts' class probabilities), and writes for --images N test images, into --output:

  symbol_<i>.png                   the image with the glimpse path (first step green, last red)
  symbol_<i>_glimpse_<t>_zoom_<k>.png   what the retina returned at step t, scale k
  symbol_<i>_glimpse_<t>.gif       the zoom levels of step t in turn (configs with several scales)
  symbol_<i>.gif                   the whole episode, glimpse by glimpse
  glimpses.png                     a row per image: the path, then every glimpse

Pictures under those names that this evaluation did not write (an earlier one's, of more images or
of a model with more glimpses) are removed, so the folder shows one model; other files are kept.
"""

import pathlib
import sys

import ram  # noqa: F401  (keeps TensorFlow quiet: sets its log level before it loads)
from ram import cli
from ram import config as config_module
from ram import storage

# Fields that define the model and its data; a weights file must agree with its config on these.
MODEL_FIELDS = ("dataset", "image_size", "num_clutter", "clutter_size", "patch_size", "num_scales",
                "scale_factor", "unit_pixels", "glimpse_hidden", "location_hidden", "glimpse_size",
                "core_size", "core_type", "location_network_hidden", "num_glimpses", "num_classes")


def parse_args(argv):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("config", help="run module name, e.g. run_mnist")
    parser.add_argument("weights", help="a network.h5 written by training")
    parser.add_argument("--output", help="folder for the pictures (default: <weights folder>/glimpses)")
    parser.add_argument("--images", type=int, default=6, help="test images to draw (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="chooses the images and the sampling noise")
    parser.add_argument("--samples", type=int, default=0,
                        help="also report Monte Carlo accuracy over this many stochastic rollouts")
    parser.add_argument("--data", help="MNIST .npz in Keras layout (default: data/mnist.npz)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the test-set accuracy")
    return parser.parse_args(argv)


def saved_config(weights):
    """The config saved beside `weights` (network.json), else the copy inside the weights file."""
    beside = pathlib.Path(weights).with_name("network.json")
    if beside.is_file():
        values = storage.read_json(beside, "config file")
        source = beside
    else:
        values = storage.read_weights_config(weights)
        source = weights
        if values is None:
            raise storage.StorageError(f"{weights} has no network.json beside it and no saved config")
    if not isinstance(values, dict):
        raise storage.StorageError(f"{source} is not a config (expected a JSON object)")
    try:
        return config_module.Config.from_dict(values)
    except (TypeError, ValueError) as error:
        raise storage.StorageError(f"{source} is not a valid config ({error})") from None


def check_agreement(named, saved, name):
    differences = [(field, a, b) for field, a, b in named.differences(saved) if field in MODEL_FIELDS]
    if differences:
        listed = ", ".join(f"{field}: {name} has {a!r}, the weights {b!r}"
                           for field, a, b in differences)
        raise config_module.ConfigError(f"the weights do not match config {name} ({listed})")


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.images < 0 or args.samples < 0:
            raise config_module.ConfigError("--images and --samples must be 0 or more")
        named = config_module.config_from_module_name(args.config)
        if not pathlib.Path(args.weights).is_file():
            raise storage.StorageError(f"weights file {args.weights} does not exist")
        config = saved_config(args.weights)
        check_agreement(named, config, args.config)
        from ram import data as data_module
        from ram import training
        model = training.load_model(config, args.weights)
        dataset = data_module.Dataset(config, args.data)
    except ValueError as error:
        cli.fail(error)
    import numpy as np
    tf = training.tf
    import keras
    model.seed_generator = keras.random.SeedGenerator(args.seed)
    output = pathlib.Path(args.output or pathlib.Path(args.weights).parent / "glimpses")
    report = {"weights": str(args.weights), "config": args.config}

    @tf.function
    def rollout(images, sample):
        return model(tf.cast(images, tf.float32) / 255.0, sample=sample)

    if not args.no_accuracy:
        images, labels = dataset.test_images, dataset.test_labels
        bar = keras.utils.Progbar(len(images), verbose=1 if sys.stdout.isatty() else 0)
        accuracy, sampled = training.test_accuracies(model, images, labels, config.eval_batch_size,
                                                     args.samples, bar.update)
        report["test_accuracy"] = accuracy
        print(f"test accuracy {100 * accuracy:.2f}% "
              f"({round(accuracy * len(images))}/{len(images)}, deterministic locations)")
        if args.samples:
            report[f"test_accuracy_mc{args.samples}"] = sampled
            print(f"test accuracy {100 * sampled:.2f}% "
                  f"(mean of {args.samples} stochastic rollouts)")

    if args.images:
        chosen = np.random.default_rng(args.seed).choice(len(dataset.test_labels),
                                                         min(args.images, len(dataset.test_labels)),
                                                         replace=False)
        images = dataset.test_images[chosen]
        outputs = rollout(images, False)
        locations = outputs["locations"].numpy()
        predictions = outputs["logits"].numpy().argmax(-1)
        floats = images.astype(np.float32) / 255.0
        glimpses = np.stack([model.glimpse(floats, locations[:, step]).numpy()
                             for step in range(config.num_glimpses)], axis=1)
        from ram import visualize
        try:
            written = []
            for row, index in enumerate(chosen):
                written += visualize.write_episode(output, row, floats[row, :, :, 0], locations[row],
                                                   glimpses[row], config,
                                                   int(dataset.test_labels[index]),
                                                   int(predictions[row]))
            visualize.write_overview(output / "glimpses.png", floats[..., 0], locations, glimpses,
                                     config, dataset.test_labels[chosen], predictions)
            stale = visualize.remove_stale_pictures(output, written)
        except OSError as error:
            cli.fail(f"cannot write pictures to {output} ({error})")
        if stale:
            print(f"removed {len(stale)} pictures an earlier evaluation had left in {output}")
        report["images"] = [int(index) for index in chosen]
        storage.write_json(output / "evaluation.json", report)
        print(f"wrote pictures of {len(chosen)} test images to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
