"""Where a model looks on the test set, measured against where the digit is.

For translated and cluttered data the fixed test set records where each digit was pasted, so each
deterministic episode (the policy's mean locations, as the reported test accuracy) can be scored
by how close its glimpses came to the digit: per step, the median distance in pixels from glimpse
centre to digit centre and the share of glimpses centred on the digit (inside its 28x28 box); the
share of images on whose digit no glimpse is centred, and the accuracy with and without such a
glimpse; and the accuracy by how far the digit lies from the canvas centre. A policy that reads
the digit with its finest scale shows small distances and few images without a glimpse on it.
"""

import numpy as np

DIGIT = 28  # MNIST digits are 28x28.
BANDS = (0, 10, 20, 30, 40, 60)  # Digit-centre offsets from the canvas centre, in pixels.


def foveation(locations, correct, positions, image_size, unit_pixels):
    """The figures above as a dict.

    Args:
        locations: `[N, T, 2]` glimpse locations `(x, y)` of deterministic episodes.
        correct: `[N]` booleans, whether each episode classified its image right.
        positions: `[N, 2]` `(row, col)` of each digit's top-left corner on its canvas.
        image_size: side of the canvas; unit_pixels: the retina's pixels per location unit.
    """
    correct = np.asarray(correct, bool)
    # Glimpse centres and digit centres in pixels from the canvas centre, as (x, y) = (col, row).
    centres = np.asarray(locations) * unit_pixels
    digits = np.asarray(positions)[:, ::-1] + DIGIT / 2 - image_size / 2
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


def report_lines(report):
    """The figures as lines of text for the console."""
    steps = range(len(report["on_digit"]))
    lines = ["  step                     " + " ".join(f"{t + 1:>5d}" for t in steps),
             "  median distance (px)     " + " ".join(f"{d:5.1f}" for d in report["median_distance_px"]),
             "  centred on the digit (%) " + " ".join(f"{100 * f:5.1f}" for f in report["on_digit"])]
    without = report["images_without_glimpse_on_digit"]
    line = f"  no glimpse on the digit: {round(without * report['images'])} images ({100 * without:.2f}%)"
    if report["accuracy_without_glimpse_on_digit"] is not None:
        line += f", accuracy {100 * report['accuracy_without_glimpse_on_digit']:.2f}%"
    if report["accuracy_with_glimpse_on_digit"] is not None:
        line += f" (with one: {100 * report['accuracy_with_glimpse_on_digit']:.2f}%)"
    lines.append(line)
    lines.append("  accuracy by digit offset: " + ", ".join(
        f"{b['from_px']}-{b['to_px']} px {100 * b['accuracy']:.2f}% ({b['images']})"
        for b in report["accuracy_by_digit_offset"]))
    return lines
