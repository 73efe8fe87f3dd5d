"""Where trained models look on the test set, measured against where the digit is.

    python benchmarks/foveation.py results/run_cluttered_mnist_100/run_1/network.h5
    python benchmarks/foveation.py runs/a/run_0/network.h5 runs/b/run_0/network.h5 --output foveation.json

For translated and cluttered configs the fixed test set records where each digit was pasted, so
each deterministic episode (the policy's mean locations, as the reported test accuracy) can be
scored by how close its glimpses came to the digit. For each weights file this prints the test
accuracy; for each step the median distance in pixels from the glimpse centre to the digit centre
and the share of glimpses centred on the digit (inside its 28x28 box); the share of images on
whose digit no glimpse is centred, and the accuracy with and without such a glimpse; and the
accuracy by how far the digit lies from the canvas centre. A policy that reads the digit with its
finest scale shows small distances and few images without a glimpse on the digit.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ram  # noqa: E402,F401  (keeps TensorFlow quiet)
from ram import cli, storage  # noqa: E402

DIGIT = 28  # MNIST digits are 28x28.
BANDS = (0, 10, 20, 30, 40, 60)  # Digit-centre offsets from the canvas centre, in pixels.


def foveation(config, dataset, model, batch_size):
    """The figures above for one model, as a dict."""
    import numpy as np
    from ram import training
    images, labels = dataset.test_images, dataset.test_labels
    logits, locations = [], []
    for start in range(0, len(images), batch_size):
        outputs = model(training.as_model_input(images[start:start + batch_size]), training=False)
        logits.append(np.asarray(outputs["logits"]))
        locations.append(np.asarray(outputs["locations"]))
    correct = np.concatenate(logits).argmax(-1) == labels
    # Glimpse centres and digit centres in pixels from the canvas centre, as (x, y) = (col, row).
    centres = np.concatenate(locations) * config.unit_pixels
    digits = dataset.test_positions[:, ::-1] + DIGIT / 2 - config.image_size / 2
    offset = centres - digits[:, None, :]
    distance = np.sqrt((offset ** 2).sum(-1))
    on_digit = (np.abs(offset) <= DIGIT / 2).all(-1)
    seen = on_digit.any(1)
    band = np.abs(digits).max(1)
    bands = [(low, high, (band >= low) & (band < high)) for low, high in zip(BANDS, BANDS[1:])]
    return {
        "test_accuracy": float(correct.mean()),
        "median_distance_px": np.median(distance, axis=0).tolist(),
        "on_digit": on_digit.mean(axis=0).tolist(),
        "images": int(len(correct)),
        "images_without_glimpse_on_digit": float(1 - seen.mean()),
        "accuracy_with_glimpse_on_digit": float(correct[seen].mean()) if seen.any() else None,
        "accuracy_without_glimpse_on_digit": float(correct[~seen].mean()) if (~seen).any() else None,
        "accuracy_by_digit_offset": [
            {"from_px": low, "to_px": high, "images": int(inside.sum()),
             "accuracy": float(correct[inside].mean())}
            for low, high, inside in bands if inside.any()],
    }


def print_report(weights, report):
    print(f"{weights}: test accuracy {100 * report['test_accuracy']:.2f}% (deterministic locations)")
    print("  step                     " + " ".join(f"{t + 1:>5d}" for t in range(len(report["on_digit"]))))
    print("  median distance (px)     " + " ".join(f"{d:5.1f}" for d in report["median_distance_px"]))
    print("  centred on the digit (%) " + " ".join(f"{100 * f:5.1f}" for f in report["on_digit"]))
    without = report["images_without_glimpse_on_digit"]
    count = round(without * report["images"])
    line = f"  no glimpse on the digit: {count} images ({100 * without:.2f}%)"
    if report["accuracy_without_glimpse_on_digit"] is not None:
        line += f", accuracy {100 * report['accuracy_without_glimpse_on_digit']:.2f}%"
    if report["accuracy_with_glimpse_on_digit"] is not None:
        line += f" (with one: {100 * report['accuracy_with_glimpse_on_digit']:.2f}%)"
    print(line)
    print("  accuracy by digit offset: " + ", ".join(
        f"{b['from_px']}-{b['to_px']} px {100 * b['accuracy']:.2f}% ({b['images']})"
        for b in report["accuracy_by_digit_offset"]))


def main(argv=None):
    parser = cli.doc_parser(__doc__)
    parser.add_argument("weights", nargs="+", help="network.h5 files (each with network.json beside it)")
    parser.add_argument("--data", help="MNIST .npz in Keras layout (default: data/mnist.npz)")
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    reports = {}
    try:
        import evaluate  # noqa: E402  (the config saved beside the weights)
        from ram import data as data_module
        from ram import training
        for weights in args.weights:
            if not pathlib.Path(weights).is_file():
                raise storage.StorageError(f"weights file {weights} does not exist")
            config = evaluate.saved_config(weights)
            if config.dataset == "mnist":
                raise ValueError(f"{weights} is an MNIST model: its digits fill the image, so there "
                                 "is no digit position to score; use a translated or cluttered run")
            model = training.load_model(config, weights)
            dataset = data_module.Dataset(config, args.data)
            reports[weights] = foveation(config, dataset, model, config.eval_batch_size)
            print_report(weights, reports[weights])
        if args.output:
            storage.write_json(args.output, {"command": " ".join(["python"] + sys.argv),
                                             "models": reports})
    except ValueError as error:
        cli.fail(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
