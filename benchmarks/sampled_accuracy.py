"""Test accuracy of every run of an experiment, with deterministic and with sampled glimpse paths.

    python benchmarks/sampled_accuracy.py output/run_translated_mnist/summary.json --samples 10

Training reports the test accuracy of one deterministic episode per image (each location is the
policy's mean). The zhongwen/RAM-derived re-implementations (tfRAM: 0.94% error on translated
60x60) report the mean class probabilities of M = 10 episodes whose locations are sampled from the
policy. This script measures both for each run's best weights (network.h5 beside its results.json),
checks the deterministic figure against the one training recorded, and writes
`sampled_accuracy.json` beside the summary (or to --output).
"""

import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ram  # noqa: E402,F401  (keeps TensorFlow quiet)
from ram import cli, experiment, storage  # noqa: E402


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("summary", help="an experiment's summary.json")
    parser.add_argument("--samples", type=int, default=10, help="sampled episodes per image (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the location noise (default 0)")
    parser.add_argument("--data", help="MNIST .npz in Keras layout (default: data/mnist.npz)")
    parser.add_argument("--output", help="where to write the figures (default: beside the summary)")
    args = parser.parse_args(argv)
    summary_path = pathlib.Path(args.summary)
    output = pathlib.Path(args.output) if args.output else summary_path.with_name("sampled_accuracy.json")
    try:
        if args.samples < 1:
            raise ValueError(f"--samples must be at least 1, got {args.samples}")
        summary = storage.read_json(summary_path, "experiment summary")
        if not isinstance(summary, dict) or not isinstance(summary.get("runs"), list):
            raise storage.StorageError(f"{summary_path} is not an experiment summary (no list of runs)")
        runs = []
        for results_path in experiment.run_results_paths(summary_path, summary):
            weights = results_path.with_name("network.h5")
            if not results_path.is_file() or not weights.is_file():
                raise storage.StorageError(f"{results_path.parent} lacks results.json or network.h5")
            runs.append((storage.read_json(results_path, "results file"), weights))
        if not runs:
            raise storage.StorageError(f"{summary_path} lists no finished run")
        import evaluate  # noqa: E402  (the config saved beside the weights)
        from ram import data as data_module
        from ram import training
        import keras
        dataset = None
        report = {"command": " ".join(["python"] + sys.argv), "samples": args.samples,
                  "seed": args.seed, "runs": []}
        for results, weights in runs:
            config = evaluate.saved_config(weights)
            dataset = dataset or data_module.Dataset(config, args.data)
            model = training.load_model(config, weights)
            model.seed_generator = keras.random.SeedGenerator(args.seed)
            deterministic, sampled = training.test_accuracies(
                model, dataset.test_images, dataset.test_labels, config.eval_batch_size, args.samples)
            recorded = results.get("test_accuracy")
            if recorded is not None and abs(recorded - deterministic) > 1e-9:
                print(f"warning: {weights} gives {deterministic:.4f} deterministic, but training "
                      f"recorded {recorded:.4f}", file=sys.stderr)
            report["runs"].append({"run": results.get("run"), "test_accuracy": deterministic,
                                   "test_accuracy_sampled": sampled})
            print(f"{results.get('run')}: {100 * deterministic:.2f}% deterministic, "
                  f"{100 * sampled:.2f}% with {args.samples} sampled episodes", flush=True)
    except ValueError as error:
        cli.fail(error)
    for key in ("test_accuracy", "test_accuracy_sampled"):
        values = [run[key] for run in report["runs"]]
        report[f"{key}_mean"] = statistics.fmean(values)
        report[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    print(f"mean {100 * report['test_accuracy_mean']:.2f}% +/- {100 * report['test_accuracy_std']:.2f} "
          f"deterministic, {100 * report['test_accuracy_sampled_mean']:.2f}% +/- "
          f"{100 * report['test_accuracy_sampled_std']:.2f} with {args.samples} sampled episodes")
    try:
        storage.write_json(output, report)
    except OSError as error:
        cli.fail(f"cannot write {output} ({error.strerror})")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
