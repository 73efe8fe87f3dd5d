"""Your own images: folders of class folders and .npz files, read, trained on, looked at and
predicted, and every kind of bad input refused with one clear line."""

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ram import config as config_module
from ram import images

from conftest import tiny_config

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLOURS = {"red": (230, 30, 30), "green": (30, 210, 40), "blue": (40, 60, 240)}


def square_image(colour, rng, size=16):
    """A black image with one 5x5 square of `colour` at a random place."""
    pixels = np.zeros((size, size, 3), np.uint8)
    row, col = rng.integers(0, size - 5, 2)
    pixels[row:row + 5, col:col + 5] = colour
    return pixels


def make_folder(root, per_class, rng, grey_every=0, odd_sizes=False):
    """One folder per colour class of PNGs (some grey, some of other sizes if asked)."""
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = square_image(colour, rng)
            image = Image.fromarray(pixels)
            if grey_every and index % grey_every == 0:
                image = image.convert("L")
            if odd_sizes and index % 4 == 1:
                image = image.resize((24, 20))
            image.save(root / name / f"{index:03d}.png")
    return root


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("colours") / "data", 40,
                       np.random.default_rng(0), grey_every=7, odd_sizes=True)


def run(*arguments, cwd=ROOT):
    return subprocess.run([sys.executable, *map(str, arguments)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def assert_clean_error(result, *fragments):
    assert result.returncode == 2, result.stderr + result.stdout
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_flat_folder_is_read_split_and_its_facts_found(colour_folder):
    config = config_module.Config(dataset="images", image_size=0, channels=0, num_classes=0,
                                  patch_size=0, num_scales=0, unit_pixels=0.0).validate()
    data, facts = images.load(colour_folder, config)
    assert facts == {"image_size": 16, "channels": 3, "num_classes": 3,
                     "class_names": ["blue", "green", "red"]}
    # 40 per class: 4 held out for testing, then 4 of the other 36 for validation.
    assert (data.num_train, len(data.validation_labels), len(data.test_labels)) == (96, 12, 12)
    assert sorted(np.bincount(data.test_labels)) == [4, 4, 4]
    assert data.train_images.shape[1:] == (16, 16, 3) and data.train_images.dtype == np.uint8
    resolved = images.resolve(config, facts)
    assert (resolved.image_size, resolved.channels, resolved.num_classes) == (16, 3, 3)
    assert resolved.class_names == "blue,green,red"
    assert (resolved.patch_size, resolved.num_scales, resolved.unit_pixels) == (8, 2, 7.0)
    # The same seed gives the same split.
    again, _ = images.load(colour_folder, config)
    assert np.array_equal(again.test_images, data.test_images)


def test_the_retina_rule_gives_the_papers_sensors():
    assert images.retina_for(60) == (12, 3, 26.0)
    assert images.retina_for(100) == (12, 4, 44.0)
    assert images.retina_for(28) == (8, 3, 12.0)


def test_images_are_converted_and_resized_keeping_the_aspect_or_stretched(tmp_path):
    path = tmp_path / "wide.png"
    Image.fromarray(np.full((10, 20, 4), 255, np.uint8)).save(path)  # RGBA, white, 20 wide.
    padded = images.read_image(path, 10, 3, "pad")
    assert padded.shape == (10, 10, 3)
    assert padded[:2].max() == 0 and padded[-2:].max() == 0 and padded[4].min() == 255
    stretched = images.read_image(path, 10, 1, "stretch")
    assert stretched.shape == (10, 10, 1) and stretched.min() == 255
    palette = tmp_path / "palette.gif"
    Image.fromarray(np.full((8, 8, 3), (204, 0, 51), np.uint8)).convert("P").save(palette)
    assert images.read_image(palette, 8, 3)[0, 0].tolist() == [204, 0, 51]  # Web palette colours.


def test_a_train_test_layout_keeps_its_test_split(tmp_path):
    rng = np.random.default_rng(1)
    make_folder(tmp_path / "data" / "train", 10, rng)
    make_folder(tmp_path / "data" / "test", 3, rng)
    config = config_module.Config(dataset="images", image_size=0, channels=0, num_classes=0,
                                  patch_size=0, num_scales=0, unit_pixels=0.0).validate()
    data, facts = images.load(tmp_path / "data", config)
    assert len(data.test_labels) == 9 and data.num_train + len(data.validation_labels) == 30
    assert facts["class_names"] == ["blue", "green", "red"]


@pytest.mark.parametrize("name", ["validation", "val"])
def test_a_validation_folder_replaces_the_held_out_validation_images(tmp_path, name):
    rng = np.random.default_rng(2)
    make_folder(tmp_path / "data" / "train", 10, rng)
    make_folder(tmp_path / "data" / name, 2, rng)
    make_folder(tmp_path / "data" / "test", 3, rng)
    config = config_module.Config(dataset="images", image_size=0, channels=0, num_classes=0,
                                  patch_size=0, num_scales=0, unit_pixels=0.0).validate()
    data, _ = images.load(tmp_path / "data", config)
    assert (data.num_train, len(data.validation_labels), len(data.test_labels)) == (30, 6, 9)
    assert sorted(data.validation_labels.tolist()) == [0, 0, 1, 1, 2, 2]
    expected = images.read_image(tmp_path / "data" / name / "green" / "001.png", 16, 3)
    np.testing.assert_array_equal(data.validation_images[3], expected)  # Classes in name order.


def test_two_validation_folders_or_other_classes_in_one_are_refused(tmp_path):
    rng = np.random.default_rng(3)
    for part, count in (("train", 4), ("validation", 1), ("val", 1), ("test", 1)):
        make_folder(tmp_path / "data" / part, count, rng)
    config = config_module.Config(dataset="images").validate()
    with pytest.raises(images.DataError, match="holds both validation/ and val/"):
        images.load(tmp_path / "data", config)
    shutil.rmtree(tmp_path / "data" / "val")
    shutil.rmtree(tmp_path / "data" / "validation" / "red")
    with pytest.raises(images.DataError, match="train and .*validation have different class"):
        images.load(tmp_path / "data", config)


def test_run_images_learns_resumes_and_its_model_predicts_and_draws(colour_folder, tmp_path):
    """The whole path a user takes: train, resume, evaluate, plot, predict."""
    output = tmp_path / "runs"
    flags = ["--data", colour_folder, "--output", output, "--runs", "1", "--quiet",
             "--set", "jit_compile=false", "--set", "test_samples=2", "--set", "batch_size=16",
             "--set", "learning_rate=3e-3", "--set", "epochs=16",
             "--set", "episodes_per_image=1"]
    result = run("run_images.py", *flags)
    assert result.returncode == 0, result.stderr
    results = json.loads((output / "run_0" / "results.json").read_text())
    # An easy colour set: well above chance (1/3) after a few epochs on 96 images (with the
    # script's convolutions, 16 epochs score 11, 11 and 8 of the 12 test images with seeds 0-2).
    assert results["test_accuracy"] >= 0.75, results["test_accuracy"]
    saved = json.loads((output / "run_0" / "network.json").read_text())
    assert saved["class_names"] == "blue,green,red" and saved["channels"] == 3
    before = (output / "run_0" / "results.json").read_bytes()
    resumed = run("run_images.py", *flags, "--resume")  # A finished run is never trained again.
    assert resumed.returncode == 0, resumed.stderr
    assert (output / "run_0" / "results.json").read_bytes() == before
    weights = output / "run_0" / "network.h5"
    evaluated = run("evaluate.py", "run_images", weights, "--data", colour_folder, "--images", "2",
                    "--output", tmp_path / "pictures")
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"{100 * results['test_accuracy']:.2f}%" in evaluated.stdout
    picture = np.asarray(Image.open(tmp_path / "pictures" / "symbol_0.png"))
    assert picture.ndim == 3 and (picture[..., 0] != picture[..., 2]).any()  # In colour.
    assert run("plot.py", output, "--output", tmp_path / "plot.png").returncode == 0
    # The .keras model (the .h5 weights and the text output: the MNIST digit test below).
    predicted = run("predict.py", output / "run_0" / "model.keras", colour_folder / "red" / "002.png",
                    colour_folder / "blue", "--json", "--top", "2", "--samples", "3")
    assert predicted.returncode == 0, predicted.stderr
    report = json.loads(predicted.stdout)
    assert len(report["images"]) == 41
    first = report["images"][0]["predictions"]
    assert len(first) == 2 and first[0]["probability"] >= first[1]["probability"]
    names = [entry["predictions"][0]["class"] for entry in report["images"]]
    assert names[0] == "red" and names.count("blue") >= 30


def test_predict_reads_a_digit_png_with_the_mnist_weights(tmp_path):
    with np.load(ROOT / "data" / "mnist.npz") as archive:
        digit, label = archive["x_test"][0], int(archive["y_test"][0])
    Image.fromarray(digit).save(tmp_path / "digit.png")
    result = run("predict.py", ROOT / "results" / "run_mnist" / "run_0" / "network.h5",
                 tmp_path / "digit.png")
    assert result.returncode == 0, result.stderr
    path, name, probability = result.stdout.split()
    assert name == str(label) and float(probability) > 0.9


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("case, fragment", [
    ("missing", "does not exist"),
    ("empty", "is empty"),
    ("files", "holds files but no class folders"),
    ("no_images", "holds no images"),
    ("one_class", "holds one class"),
    ("truncated", "broken.png is not a readable image"),
    ("npz_keys", "lacks the key(s) y_test"),
    ("npz_lengths", "x_train has 6 images but y_train 5 labels"),
    ("npz_labels", "labels must lie in 0..1"),
])
def test_bad_image_data_is_refused_with_one_line(tmp_path, case, fragment):
    data = tmp_path / "data"
    pixels = np.zeros((6, 8, 8), np.uint8)
    if case == "empty":
        data.mkdir()
    elif case == "files":
        data.mkdir()
        Image.fromarray(pixels[0]).save(data / "a.png")
    elif case in ("no_images", "one_class", "truncated"):
        make_folder(data, 3, np.random.default_rng(0))
        if case == "no_images":
            (data / "empty_class").mkdir()
            (data / "empty_class" / "notes.txt").write_text("no pictures here")
        elif case == "one_class":
            for name in ("green", "blue"):
                for path in (data / name).iterdir():
                    path.unlink()
                (data / name).rmdir()
        else:
            good = (data / "red" / "000.png").read_bytes()
            (data / "red" / "broken.png").write_bytes(good[:len(good) // 2])
    elif case == "npz_keys":
        data = write_npz(tmp_path / "data.npz", x_train=pixels, y_train=np.zeros(6, int),
                         x_test=pixels)
    elif case == "npz_lengths":
        data = write_npz(tmp_path / "data.npz", x_train=pixels, y_train=np.zeros(5, int),
                         x_test=pixels, y_test=np.zeros(6, int))
    elif case == "npz_labels":
        data = write_npz(tmp_path / "data.npz", x_train=pixels, y_train=np.arange(6) % 2,
                         x_test=pixels, y_test=np.full(6, -1), class_names=np.array(["a", "b"]))
    result = run("run_images.py", "--data", data, "--output", tmp_path / "out", "--epochs", "1")
    assert_clean_error(result, fragment)
    assert not (tmp_path / "out" / "run_0").exists()  # Refused before any run started.


def test_a_non_image_file_among_images_is_skipped_with_a_warning(colour_folder, tmp_path):
    import shutil
    data = tmp_path / "data"
    shutil.copytree(colour_folder, data)
    (data / "red" / "notes.txt").write_text("taken on a sunny day")
    config = config_module.Config(dataset="images", image_size=0, channels=0, num_classes=0,
                                  patch_size=0, num_scales=0, unit_pixels=0.0).validate()
    code = ("import ram.images as i, ram.config as c; "
            "d, f = i.load(%r, c.Config(dataset='images', image_size=0, channels=0, "
            "num_classes=0, patch_size=0, num_scales=0, unit_pixels=0.0)); print(d.num_train)")
    result = subprocess.run([sys.executable, "-c", code % str(data)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"warning: skipped 1 file(s) that are not images " \
        f"(.png, .jpg, .jpeg, .bmp, .gif) under {data}"
    assert int(result.stdout) == images.load(colour_folder, config)[0].num_train


def test_predict_refuses_what_it_cannot_read(tiny_run, tmp_path):
    _, output, _ = tiny_run
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert_clean_error(run("predict.py", output / "network.h5", text), "notes.png is not a readable image")
    assert_clean_error(run("predict.py", output / "network.h5", tmp_path / "none.png"), "does not exist")
    assert_clean_error(run("predict.py", tmp_path / "none.h5", text), "does not exist")
    # Weights whose config says another architecture.
    other = tmp_path / "other"
    other.mkdir()
    (other / "network.h5").write_bytes((output / "network.h5").read_bytes())
    saved = json.loads((output / "network.json").read_text())
    (other / "network.json").write_text(json.dumps({**saved, "core_size": 48}))
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "black.png")
    assert_clean_error(run("predict.py", other / "network.h5", tmp_path / "black.png"),
                       "another architecture")


def test_array_data_checks_what_it_is_given():
    from ram import data as data_module
    with pytest.raises(data_module.DataError, match="1 or 3 channels"):
        data_module.ArrayData(np.zeros((4, 8, 8, 2)), np.zeros(4, int), np.zeros((2, 8, 8)),
                              np.zeros(2, int))
    with pytest.raises(data_module.DataError, match="floats in \\[0, 1\\]"):
        data_module.ArrayData(np.full((4, 8, 8), 7.0), np.zeros(4, int), np.zeros((2, 8, 8)),
                              np.zeros(2, int))
    with pytest.raises(data_module.DataError, match="differ in shape"):
        data_module.ArrayData(np.zeros((4, 8, 8), np.uint8), np.zeros(4, int),
                              np.zeros((2, 9, 9), np.uint8), np.zeros(2, int))
    data = data_module.ArrayData(np.zeros((4, 8, 8), np.uint8), np.arange(4) % 2,
                                 np.zeros((2, 8, 8), np.uint8), np.zeros(2, int))
    with pytest.raises(data_module.DataError, match="8x8, the config's image_size is 28"):
        data.check(tiny_config())
    assert data.limited(2).num_train == 2 and data.num_train == 4


def test_a_set_above_the_memory_limit_streams_the_same_batches(colour_folder):
    """Streamed from disk through tf.data, an epoch's batches equal those held in memory (the
    images already of the config's size), and validation and test stay in memory."""
    import dataclasses
    base = config_module.Config(dataset="images", image_size=16, channels=3, num_classes=0,
                                patch_size=0, num_scales=0, unit_pixels=0.0).validate()
    in_memory, _ = images.load(colour_folder, base)
    streamed, _ = images.load(colour_folder, dataclasses.replace(base, memory_limit_mb=0))
    assert isinstance(streamed, images.StreamedImages)
    assert not isinstance(in_memory, images.StreamedImages)
    assert streamed.num_train == in_memory.num_train
    np.testing.assert_array_equal(streamed.validation_images, in_memory.validation_images)
    same_size = [index for index, path in enumerate(streamed.train_files)
                 if Image.open(path).size == (16, 16)]
    for (a, labels_a), (b, labels_b) in zip(in_memory.train_batches(2, 1, 32),
                                            streamed.train_batches(2, 1, 32)):
        np.testing.assert_array_equal(labels_a, labels_b)
        assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    order = np.random.default_rng([1, 2]).permutation(streamed.num_train)
    first = next(streamed.train_batches(2, 1, len(order)))[0]
    expected = next(in_memory.train_batches(2, 1, len(order)))[0]
    kept = [row for row, index in enumerate(order) if index in same_size]
    np.testing.assert_array_equal(first[kept], expected[kept])
    # train_shift moves streamed images as it moves those in memory.
    moved = next(streamed.shifted(3).train_batches(2, 1, len(order)))[0]
    np.testing.assert_array_equal(moved[kept],
                                  next(in_memory.shifted(3).train_batches(2, 1, len(order)))[0][kept])
    assert (moved[kept] != first[kept]).any()
    # A worker's shard (multiworker): the two workers' rows side by side are each batch, down to
    # a last batch of one row, of which worker 0 gets none.
    whole = list(streamed.train_batches(2, 1, streamed.num_train - 1))
    shards = [list(streamed.train_batches(2, 1, streamed.num_train - 1, shard=(index, 2)))
              for index in (0, 1)]
    assert [len(labels) for _, labels in shards[0]] == [(streamed.num_train - 1) // 2, 0]
    for number, (batch, labels) in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([s[number][0] for s in shards]), batch)
        np.testing.assert_array_equal(np.concatenate([s[number][1] for s in shards]), labels)
