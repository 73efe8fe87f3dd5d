"""Print the README's results table from the committed experiment summaries, never typed by hand.

    python tools/results_table.py                                  # the README's rows
    python tools/results_table.py results/ablations/*/summary.json # any experiments

One row per experiment: the task, the paper's and the best public re-implementation's test error,
this project's test error (mean +/- std over its runs; one deterministic episode per image, the
policy's mean locations), the error of the mean class probabilities of M sampled episodes, the
minutes each run took, and the command that trains that config today (the run script with a
`--set` for every training value where the experiment differs from the script's config). Sampled
figures come from sampled_accuracy.json beside the summary where one was measured after training,
else from the runs themselves.
"""

import argparse
import json
import pathlib
import statistics
import sys

from ram import config as config_module
from ram import runs as runs_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The README's rows: each task's experiment, and MNIST's faster four-glimpse variant.
DEFAULT_SUMMARIES = ("results/run_mnist", "results/ablations/mnist_4_glimpses_200_epochs",
                     "results/run_translated_mnist", "results/run_cluttered_mnist",
                     "results/run_cluttered_mnist_100")
# Published test errors (%): the paper (Mnih et al. 2014, RAM with the same glimpse counts and
# sensors) and the best public re-implementations (tfRAM, slundqui/tfRAM on GitHub, reports the
# mean of 10 sampled episodes; dHonerkamp/Recurrent-Attention-Model 0.67% on MNIST).
PUBLISHED = {
    ("mnist", 28, 0): ("1.07%", "0.67%"),
    ("translated", 60, 0): ("1.2%", "0.94% (tfRAM)"),
    ("cluttered", 60, 4): ("4.04%", "2.13-2.63% (tfRAM 2.63%)"),
    ("cluttered", 100, 8): ("about 8.1%", "5.9% (tfRAM)"),
}
SCRIPTS = {("mnist", 28): "run_mnist", ("translated", 60): "run_translated_mnist",
           ("cluttered", 60): "run_cluttered_mnist", ("cluttered", 100): "run_cluttered_mnist_100"}


def describe(config):
    size = config["image_size"]
    task = {"mnist": "MNIST 28x28", "translated": f"translated {size}x{size}",
            "cluttered": f"cluttered {size}x{size}, {config['num_clutter']} pieces"}[config["dataset"]]
    return f"{task}, {config['num_glimpses']} glimpses"


def command(config):
    """The command that trains `config` today: its task's run script, plus `--set` for every
    training value that differs from the script's."""
    script = SCRIPTS[(config["dataset"], config["image_size"])]
    saved = config_module.Config.from_dict(config)
    current = config_module.config_from_module_name(script)
    sets = [f"--set {name}={value}" for name, _, value in current.differences(saved)
            if name not in config_module.NON_TRAINING_FIELDS + ("jit_compile",)]
    return " ".join([f"python {script}.py"] + sets)


def experiment_figures(path):
    """(runs' results, sampled figures or None) of one summary.json."""
    summary = json.loads(path.read_text())
    results = [json.loads(results.read_text())
               for results in runs_module.run_results_paths(path, summary)]
    sampled_path = path.with_name("sampled_accuracy.json")
    sampled = None
    if sampled_path.is_file():
        sampled = json.loads(sampled_path.read_text())
    elif summary.get("test_accuracy_sampled_mean") is not None:
        sampled = {key: summary[key] for key in ("test_accuracy_sampled_mean",
                                                 "test_accuracy_sampled_std")}
        sampled["samples"] = summary["test_samples"]
    return results, sampled


def row(path):
    results, sampled = experiment_figures(path)
    config = results[0]["config"]
    paper, public = PUBLISHED.get(
        (config["dataset"], config["image_size"], config["num_clutter"]), ("-", "-"))
    errors = [100 * (1 - run["test_accuracy"]) for run in results]
    spread = statistics.stdev(errors) if len(errors) > 1 else 0.0
    ours = f"**{statistics.fmean(errors):.2f}%** +/- {spread:.2f} ({len(errors)} runs)"
    ours_sampled = "-"
    if sampled:
        ours_sampled = (f"**{100 * (1 - sampled['test_accuracy_sampled_mean']):.2f}%** +/- "
                        f"{100 * sampled['test_accuracy_sampled_std']:.2f} (M = {sampled['samples']})")
    minutes = sorted(run["train_seconds"] / 60 for run in results)
    return (f"| {describe(config)} | {paper} | {public} | {ours} | {ours_sampled} | "
            f"{minutes[0]:.0f}-{minutes[-1]:.0f} | `{command(config)}` |")


# The own-images demonstration (python tools/make_colour_mnist.py output/colour_mnist; the first
# row's set adds --train-copies 5, the second's --train-copies 3).
IMAGE_SUMMARIES = ("results/run_images_colour_mnist_x5_30",
                   "results/run_images_colour_mnist_x3_50",
                   "results/run_images_colour_mnist_conv16_150",
                   "results/run_images_colour_mnist_conv16_90",
                   "results/run_images_colour_mnist_conv16", "results/run_images_colour_mnist")


def image_table(paths):
    """Own-image experiments: test accuracy over the runs, one episode and sampled, minutes, and
    the command each was trained with (as its summary recorded it)."""
    lines = ["| data | runs | test accuracy, one episode | mean of M sampled episodes | "
             "minutes per run | command |", "| --- | --- | --- | --- | --- | --- |"]
    for path in paths:
        results, sampled = experiment_figures(path)
        summary = json.loads(path.read_text())
        config = results[0]["config"]
        accuracies = [100 * run["test_accuracy"] for run in results]
        spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        ours_sampled = "-"
        if sampled:
            ours_sampled = (f"{100 * sampled['test_accuracy_sampled_mean']:.2f}% +/- "
                            f"{100 * sampled['test_accuracy_sampled_std']:.2f} "
                            f"(M = {sampled['samples']})")
        minutes = sorted(run["train_seconds"] / 60 for run in results)
        size = config["image_size"]
        lines.append(f"| {path.parent.name}: {size}x{size}x{config['channels']}, "
                     f"{config['num_classes']} classes | {len(results)} | "
                     f"**{statistics.fmean(accuracies):.2f}%** +/- {spread:.2f} | {ours_sampled} | "
                     f"{minutes[0]:.0f}-{minutes[-1]:.0f} | `python {summary['command']}` |")
    return "\n".join(lines)


# The Catch experiment (python run_catch.py).
CATCH_SUMMARIES = ("results/run_catch",)


def catch_table(paths):
    """Catch experiments: the catch rate over the runs' 10,000 test games (greedy and sampled),
    the ball in the finest patch over the last frames, the reference agents on the same games,
    and training speed (frames trained per second of training, validation included)."""
    lines = ["| runs | catch rate, greedy | catch rate, sampled | ball in the centre, last 5 "
             "frames | random / follow the ball / go where it lands | frames trained | "
             "frames per second | minutes per run | command |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def spread(values):
        mean = statistics.fmean(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{100 * mean:.2f}% +/- {100 * std:.2f}"

    for path in paths:
        summary = json.loads(path.read_text())
        results = [json.loads(results.read_text())
                   for results in runs_module.run_results_paths(path, summary)]
        config = results[0]["config"]
        frames = [len(run["epochs"]) * config["games_per_epoch"] * config["num_glimpses"]
                  for run in results]
        speeds = sorted(count / run["train_seconds"] for count, run in zip(frames, results))
        minutes = sorted(run["train_seconds"] / 60 for run in results)
        agents = results[0]["reference_agents"]
        lines.append(
            f"| {len(results)} | **{spread([run['test_accuracy'] for run in results])}** | "
            f"{spread([run['test_accuracy_sampled'] for run in results])} | "
            f"{spread([run['ball_in_centre'] for run in results])} | "
            f"{100 * agents['random_policy']:.2f}% / {100 * agents['follow_ball']:.2f}% / "
            f"{100 * agents['follow_landing']:.2f}% | {max(frames) / 1e6:.1f} million | "
            f"{speeds[0]:,.0f}-{speeds[-1]:,.0f} | {minutes[0]:.0f}-{minutes[-1]:.0f} | "
            f"`python {summary['command']}` |")
    return "\n".join(lines)


def table(paths):
    lines = ["| task | paper | best public | ours: test error, one episode | ours: mean of M "
             "sampled episodes | minutes per run | command |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    return "\n".join(lines + [row(path) for path in paths])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summaries", nargs="*",
                        help="summary.json files or experiment folders (default: the README's rows)")
    parser.add_argument("--images", action="store_true",
                        help="the table of own-image experiments (run_images.py)")
    parser.add_argument("--catch", action="store_true",
                        help="the table of Catch experiments (run_catch.py)")
    args = parser.parse_args(argv)
    paths = []
    defaults = (IMAGE_SUMMARIES if args.images else CATCH_SUMMARIES if args.catch
                else DEFAULT_SUMMARIES)
    for name in args.summaries or [str(ROOT / path) for path in defaults]:
        path = pathlib.Path(name)
        path = path / runs_module.SUMMARY_FILE if path.is_dir() else path
        if not path.is_file():
            parser.exit(2, f"error: {path} does not exist\n")
        paths.append(path)
    print(image_table(paths) if args.images else catch_table(paths) if args.catch
          else table(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
