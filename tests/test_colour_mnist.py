"""The colour MNIST demonstration set (tools/make_colour_mnist.py) and the measurement of where a
model's errors lie on it (tools/colour_mnist_errors.py)."""

import pathlib
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ram import config as config_module
from ram import data as data_module
from conftest import load_tool

make_colour_mnist = load_tool("make_colour_mnist")
errors = load_tool("colour_mnist_errors")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_layout_marks_each_digits_ink_and_leaves_the_canvases_unchanged():
    digits = np.zeros((6, 28, 28), np.uint8)
    digits[:, 10:18, 12:16] = 255  # An 8x4 bar of full ink...
    digits[:, 0, 0] = 51  # ...and one faint pixel (0.2).
    plain = make_colour_mnist.make(digits, digits, np.random.default_rng(3))
    layout = {}
    canvases = make_colour_mnist.make(digits, digits, np.random.default_rng(3), layout)
    np.testing.assert_array_equal(canvases, plain)
    assert layout["digit"].shape == layout["clutter"].shape == (6, 60, 60)
    np.testing.assert_allclose(layout["digit"].sum(axis=(1, 2)), 32 + 0.2, rtol=1e-6)
    for canvas, digit in zip(canvases, layout["digit"]):
        rows, cols = np.nonzero(digit == 1)
        assert (rows.max() - rows.min(), cols.max() - cols.min()) == (7, 3)
        # The digit is painted last, over any clutter: its full ink is all the digit's colour.
        assert len(np.unique(canvas[rows, cols], axis=0)) == 1
    # Each 8x8 clutter piece cut from such a digit holds 0 to 32 pixels of the bar.
    assert layout["clutter"].max() <= 1 and layout["clutter"].sum(axis=(1, 2)).max() <= 3 * 32 + 0.6
    assert layout["clutter"].any()


def test_touching_counts_clutter_ink_within_two_pixels_of_the_digits_ink():
    digit = np.zeros((1, 20, 20), np.float32)
    digit[0, 10, 10] = 1.0
    digit[0, 2, 2] = 0.2  # Below INK: not the digit's ink, so nothing near it counts.
    clutter = np.zeros((1, 20, 20), np.float32)
    clutter[0, 12, 12] = 0.5  # Two rows and two columns away: touches.
    clutter[0, 10, 8] = 1.0  # Two columns away: touches.
    clutter[0, 13, 10] = 1.0  # Three rows away: does not.
    clutter[0, 11, 11] = 0.2  # Next to it but too faint to be ink.
    clutter[0, 2, 3] = 1.0  # Next to the faint digit pixel.
    assert errors.touching(digit, clutter).tolist() == [2]


def test_the_report_gives_accuracy_and_errors_by_band_of_touching_pixels():
    contact = np.array([0, 0, 5, 40])
    correct = {"one episode": np.array([True, False, True, True])}
    assert errors.report(correct, contact) == [
        "clutter pixels touching the digit | images | accuracy, one episode (errors)",
        "0 | 2 (50.0%) | 50.00% (1)",
        "1-9 | 1 (25.0%) | 100.00% (0)",
        "10-29 | 0 (0.0%) | -",
        "30 or more | 1 (25.0%) | 100.00% (0)",
        "all | 4 (100.0%) | 75.00% (1)"]


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colour") / "colour_mnist"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_colour_mnist.py"), str(folder),
                    "--limit", "30", "--quiet"], check=True, capture_output=True)
    return folder


@pytest.mark.parametrize("part", ["test", "train"])
def test_the_remade_canvases_are_the_files_of_a_written_set(small_set, part):
    files, labels, canvases, layout = errors.canvases_of(small_set, part)
    _, y_train, _, y_test, _ = data_module.load_mnist()
    digit_labels = y_test if part == "test" else y_train
    assert len(files) == 30 and sorted(labels.tolist()) == sorted(digit_labels[:30].tolist())
    config = config_module.Config(image_size=60, channels=3)
    np.testing.assert_array_equal(errors.read_checked(files, canvases, config), canvases)
    assert layout["digit"].shape == (30, 60, 60) and (layout["digit"].max(axis=(1, 2)) > 0.9).all()


def test_a_folder_that_is_not_the_demonstration_set_is_refused(small_set, tmp_path):
    files, _, canvases, _ = errors.canvases_of(small_set)
    config = config_module.Config(image_size=60, channels=3)
    changed = canvases.copy()
    changed[3, 0, 0] += 1
    with pytest.raises(data_module.DataError, match=f"{files[3].name}.*differs"):
        errors.read_checked(files, changed, config)
    for name in ("cat", "dog"):
        (tmp_path / "photos" / "test" / name).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "photos" / "test" / name / "a.png"),
                    np.zeros((60, 60, 3), np.uint8))
    with pytest.raises(data_module.DataError, match="not named as make_colour_mnist.py"):
        errors.canvases_of(tmp_path / "photos")
    with pytest.raises(data_module.DataError, match="has no test/ folder"):
        errors.canvases_of(tmp_path)


def test_train_copies_give_each_training_digit_new_canvases_and_hold_out_validation_digits(
        small_set, tmp_path):
    folder = tmp_path / "copies"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_colour_mnist.py"), str(folder),
                    "--limit", "30", "--train-copies", "3", "--quiet"], check=True,
                   capture_output=True)
    names = {part: sorted(path.relative_to(folder / part).as_posix()
                          for path in (folder / part).glob("*/*.png"))
             for part in ("train", "validation", "test")}
    firsts = [name for name in names["train"] if "_" not in name]
    held = names["validation"]
    plain = sorted(path.relative_to(small_set / "train").as_posix()
                   for path in (small_set / "train").glob("*/*.png"))
    # Every digit once, in validation/ or as a first canvas in train/ (about 10% held out, at
    # least one of each digit that has two); those canvases and the test images are the plain
    # set's, byte for byte.
    assert sorted(firsts + held) == plain and 3 <= len(held) <= 10
    assert len(names["train"]) == 3 * len(firsts)
    for part, name in [("train", firsts[0]), ("validation", held[0])] + [
            ("test", name) for name in names["test"]]:
        source = small_set / ("test" if part == "test" else "train") / name
        assert (folder / part / name).read_bytes() == source.read_bytes()
    first = cv2.imread(str(folder / "train" / firsts[0]))
    for copy in (1, 2):
        other = cv2.imread(str(folder / "train" / firsts[0].replace(".png", f"_{copy}.png")))
        assert (other != first).any()  # Another place, colours and clutter for the same digit.
    # A digit missing from a part (30 digits hold one 8) gets no empty folder there.
    assert all(any(path.iterdir()) for path in folder.glob("*/*") if path.is_dir())
    # The errors tool remakes only first canvases: it reads this set's test images, not its train.
    assert len(errors.canvases_of(folder, "test")[0]) == len(names["test"])
    with pytest.raises(data_module.DataError,
                       match="more than one canvas per digit.*--train-copies"):
        errors.canvases_of(folder, "train")


def test_bad_train_copies_are_refused_and_nothing_is_written(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_colour_mnist.py"),
                             str(tmp_path / "set"), "--train-copies", "0"], capture_output=True,
                            text=True)
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: --train-copies must be at least 1, got 0")
    assert not any(tmp_path.iterdir())
