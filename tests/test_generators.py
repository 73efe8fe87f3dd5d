"""Translated and cluttered MNIST: shapes, placement, clutter, fixed test sets, fresh training data."""

import subprocess
import sys

import numpy as np

from ram import config as config_module
from ram import data as data_module


def digits(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (count, 28, 28)).astype(np.uint8)  # No zero pixel anywhere.


def test_translated_digit_lies_wholly_inside_the_canvas_unchanged():
    source = digits(50)
    canvases, positions = data_module.place_digits(source, 60, np.random.default_rng(1))
    assert canvases.shape == (50, 60, 60) and canvases.dtype == np.uint8
    assert positions.min() >= 0 and positions.max() <= 60 - 28
    for canvas, digit, (row, col) in zip(canvases, source, positions):
        np.testing.assert_array_equal(canvas[row:row + 28, col:col + 28], digit)
        outside = canvas.copy()
        outside[row:row + 28, col:col + 28] = 0
        assert outside.sum() == 0  # Nothing but the digit on a translated canvas.
    assert len({tuple(position) for position in positions}) > 20  # Positions vary.


def test_clutter_count_and_size():
    blank = np.zeros((200, 28, 28), np.uint8)
    sources = np.full((10, 28, 28), 255, np.uint8)
    canvases, _ = data_module.place_digits(blank, 100, np.random.default_rng(2), num_clutter=3,
                                           clutter_size=8, clutter_sources=sources)
    lit = (canvases > 0).sum(axis=(1, 2))
    # Three 8x8 squares: 192 pixels when apart, fewer only where they overlap.
    assert lit.max() == 3 * 64 and lit.min() >= 64
    assert np.median(lit) == 3 * 64


def test_cluttered_dataset_has_clutter_and_labels_unchanged():
    config = config_module.config_from_module_name("run_cluttered_mnist")
    dataset = data_module.Dataset(config, limit=100)
    _, y_train, _, y_test, _ = data_module.load_mnist()
    np.testing.assert_array_equal(dataset.test_labels, y_test)
    assert dataset.test_images.shape == (10000, 60, 60, 1)
    # Clutter adds lit pixels beyond the digit's own.
    plain = data_module.Dataset(config_module.config_from_module_name("run_translated_mnist"), limit=100)
    assert (dataset.test_images > 0).sum() > (plain.test_images > 0).sum()
    images, labels = next(dataset.train_batches(1, 0, 32))
    assert images.shape == (32, 60, 60, 1) and set(labels) <= set(range(10))


def test_fixed_sets_are_identical_across_calls_and_processes():
    config = config_module.config_from_module_name("run_cluttered_mnist")
    first = data_module.Dataset(config, limit=10).test_images
    second = data_module.Dataset(config, limit=500).test_images  # --limit does not change them.
    np.testing.assert_array_equal(first, second)
    code = ("import hashlib, ram.data as d, ram.config as c; "
            "ds = d.Dataset(c.config_from_module_name('run_cluttered_mnist'), limit=10); "
            "print(hashlib.sha256(ds.test_images.tobytes()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=str(data_module.PROJECT_ROOT)).stdout.strip()
    import hashlib
    assert other == hashlib.sha256(first.tobytes()).hexdigest()


def test_training_batches_differ_between_epochs():
    config = config_module.config_from_module_name("run_translated_mnist")
    dataset = data_module.Dataset(config, limit=64)
    first = next(dataset.train_batches(1, 0, 64))
    again = next(dataset.train_batches(1, 0, 64))
    second = next(dataset.train_batches(2, 0, 64))
    np.testing.assert_array_equal(first[0], again[0])  # Same seed and epoch: same images.
    assert not np.array_equal(np.sort(first[1]), np.sort(second[1])) or not np.array_equal(
        first[0], second[0])
    # The same digits land elsewhere in another epoch.
    order1 = np.argsort(first[1], kind="stable")
    order2 = np.argsort(second[1], kind="stable")
    assert not np.array_equal(first[0][order1], second[0][order2])


def test_fixed_sets_record_where_each_digit_lies():
    config = config_module.config_from_module_name("run_translated_mnist")
    dataset = data_module.Dataset(config, limit=10)
    _, _, x_test, _, _ = data_module.load_mnist()
    positions = dataset.test_positions
    assert positions.shape == (10000, 2) and positions.min() >= 0 and positions.max() <= 60 - 28
    for index in (0, 1, 4999, 9999):  # A translated canvas holds the digit, unchanged, there.
        row, col = positions[index]
        np.testing.assert_array_equal(dataset.test_images[index, row:row + 28, col:col + 28, 0],
                                      x_test[index])
    assert dataset.validation_positions.shape == (config.validation_size, 2)
    mnist = data_module.Dataset(config_module.config_from_module_name("run_mnist"), limit=10)
    assert mnist.test_positions is None and mnist.validation_positions is None


def test_generated_data_is_byte_identical_to_the_recorded_fingerprints():
    """Every published figure was scored on these images: the fixed validation and test sets of
    each generated task, and the training batches a seed and epoch produce, must never change
    (fingerprints recorded in results/benchmarks/data_hashes_6b6119f_48439b6.txt)."""
    import hashlib
    recorded = {"run_translated_mnist": ("a8e7e20e903af570", "c22a13d828221e28"),
                "run_cluttered_mnist": ("87bfaa690f55e783", "ae7c9bbe182b65b9"),
                "run_cluttered_mnist_100": ("fbcdf0101f404fe2", "75e24c13cba3af8c")}
    for name, (fixed_hash, batches_hash) in recorded.items():
        dataset = data_module.Dataset(config_module.config_from_module_name(name))
        fixed = hashlib.sha256(dataset.validation_images.tobytes()
                               + dataset.test_images.tobytes()).hexdigest()
        batches = hashlib.sha256()
        for images, labels in dataset.train_batches(3, 1, 128):
            batches.update(images.tobytes())
            batches.update(labels.tobytes())
        assert (fixed[:16], batches.hexdigest()[:16]) == (fixed_hash, batches_hash), name


def test_the_clutter_curriculum_adds_pieces_up_to_the_full_count():
    config = config_module.config_from_module_name("run_cluttered_mnist")
    curriculum = data_module.Dataset(config.with_overrides(["clutter_curriculum=4"]), limit=64)
    assert [curriculum.num_clutter(epoch) for epoch in range(1, 7)] == [0, 1, 2, 3, 4, 4]
    # Epoch 1 has no clutter: the same canvases as translated MNIST from the same seed...
    plain = data_module.Dataset(config.with_overrides(["dataset=translated", "num_clutter=0"]),
                                limit=64)
    np.testing.assert_array_equal(next(curriculum.train_batches(1, 0, 64))[0],
                                  next(plain.train_batches(1, 0, 64))[0])
    # ...and from epoch 5 on the same as without the curriculum; the fixed sets always have all.
    full = data_module.Dataset(config, limit=64)
    np.testing.assert_array_equal(next(curriculum.train_batches(5, 0, 64))[0],
                                  next(full.train_batches(5, 0, 64))[0])
    assert not np.array_equal(next(curriculum.train_batches(3, 0, 64))[0],
                              next(full.train_batches(3, 0, 64))[0])
    np.testing.assert_array_equal(curriculum.validation_images[:100], full.validation_images[:100])
