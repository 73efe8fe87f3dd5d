"""Print the README's results table from the committed experiment summaries.

    python benchmarks/results_table.py              # every results/<task>/summary.json
    python benchmarks/results_table.py --compare    # errors beside the paper's and others'

One row per experiment: the task, glimpses, runs, mean +/- std test accuracy (and error), each run's
test accuracy, the best epochs and minutes per run, all read from the summary and the runs'
results.json files, never typed by hand; and the mean accuracy over sampled episodes, from
sampled_accuracy.json beside the summary where benchmarks/sampled_accuracy.py has written one, else
as the runs reported it themselves.
"""

import argparse
import json
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ram import experiment  # noqa: E402


def describe(config):
    size = config["image_size"]
    task = {"mnist": "MNIST 28x28", "translated": f"translated {size}x{size}",
            "cluttered": f"cluttered {size}x{size}, {config['num_clutter']} pieces"}[config["dataset"]]
    sensor = (f"{config['num_glimpses']} x {config['patch_size']}x{config['patch_size']}"
              f" x {config['num_scales']} scale{'s' if config['num_scales'] > 1 else ''}")
    return task, sensor


# Published test errors (%) to compare with: the paper (Mnih et al. 2014, RAM with the same glimpse
# counts and sensors) and the best public re-implementations named in the project's issues
# (tfRAM, slundqui/tfRAM on GitHub, reports the mean of 10 sampled episodes).
PUBLISHED = {
    ("mnist", 28, 0): ("1.07%", "0.67%"),
    ("translated", 60, 0): ("1.2%", "0.94% (tfRAM)"),
    ("cluttered", 60, 4): ("4.04%", "2.1-2.63% (tfRAM 2.63%)"),
    ("cluttered", 100, 8): ("about 8.1%", "5.9% (tfRAM)"),
}


def task_order(path):
    """Sorts summaries as the paper's tasks go: MNIST, translated, cluttered; small images first."""
    config = json.loads(path.read_text())["config"]
    return (["mnist", "translated", "cluttered"].index(config["dataset"]), config["image_size"])


def experiment_figures(path):
    """(summary, runs' results, sampled figures or None) of one summary.json.

    The sampled figures are those of sampled_accuracy.json beside the summary where
    benchmarks/sampled_accuracy.py wrote one, else those the runs reported themselves (runs with
    `test_samples` above 0 put their mean in the summary), else None.
    """
    summary = json.loads(path.read_text())
    runs = [json.loads(results.read_text()) for results in experiment.run_results_paths(path, summary)]
    sampled_path = path.with_name("sampled_accuracy.json")
    sampled = None
    if sampled_path.is_file():
        sampled = json.loads(sampled_path.read_text())
    elif summary.get("test_accuracy_sampled_mean") is not None:
        sampled = {key: summary[key] for key in ("test_accuracy_sampled_mean",
                                                 "test_accuracy_sampled_std")}
        sampled["samples"] = summary["test_samples"]
    return summary, runs, sampled


def compare(paths):
    print("| task | paper | best public re-implementation | this project, one episode per image | "
          "this project, mean of M sampled episodes |")
    print("| --- | --- | --- | --- | --- |")
    for path in paths:
        _, runs, sampled = experiment_figures(path)
        config = runs[0]["config"]
        paper, public = PUBLISHED.get(
            (config["dataset"], config["image_size"], config["num_clutter"]), ("-", "-"))
        error = 100 * (1 - statistics.fmean(run["test_accuracy"] for run in runs))
        ours_sampled = (f"**{100 * (1 - sampled['test_accuracy_sampled_mean']):.2f}%** "
                        f"(M = {sampled['samples']})" if sampled else "-")
        print(f"| {describe(config)[0]} | {paper} | {public} | **{error:.2f}%** ({len(runs)} runs) | "
              f"{ours_sampled} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summaries", nargs="*", help="summary.json files (default: results/*/summary.json)")
    parser.add_argument("--compare", action="store_true",
                        help="print test errors beside the paper's and the best re-implementations'")
    args = parser.parse_args(argv)
    paths = [pathlib.Path(path) for path in args.summaries] or sorted(
        ROOT.glob("results/*/summary.json"), key=task_order)
    if args.compare:
        compare(paths)
        return 0
    print("| task | glimpses x sensor | runs | test accuracy, mean +/- std | error | each run | "
          "epochs (best) | minutes per run | sampled episodes (M) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        _, runs, figures = experiment_figures(path)
        accuracies = [run["test_accuracy"] for run in runs]
        mean = statistics.fmean(accuracies)
        std = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        task, sensor = describe(runs[0]["config"])
        each = ", ".join(f"{100 * value:.2f}" for value in accuracies)
        epochs = ", ".join(f"{len(run['epochs'])} ({run['best_epoch']})" for run in runs)
        minutes = ", ".join(f"{run['train_seconds'] / 60:.0f}" for run in runs)
        sampled = "-"
        if figures:
            sampled = (f"{100 * figures['test_accuracy_sampled_mean']:.2f}% +/- "
                       f"{100 * figures['test_accuracy_sampled_std']:.2f} ({figures['samples']})")
        print(f"| {task} (`{path.parent.name}`) | {sensor} | {len(runs)} | "
              f"**{100 * mean:.2f}% +/- {100 * std:.2f}** | {100 * (1 - mean):.2f}% | {each} | "
              f"{epochs} | {minutes} | {sampled} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
