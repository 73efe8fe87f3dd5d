"""MNIST loading, the training/validation split, and bad data files."""

import numpy as np
import pytest

from ram import config as config_module
from ram import data as data_module

ORIGINAL_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
ORIGINAL_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_bundled_mnist_is_the_real_thing():
    x_train, y_train, x_test, y_test, checksum = data_module.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert list(y_train[:10]) == ORIGINAL_TRAIN_LABELS and list(y_test[:10]) == ORIGINAL_TEST_LABELS
    assert len(checksum) == 64


def test_split_is_54000_6000_seeded_and_disjoint():
    dataset = data_module.Dataset(config_module.Config())
    again = data_module.Dataset(config_module.Config())
    assert dataset.num_train == 54000 and len(dataset.validation_labels) == 6000
    np.testing.assert_array_equal(dataset.validation_images, again.validation_images)
    train = {image.tobytes() for image in dataset.train_digits[:2000]}
    assert not train & {image.tobytes() for image in dataset.validation_images[:, :, :, 0]}


def test_training_batches_cover_the_epoch_in_a_seeded_order():
    dataset = data_module.Dataset(config_module.Config(), limit=300)
    first = [labels for _, labels in dataset.train_batches(1, 0, 128)]
    assert [len(labels) for labels in first] == [128, 128, 44]
    assert sorted(np.concatenate(first)) == sorted(dataset.train_labels)
    again = [labels for _, labels in dataset.train_batches(1, 0, 128)]
    other = [labels for _, labels in dataset.train_batches(2, 0, 128)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    assert not np.array_equal(np.concatenate(first), np.concatenate(other))


def _write(path, **overrides):
    arrays = {"x_train": np.zeros((20, 28, 28), np.uint8), "y_train": np.zeros(20, np.uint8),
              "x_test": np.zeros((5, 28, 28), np.uint8), "y_test": np.zeros(5, np.uint8)}
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


@pytest.mark.parametrize("overrides, message", [
    ({"x_test": None}, "lacks the key(s) x_test"),
    ({"x_train": np.zeros((20, 32, 32), np.uint8)}, "x_train has shape"),
    ({"y_train": np.full(20, 11, np.uint8)}, "labels outside 0..9"),
    ({"x_train": np.full((20, 28, 28), 300, np.int32)}, "values outside 0..255"),
    ({"x_train": np.zeros((20, 28, 28), np.float32)}, "dtype float32"),
    ({"y_test": np.zeros(4, np.uint8)}, "different lengths"),
])
def test_bad_data_files_are_named(tmp_path, overrides, message):
    path = _write(tmp_path / "bad.npz", **overrides)
    with pytest.raises(data_module.DataError) as error:
        data_module.load_mnist(path)
    assert message in str(error.value)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(data_module.DataError, match="does not exist"):
        data_module.load_mnist(tmp_path / "nothing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(data_module.DataError, match="not a readable"):
        data_module.load_mnist(corrupt)


def test_a_user_file_in_keras_layout_is_accepted(tmp_path):
    path = _write(tmp_path / "mine.npz", y_train=np.arange(20, dtype=np.uint8) % 10)
    x_train, y_train, _, _, _ = data_module.load_mnist(path)
    assert x_train.shape == (20, 28, 28) and list(y_train[:3]) == [0, 1, 2]


def test_prefetch_keeps_order_and_passes_errors_on():
    assert list(data_module.prefetch(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("broken batch")

    produced = data_module.prefetch(failing())
    assert next(produced) == 1
    with pytest.raises(ValueError, match="broken batch"):
        next(produced)


def test_group_batches_stacks_runs_of_one_shape_and_count_and_passes_the_rest_in_order():
    batches = [(np.full((4, 2), i), np.full(4, i), 8) for i in range(7)] + [(np.full((3, 2), 7),
                                                                             np.full(3, 7), 6)]
    grouped = list(data_module.group_batches(iter(batches), 3))
    assert [stacked for *_, stacked in grouped] == [True, True, False, False]
    assert grouped[0][0].shape == (3, 4, 2) and grouped[0][1].shape == (3, 4)
    assert [count for _, _, count, _ in grouped] == [8, 8, 8, 6]
    # Every batch comes out once, in its order, whether stacked or not.
    out = [(images[k], labels[k]) for images, labels, _, stacked in grouped if stacked
           for k in range(3)] + [(images, labels) for images, labels, _, stacked in grouped
                                 if not stacked]
    assert [int(labels[0]) for _, labels in out] == list(range(8))
    for (images, labels), (expected_images, expected_labels, _) in zip(out, batches):
        np.testing.assert_array_equal(images, expected_images)
        np.testing.assert_array_equal(labels, expected_labels)
    # A smaller batch in the middle breaks a run: the batches before it come unstacked.
    mixed = [batches[0], batches[7], batches[1], batches[2], batches[3]]
    assert [s for *_, s in data_module.group_batches(iter(mixed), 3)] == [False, False, True]
    assert all(not s for *_, s in data_module.group_batches(iter(batches), 1))
    # So does a worker's shard of a smaller global batch that has a full shard's shape: it is
    # never stacked with (and trained as) a full batch.
    last = (np.full((4, 2), 9), np.full(4, 9), 7)
    assert [(s, c) for _, _, c, s in data_module.group_batches(iter(batches[:2] + [last]), 3)] == [
        (False, 8), (False, 8), (False, 7)]


def test_the_shards_of_every_source_put_together_are_its_batches():
    """Each worker makes only its rows of every global batch (MultiWorkerMirroredStrategy); the
    workers' rows side by side are the batches of one process, clutter and shifts included."""
    config = config_module.Config(dataset="cluttered", image_size=60, patch_size=12, num_scales=3,
                                  train_shift=2).validate()
    canvases = data_module.Dataset(config, limit=70)
    shifted = data_module.Dataset(config_module.Config(train_shift=2).validate(), limit=70)
    arrays = data_module.ArrayData(np.arange(70 * 4, dtype=np.uint8).reshape(70, 2, 2),
                                   np.arange(70) % 3, np.zeros((3, 2, 2), np.uint8), np.zeros(3, int),
                                   np.zeros((3, 2, 2), np.uint8), np.zeros(3, int))
    for source in (canvases, shifted, arrays):
        whole = list(source.train_batches(3, 1, 32))
        assert [len(labels) for _, labels in whole] == [32, 32, 6]
        for workers in (2, 3):
            shards = [list(source.train_batches(3, 1, 32, shard=(index, workers)))
                      for index in range(workers)]
            for number, (images, labels) in enumerate(whole):
                np.testing.assert_array_equal(
                    np.concatenate([shard[number][0] for shard in shards]), images)
                np.testing.assert_array_equal(
                    np.concatenate([shard[number][1] for shard in shards]), labels)
    assert data_module.shard_rows(7, (1, 2)) == slice(3, 7)
    assert data_module.shard_rows(7, None) == slice(None)
    # A source whose train_batches takes no shard: the worker makes whole batches, keeps its rows.

    class Plain:
        num_train = arrays.num_train

        def train_batches(self, epoch, seed, batch_size):
            return arrays.train_batches(epoch, seed, batch_size)

    for shard in (None, (1, 3)):
        ours = list(data_module.worker_batches(Plain(), 3, 1, 32, shard))
        theirs = list(data_module.worker_batches(arrays, 3, 1, 32, shard))
        assert [count for *_, count in ours] == [count for *_, count in theirs] == [32, 32, 6]
        for (images, labels, _), (expected, expected_labels, _) in zip(ours, theirs):
            np.testing.assert_array_equal(images, expected)
            np.testing.assert_array_equal(labels, expected_labels)


def test_own_images_shift_with_edge_fill_per_epoch_and_shard():
    """`train_shift` on own images (ArrayData.shifted): each training image moves by its own offset
    in [-2, 2] with the border continued from the edge pixels (a coloured background runs on),
    drawn from (seed, epoch) only, the workers' rows side by side the whole batch; validation and
    test images never move."""
    image = np.zeros((5, 5, 3), np.uint8)
    image[..., 0] = np.arange(5)[:, None] * 10 + np.arange(5)[None, :]  # Red: 10 * row + col.
    image[..., 2] = 200  # Blue: a flat background.
    arrays = data_module.ArrayData(np.repeat(image[None], 200, 0), np.arange(200) % 3,
                                   image[None], [0], image[None], [0])
    shifted = arrays.shifted(2)
    assert arrays.max_shift == 0 and shifted.max_shift == 2  # The original is left as it was.
    seen = set()
    for images, _ in shifted.train_batches(3, 1, 64):
        assert images.shape[1:] == (5, 5, 3) and images.dtype == np.uint8
        assert (images[..., 2] == 200).all()
        for moved in images[..., 0].astype(int):
            # Pixel (r, c) shows the original's (r + dr, c + dc), clamped to the image (edge fill).
            dr, dc = int(moved[2, 2]) // 10 - 2, int(moved[2, 2]) % 10 - 2
            assert -2 <= dr <= 2 and -2 <= dc <= 2
            rows = np.clip(np.arange(5) + dr, 0, 4)
            cols = np.clip(np.arange(5) + dc, 0, 4)
            np.testing.assert_array_equal(moved, rows[:, None] * 10 + cols[None, :])
            seen.add((dr, dc))
    assert len(seen) == 25  # Every offset occurs among 200 images.
    whole = list(shifted.train_batches(3, 1, 64))
    again = list(shifted.train_batches(3, 1, 64))
    other = list(shifted.train_batches(4, 1, 64))
    assert all((a[0] == b[0]).all() for a, b in zip(whole, again))
    assert any((a[0] != b[0]).any() for a, b in zip(whole, other))
    shards = [list(shifted.train_batches(3, 1, 64, shard=(index, 2))) for index in (0, 1)]
    for number, (images, _) in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([s[number][0] for s in shards]), images)
    np.testing.assert_array_equal(shifted.validation_images[0], image)
    np.testing.assert_array_equal(shifted.test_images[0], image)


def test_own_images_recolour_permutes_and_inverts_channels_per_epoch_and_shard():
    """`train_recolour` (ArrayData.recoloured): each training image's three channels come back in
    some order, each as it was or inverted (255 - v), all 48 colourings occurring; drawn from
    (seed, epoch) only, the workers' rows side by side the whole batch; shapes, labels, validation
    and test images untouched; with a shift too, the colouring applies to the shifted image."""
    image = np.zeros((4, 4, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 10, 100, 200
    image[0, 0] = (20, 120, 240)  # Not flat, so the shift below shows.
    arrays = data_module.ArrayData(np.repeat(image[None], 600, 0), np.arange(600) % 3,
                                   image[None], [0], image[None], [0])
    recoloured = arrays.recoloured()
    assert not arrays.recolour and recoloured.recolour
    values = {0: 10, 1: 100, 2: 200}
    seen = set()
    for images, labels in recoloured.train_batches(3, 1, 128):
        assert images.shape[1:] == (4, 4, 3) and images.dtype == np.uint8
        for coloured in images:
            colouring = []
            for channel in range(3):
                value = int(coloured[1, 1, channel])
                source = [c for c, v in values.items() if value in (v, 255 - v)]
                assert len(source) == 1
                inverted = value != values[source[0]]
                original = image[..., source[0]]
                np.testing.assert_array_equal(coloured[..., channel],
                                              255 - original if inverted else original)
                colouring.append((source[0], inverted))
            assert sorted(c for c, _ in colouring) == [0, 1, 2]
            seen.add(tuple(colouring))
    assert len(seen) == 48
    whole = list(recoloured.train_batches(3, 1, 128))
    assert all((a[0] == b[0]).all() for a, b in zip(whole, recoloured.train_batches(3, 1, 128)))
    assert any((a[0] != b[0]).any() for a, b in zip(whole, recoloured.train_batches(4, 1, 128)))
    shards = [list(recoloured.train_batches(3, 1, 128, shard=(index, 2))) for index in (0, 1)]
    for number, (images, labels) in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([s[number][0] for s in shards]), images)
    plain = list(arrays.train_batches(3, 1, 128))
    assert all((a[1] == b[1]).all() for a, b in zip(whole, plain))  # Same order and labels.
    np.testing.assert_array_equal(recoloured.validation_images[0], image)
    np.testing.assert_array_equal(recoloured.test_images[0], image)
    both = list(arrays.shifted(1).recoloured().train_batches(3, 1, 128))
    moved = list(arrays.shifted(1).train_batches(3, 1, 128))
    for (images, _), (shifted, _) in zip(both, moved):  # The same shifts as without a colouring.
        np.testing.assert_array_equal(np.sort(np.minimum(images, 255 - images), axis=-1),
                                      np.sort(np.minimum(shifted, 255 - shifted), axis=-1))


def test_shift_moves_each_image_by_at_most_the_shift_with_zero_fill():
    images = np.zeros((200, 28, 28), np.uint8)
    images[:, 10:18, 10:18] = 255
    shifted = data_module.shift_images(images, 2, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == np.uint8
    for image in shifted:
        rows, cols = np.nonzero(image)
        assert 8 <= rows.min() <= 12 and 8 <= cols.min() <= 12
        assert image.sum() == images[0].sum()  # The square never leaves the image: nothing lost.
    assert len({(np.nonzero(image)[0].min(), np.nonzero(image)[1].min()) for image in shifted}) == 25
