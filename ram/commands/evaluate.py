"""Evaluate trained weights and draw where the model looked.

    python evaluate.py run_mnist output/run_mnist/run_0/network.h5
    python evaluate.py run_mnist results/run_mnist/run_0/network.h5 --images 8 --samples 10 --output docs/mnist
    python evaluate.py run_cluttered_mnist results/run_cluttered_mnist/run_0/network.h5 --foveation
    python evaluate.py run_catch results/run_catch/run_0/network.h5 --images 4

Rebuilds the model from the config saved beside the weights (network.json), or loads a
model.keras, checks it against the named config module (with the --set values the weights were
trained with, if any), reports the test accuracy (deterministic locations; with --samples M, also the
mean of M sampled episodes' class probabilities; with --foveation, where the glimpses land against
where each test digit was pasted), and writes pictures of --images N test images into --output:

  symbol_<i>.png                   the image with the glimpse path (first step green, last red)
  symbol_<i>_glimpse_<t>_zoom_<k>.png   what the retina returned at step t, scale k
  symbol_<i>_glimpse_<t>.gif       the zoom levels of step t in turn (configs with several scales)
  symbol_<i>.gif                   the whole episode, glimpse by glimpse
  glimpses.png                     a row per image: the path, then every glimpse

Pictures under those names that this evaluation did not write (an earlier one's, of more images or
of a model with more glimpses) are removed, so the folder shows one model; other files are kept.
The figures also go to evaluation.json in --output.

A Catch agent (run_catch) plays the 10,000 fixed test games instead: its catch rate with the
greedy and the sampled policy, how often the ball lay inside the finest patch in the last five
frames (and in every frame: where in the game the agent keeps it, where it loses it), and the
same games played by a random policy, an agent that follows the ball and one that goes where it
will land. --images N games are drawn side by side into catch.gif: the screen, the glimpse's
patches (green the finest) and the action under each frame.
"""

import pathlib
import sys

from ram import cli
from ram import config as config_module
from ram import runs
from ram import storage


def parse_args(argv):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("config", help="run module name, e.g. run_mnist")
    parser.add_argument("weights", help="a network.h5 or model.keras written by training")
    parser.add_argument("--output", help="folder for the pictures (default: <weights folder>/glimpses)")
    parser.add_argument("--images", type=int, default=6, help="test images to draw (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="chooses the images and the sampling noise")
    parser.add_argument("--samples", type=int, default=0,
                        help="also report the accuracy of the mean of this many sampled episodes")
    parser.add_argument("--foveation", action="store_true",
                        help="also measure where the glimpses land against the digits "
                             "(translated and cluttered configs)")
    parser.add_argument("--data", help="the MNIST tasks: an .npz in Keras layout (default: "
                        "data/mnist.npz); run_images: the images it was trained on")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the test-set accuracy")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value the weights were trained with by --set (repeatable)")
    return parser.parse_args(argv)


def check_agreement(named, saved, name):
    """The weights' model and test set must be those of the named config."""
    fields = config_module.ModelConfig.field_names() + list(config_module.TEST_SET_FIELDS)
    # What the named config leaves to the data (0, or no class names) is whatever the data gave.
    fields = [field for field in fields
              if getattr(named, field) or field not in config_module.ModelConfig.FROM_DATA
              + ("class_names",)]
    differences = named.differences(saved, fields)
    if differences:
        listed = ", ".join(f"{field}: {name} has {a!r}, the weights {b!r}"
                           for field, a, b in differences)
        raise config_module.ConfigError(f"the weights do not match config {name} ({listed}); "
                                        "if they were trained with --set, give the same --set")


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.images < 0 or args.samples < 0:
            raise config_module.ConfigError("--images and --samples must be 0 or more")
        named = config_module.config_from_module_name(args.config).with_overrides(args.set)
        if not pathlib.Path(args.weights).is_file():
            raise storage.StorageError(f"weights file {args.weights} does not exist")
        config = runs.saved_config(args.weights, named)
        check_agreement(named, config, args.config)
        if args.foveation and config.dataset in ("mnist", "catch"):
            raise config_module.ConfigError(
                "--foveation needs a translated or cluttered model: MNIST digits fill the image "
                "and Catch has no digit, so there is no digit position to score")
        # TensorFlow loads only once the arguments are known to be good.
        from ram import evaluation
        from ram import rollout
        model = rollout.load_trained(args.weights, config)
        dataset = evaluation.test_data(config, args.data)
    except ValueError as error:
        cli.fail(error)
    output = pathlib.Path(args.output or pathlib.Path(args.weights).parent / "glimpses")
    report = {"weights": str(args.weights), "config": args.config}
    if config.task == "play":
        return _evaluate_games(model, config, dataset, args, output, report)
    report.update(evaluation.report_accuracy(model, config, dataset, args))
    if args.images:
        try:
            written, stale = evaluation.draw_episodes(model, config, dataset, args.images,
                                                      args.seed, output)
        except OSError as error:
            cli.fail(f"cannot write pictures to {output} ({error})")
        if stale:
            print(f"removed {len(stale)} pictures an earlier evaluation had left in {output}")
        report["images"] = written
        storage.write_json(output / "evaluation.json", report)
        print(f"wrote pictures of {len(written)} test images to {output}")
    return 0


def _evaluate_games(model, config, dataset, args, output, report):
    from ram import evaluation
    if not args.no_accuracy:
        report.update(evaluation.report_games(model, config, dataset, args))
    if args.images:
        try:
            report["games"] = evaluation.draw_games(model, config, dataset, args.images, args.seed,
                                                    output)
            storage.write_json(output / "evaluation.json", report)
        except OSError as error:
            cli.fail(f"cannot write pictures to {output} ({error})")
        print(f"wrote {output / 'catch.gif'} ({len(report['games'])} test games)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
