"""Plot training and validation accuracy over epochs.

    python plot.py output/run_mnist/run_0/results.json
    python plot.py output/run_mnist                       # every run of an experiment (summary.json)
    python plot.py results/run_mnist results/run_translated_mnist --output docs/accuracy.png

Takes results.json files, run folders, experiment folders or summary.json files. Runs of one config
are drawn as their mean with a band from the lowest to the highest run; several configs share one
figure with a legend. Writes a PNG (default: accuracy.png beside the first input).
"""

import json
import pathlib
import sys

from ram import cli
from ram import runs
from ram import storage


def results_files(argument):
    """The results.json files an argument names: a file, a run folder, or an experiment."""
    path = pathlib.Path(argument)
    if path.is_dir():
        if (path / "results.json").is_file():
            return [path / "results.json"]
        if (path / "summary.json").is_file():
            path = path / "summary.json"
        else:
            found = sorted(path.glob("*/results.json"))
            if not found:
                raise storage.StorageError(f"{path} holds no results.json or summary.json")
            return found
    if not path.exists():
        raise storage.StorageError(f"{path} does not exist")
    content = storage.read_json(path, "results file")
    if isinstance(content, dict) and isinstance(content.get("runs"), list):
        return runs.run_results_paths(path, content)
    return [path]


def read_results(path):
    content = storage.read_json(path, "results file")
    if not isinstance(content, dict) or not isinstance(content.get("epochs"), list):
        raise storage.StorageError(f"{path} is not a results.json file (it has no list of epochs)")
    if not content["epochs"]:
        raise storage.StorageError(f"{path} has no completed epoch to plot")
    for epoch in content["epochs"]:
        if not isinstance(epoch, dict) or not all(
                isinstance(epoch.get(key), (int, float))
                for key in ("validation_accuracy", "train_accuracy")):
            raise storage.StorageError(f"{path} has an epoch without accuracy figures")
    return content


def group_of(results, path):
    """Runs group by config (all but the seed and run count); the label names the experiment."""
    config = dict(results.get("config") or {})
    key = json.dumps({name: value for name, value in config.items() if name not in ("seed", "runs")},
                     sort_keys=True)
    dataset = config.get("dataset", "?")
    if dataset != "mnist":
        dataset = f"{dataset} {config.get('image_size')}x{config.get('image_size')}"
    folder = pathlib.Path(path).resolve().parent
    experiment = folder.parent.name if folder.name.startswith("run_") else folder.name
    return key, f"{experiment} ({dataset}, {config.get('num_glimpses', '?')} glimpses)"


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("inputs", nargs="+", help="results.json, run folder, experiment or summary.json")
    parser.add_argument("--output", help="PNG to write (default: accuracy.png beside the first input)")
    parser.add_argument("--show", action="store_true", help="also open a window")
    args = parser.parse_args(argv)
    groups = {}
    try:
        for argument in args.inputs:
            for path in results_files(argument):
                results = read_results(path)
                key, label = group_of(results, path)
                groups.setdefault(key, (label, []))[1].append(results)
    except ValueError as error:
        cli.fail(error)
    first = pathlib.Path(args.inputs[0])
    output = pathlib.Path(args.output) if args.output else (
        (first if first.is_dir() else first.parent) / "accuracy.png")
    if output.suffix.lower() != ".png":
        cli.fail(f"--output must name a .png file, got {output}")
    from ram import visualize
    try:
        visualize.plot_accuracy(list(groups.values()), output, show=args.show)
    except OSError as error:
        cli.fail(f"cannot write {output} ({error.strerror or error})")
    runs = sum(len(runs) for _, runs in groups.values())
    print(f"wrote {output} ({runs} run(s), {len(groups)} config(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
