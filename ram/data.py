"""The data sources: MNIST, the translated and cluttered variants built from it, and images in
arrays.

A data source is what the run loop (ram/training.py) trains on: `train_batches(epoch, seed,
batch_size)` yields `(images, labels)` batches (uint8 pixels `[B, H, W, C]`, int32 labels) in an
order that depends only on `(seed, epoch)`; `steps_per_epoch(batch_size)` and `num_train` size an
epoch; `validation_images`/`validation_labels` and `test_images`/`test_labels` are fixed; `checksum`
fingerprints the data for results.json.

Images are kept as uint8 `[n, height, width, 1]` in memory and scaled to `[0, 1]` inside the
TensorFlow step, so a whole dataset costs one byte a pixel.

* `load_mnist` reads the bundled `data/mnist.npz`, a user's `.npz` in Keras layout, or (only when no
  local file exists) `keras.datasets.mnist.load_data()`.
* `Dataset` splits the training set into training and validation images (seeded), and serves
  training batches for an epoch. For the translated and cluttered tasks it generates training
  images afresh every epoch, and the validation and test images once from a fixed seed, so every
  run and every user is scored on the same images.
"""

import copy
import hashlib
import inspect
import pathlib
import queue
import threading
import zipfile

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
BUNDLED_MNIST = PROJECT_ROOT / "data" / "mnist.npz"
DIGIT_SIZE = 28
# Seeds of the fixed evaluation sets; never change them, or published figures stop being comparable.
VALIDATION_SET_SEED = 2014
TEST_SET_SEED = 1992
SPLIT_SEED = 0
# Own images' shifts and colourings draw from `[seed, epoch, STREAM]`, apart from the order.
SHIFT_STREAM = 7
RECOLOUR_STREAM = 8
_KEYS = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28),
         "y_test": (10000,)}


class DataError(ValueError):
    """A data file that is missing, unreadable or not MNIST-shaped."""


def load_mnist(path=None):
    """Returns `(x_train, y_train, x_test, y_test)` as uint8 arrays and the data's SHA-256.

    `path` None means the bundled file, then the Keras cache or download.
    """
    if path is None:
        if BUNDLED_MNIST.is_file():
            path = BUNDLED_MNIST
        else:
            import keras
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
            arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
            return _checked(arrays, "keras.datasets.mnist")
    path = pathlib.Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist (give an .npz in Keras MNIST layout)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = sorted(set(_KEYS) - set(archive.files))
            if missing:
                raise DataError(f"data file {path} lacks the key(s) {', '.join(missing)} "
                                "(expected x_train, y_train, x_test, y_test)")
            arrays = {key: archive[key] for key in _KEYS}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"data file {path} is not a readable .npz archive ({error})") from None
    return _checked(arrays, str(path))


def _checked(arrays, source):
    for key, shape in _KEYS.items():
        array = arrays[key]
        if array.shape[1:] != shape[1:] or array.ndim != len(shape) or len(array) == 0:
            raise DataError(f"{source}: {key} has shape {array.shape}, expected (n,) + {shape[1:]}")
        if array.dtype != np.uint8:
            if not np.issubdtype(array.dtype, np.integer):
                raise DataError(f"{source}: {key} has dtype {array.dtype}, expected uint8")
            if array.min() < 0 or array.max() > 255:
                raise DataError(f"{source}: {key} has values outside 0..255")
            arrays[key] = array.astype(np.uint8)
    for key in ("x_train", "x_test"):
        label_key = "y" + key[1:]
        if len(arrays[key]) != len(arrays[label_key]):
            raise DataError(f"{source}: {key} and {label_key} have different lengths")
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise DataError(f"{source}: {key} has labels outside 0..9")
    digest = hashlib.sha256()
    for key in _KEYS:
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return (arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
            digest.hexdigest())


# ------------------------------------------------------------------------------------------------
# Translated and cluttered canvases.
ALL_ROWS = slice(None)  # Every canvas of a batch (see `shard_rows`).


def place_digits(digits, canvas_size, rng, num_clutter=0, clutter_size=8, clutter_sources=None,
                 rows=ALL_ROWS):
    """Pastes each 28x28 digit at a uniformly random position on a black square canvas.

    Args:
        digits: uint8 `[n, 28, 28]`.
        canvas_size: side of the output canvas, at least 28.
        rng: a `numpy.random.Generator`.
        num_clutter: pieces of clutter per canvas: `clutter_size` squares cut at random from random
            images of `clutter_sources` and pasted at random positions (pixel-wise maximum).
        clutter_sources: uint8 `[m, 28, 28]` to cut clutter from (default: `digits`).
        rows: a slice of the `n` canvases to make (one worker's shard of a batch): the random
            numbers of all `n` are drawn all the same, so that `rng` moves on exactly as for all.

    Returns:
        `(canvases, positions)`: uint8 `[len(rows), canvas_size, canvas_size]` and int
        `[len(rows), 2]`, the `(row, col)` of each digit's top-left corner.
    """
    count = len(digits)
    sources = digits if clutter_sources is None else clutter_sources
    digits = digits[rows]
    canvases = np.zeros((len(digits), canvas_size, canvas_size), np.uint8)
    index = np.arange(len(digits))
    # Every square window of the canvases (and of the sources) as a view: indexing it by
    # (image, row, col) reads or writes one whole square per image, 2.4 to 10 times as fast as
    # indexing every pixel (benchmarks/throughput.py's data line).
    if num_clutter:
        windows = sliding_window_view(canvases, (clutter_size, clutter_size), axis=(1, 2),
                                      writeable=True)
        for _ in range(num_clutter):
            source = sources[rng.integers(0, len(sources), count)[rows]]
            cut = rng.integers(0, DIGIT_SIZE - clutter_size + 1, (count, 2))[rows]
            piece = sliding_window_view(source, (clutter_size, clutter_size),
                                        axis=(1, 2))[index, cut[:, 0], cut[:, 1]]
            at = rng.integers(0, canvas_size - clutter_size + 1, (count, 2))[rows]
            windows[index, at[:, 0], at[:, 1]] = np.maximum(windows[index, at[:, 0], at[:, 1]],
                                                            piece)
    positions = rng.integers(0, canvas_size - DIGIT_SIZE + 1, (count, 2))[rows]
    windows = sliding_window_view(canvases, (DIGIT_SIZE, DIGIT_SIZE), axis=(1, 2), writeable=True)
    windows[index, positions[:, 0], positions[:, 1]] = np.maximum(
        windows[index, positions[:, 0], positions[:, 1]], digits)
    return canvases, positions


def shift_images(images, max_shift, rng, rows=ALL_ROWS):
    """Moves each image by a random whole-pixel offset in `[-max_shift, max_shift]` on both axes,
    filling the uncovered border with zeros. `images` is `[n, height, width]`; `rows` as for
    `place_digits`."""
    offsets = rng.integers(0, 2 * max_shift + 1, (len(images), 2))[rows]
    return _shift_by(images[rows], offsets, max_shift, fill="zeros")


def _shift_by(images, offsets, max_shift, fill="edge"):
    """`images` (`[n, height, width]` or `[n, height, width, channels]`) each moved by
    `offsets[i] - max_shift` pixels (rows, columns); the uncovered border filled with zeros
    (`fill="zeros"`, digits on black) or the nearest edge pixel (`"edge"`: a photo's or a coloured
    canvas's border runs on)."""
    height, width = images.shape[1:3]
    margins = ((0, 0), (max_shift, max_shift), (max_shift, max_shift)) + ((0, 0),) * (images.ndim - 3)
    padded = np.pad(images, margins, mode="constant" if fill == "zeros" else "edge")
    moved = np.empty_like(images)
    for index, (row, col) in enumerate(offsets):  # Slices: 7x faster than one fancy index.
        moved[index] = padded[index, row:row + height, col:col + width]
    return moved


def _recolour(images, orders, inverted):
    """`images` (uint8 `[n, height, width, channels]`) with image i's channels in the order
    `orders[i]` (a permutation of the channel indices), then channel c inverted (255 - value) where
    `inverted[i, c]`. Of RGB, 6 orders times 8 inversions: 48 colourings, each undone by another."""
    recoloured = np.empty_like(images)
    for order in np.unique(orders, axis=0):  # One fancy index per order: 4x faster than per pixel.
        chosen = (orders == order).all(axis=1)
        recoloured[chosen] = images[chosen][..., order]
    return recoloured ^ (inverted.astype(np.uint8) * 255)[:, None, None, :]  # 255 - v, or v.


# ------------------------------------------------------------------------------------------------
# Shards: under MultiWorkerMirroredStrategy each worker makes only its rows of every global batch.


def share(index, parts, count):
    """`(start, end)` of part `index` of `count` rows cut into `parts`: contiguous, in order, sizes
    differing by at most one. Plain arithmetic, so it works on Python ints and on tensors alike:
    a worker's shard (`shard_rows`) and a replica's slice (`distribute.replica_slice`) are both
    cut by it, which keeps a worker's shard the union of its replicas' slices."""
    return index * count // parts, (index + 1) * count // parts


def shard_rows(count, shard):
    """The slice of a global batch of `count` rows that worker `index` of `workers` makes, for
    `shard = (index, workers)` (None: all rows): `share(index, workers, count)`."""
    if shard is None:
        return ALL_ROWS
    return slice(*share(*shard, count))


def batch_sizes(num, batch_size):
    """The sizes of an epoch's global batches: full ones, then what is left."""
    return [min(batch_size, num - start) for start in range(0, num, batch_size)]


def worker_batches(source, epoch, seed, batch_size, shard=None):
    """Yields `(images, labels, count)` for one epoch: this worker's rows (`shard`, or all) of each
    global batch of `count` rows. A source whose `train_batches` takes no `shard` makes whole
    batches and the worker keeps its rows."""
    if shard is None:  # One process: every batch whole, as the source makes it.
        for images, labels in source.train_batches(epoch, seed, batch_size):
            yield images, labels, len(labels)
        return
    sizes = batch_sizes(source.num_train, batch_size)
    if "shard" in inspect.signature(source.train_batches).parameters:
        batches = source.train_batches(epoch, seed, batch_size, shard=shard)
    else:
        batches = _kept_rows(source.train_batches(epoch, seed, batch_size), shard)
    for (images, labels), count in zip(batches, sizes):
        yield images, labels, count


def _kept_rows(batches, shard):
    """This worker's rows of each whole batch."""
    for images, labels in batches:
        rows = shard_rows(len(labels), shard)
        yield images[rows], labels[rows]


class DataSource:
    """What every data source shares: its training labels size an epoch."""

    @property
    def num_train(self):
        return len(self.train_labels)

    def steps_per_epoch(self, batch_size):
        return -(-self.num_train // batch_size)


class Dataset(DataSource):
    """Training, validation and test images for one config.

    Args:
        config: a `ram.config.Config`.
        data_path: an `.npz` in Keras MNIST layout, or None for the default.
        limit: use only the first `limit` training images (after the validation split).
    """

    def __init__(self, config, data_path=None, limit=None):
        if config.dataset not in ("mnist", "translated", "cluttered"):
            raise DataError(f"the {config.dataset!r} dataset is not made from MNIST: give its "
                            "images as a data source (for example ram.ArrayData)")
        x_train, y_train, x_test, y_test, self.checksum = load_mnist(data_path)
        if config.validation_size >= len(x_train):
            raise DataError(f"validation_size {config.validation_size} leaves no training images "
                            f"out of {len(x_train)}")
        order = np.random.default_rng(SPLIT_SEED).permutation(len(x_train))
        validation = order[:config.validation_size]
        training = order[config.validation_size:]
        if limit is not None:
            if limit < 1:
                raise DataError(f"--limit must be at least 1, got {limit}")
            training = training[:limit]
        self.config = config
        self.train_digits = x_train[training]
        self.train_labels = y_train[training].astype(np.int32)
        # Positions: the (row, col) of each digit's top-left corner on its canvas (None for mnist).
        self.validation_images, self.validation_positions = self._fixed(x_train[validation],
                                                                        VALIDATION_SET_SEED)
        self.validation_labels = y_train[validation].astype(np.int32)
        self.test_images, self.test_positions = self._fixed(x_test, TEST_SET_SEED)
        self.test_labels = y_test.astype(np.int32)

    @property
    def generated(self):
        return self.config.dataset != "mnist"

    def _make(self, digits, rng, clutter, rows=ALL_ROWS):
        """The training images of a batch of `digits` with `clutter` pieces each (only `rows` of
        them; `rng` moves on as for all)."""
        if not self.generated:
            if self.config.train_shift:
                return shift_images(digits, self.config.train_shift, rng, rows)[..., None]
            return digits[rows][..., None]
        if self.config.train_shift:
            digits = shift_images(digits, self.config.train_shift, rng)
        canvases, _ = place_digits(digits, self.config.image_size, rng, clutter,
                                   self.config.clutter_size, clutter_sources=self.train_digits,
                                   rows=rows)
        return canvases[..., None]

    def _fixed(self, digits, seed):
        if self.config.dataset == "mnist":
            return digits[..., None], None
        # Fixed sets cut their clutter from their own images, so that they never depend on the
        # training split or --limit.
        canvases, positions = place_digits(digits, self.config.image_size,
                                           np.random.default_rng(seed), self.num_clutter(),
                                           self.config.clutter_size)
        return canvases[..., None], positions

    def train_batches(self, epoch, seed, batch_size, shard=None):
        """Yields `(images, labels)` for one epoch; the order depends only on `(seed, epoch)`.
        With `shard = (index, workers)`, only that worker's rows of each batch (`shard_rows`)."""
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(self.num_train)
        clutter = self.num_clutter(epoch)
        for start in range(0, self.num_train, batch_size):
            index = order[start:start + batch_size]
            rows = shard_rows(len(index), shard)
            yield (self._make(self.train_digits[index], rng, clutter, rows),
                   self.train_labels[index][rows])

    def num_clutter(self, epoch=None):
        """Pieces of clutter on each canvas: all of `num_clutter` on the fixed validation and test
        canvases (`epoch` None) and, with `clutter_curriculum` C, `num_clutter * (epoch - 1) / C`
        rounded down on the training canvases of `epoch` (1, 2, ...), from none in the first epoch
        up to all from epoch C + 1 on."""
        c = self.config
        if c.dataset != "cluttered":
            return 0
        if epoch is None or epoch > c.clutter_curriculum:
            return c.num_clutter
        return c.num_clutter * (epoch - 1) // c.clutter_curriculum


def group_batches(batches, size):
    """Stacks runs of `size` consecutive batches of one shape and global size, for `size` train
    steps in one call.

    `batches` are `(images, labels, count)` (`count`: the global batch's rows, of which these are
    a worker's shard). Yields `(images, labels, count, stacked)`: `stacked` batches have a leading
    axis of `size` (`[size, batch, ...]`); a batch of another shape or count (an epoch's smaller
    last batch, whose shard may have a full batch's shape) and the batches left over at the end
    come one at a time, unstacked, in their order. `size` 1 passes every batch through unstacked.
    """
    pending = []

    def flush():
        for images, labels, count in pending:
            yield images, labels, count, False
        pending.clear()

    for images, labels, count in batches:
        if pending and (images.shape, count) != (pending[0][0].shape, pending[0][2]):
            yield from flush()
        pending.append((images, labels, count))
        if size > 1 and len(pending) == size:
            images, labels, _ = zip(*pending)
            yield np.stack(images), np.stack(labels), count, True
            pending.clear()
        elif size == 1:
            yield from flush()
    yield from flush()


def prefetch(batches, depth=2):
    """Runs a batch generator in a background thread, `depth` batches ahead.

    NumPy releases the GIL in its array work and TensorFlow in its ops, so generating the next
    batch overlaps the training step on the current one.
    """
    slots = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for batch in batches:
                if stop.is_set():
                    return
                slots.put(batch)
        except BaseException as error:  # Re-raised in the consumer.
            slots.put(error)
            return
        slots.put(done)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # Unblock a producer waiting on a full queue.
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(0.01)


class ArrayData(DataSource):
    """A data source of images already in memory (a notebook's arrays, an `.npz`).

    Args:
        train_images, validation_images, test_images: `[N, H, W]` or `[N, H, W, C]`, uint8 pixels
            or floats in `[0, 1]` (stored as uint8, one byte a pixel).
        train_labels, validation_labels, test_labels: integer classes `0..K-1`.
        The test set defaults to the validation set.
    """

    generated = False
    test_positions = None
    validation_positions = None
    max_shift = 0  # Pixels each training image moves by, at most (`shifted`).
    recolour = False  # Whether each training image takes a random colouring (`recoloured`).

    def __init__(self, train_images, train_labels, validation_images, validation_labels,
                 test_images=None, test_labels=None):
        if test_images is None:
            test_images, test_labels = validation_images, validation_labels
        self.train_images, self.train_labels = _as_pixels(train_images, train_labels, "train")
        self.validation_images, self.validation_labels = _as_pixels(
            validation_images, validation_labels, "validation")
        self.test_images, self.test_labels = _as_pixels(test_images, test_labels, "test")
        shapes = {images.shape[1:] for images in (self.train_images, self.validation_images,
                                                  self.test_images)}
        if len(shapes) > 1:
            raise DataError(f"the train, validation and test images differ in shape: "
                            f"{', '.join(str(shape) for shape in sorted(shapes))}")
        digest = hashlib.sha256()
        for array in (self.train_images, self.train_labels, self.validation_images,
                      self.validation_labels, self.test_images, self.test_labels):
            digest.update(np.ascontiguousarray(array).tobytes())
        self.checksum = digest.hexdigest()

    @property
    def image_shape(self):
        """`(height, width, channels)` of every image."""
        return self.train_images.shape[1:]

    @property
    def num_classes(self):
        return int(max(labels.max() for labels in (self.train_labels, self.validation_labels,
                                                    self.test_labels))) + 1

    def check(self, config):
        """Raises DataError when the images do not fit `config`'s model."""
        height, width, channels = self.image_shape
        if height != width or height != config.image_size:
            raise DataError(f"the images are {height}x{width}, the config's image_size is "
                            f"{config.image_size} (square images of that side are needed)")
        if channels != config.channels:
            raise DataError(f"the images have {channels} channel(s), the config {config.channels}")
        if self.num_classes > config.num_classes:
            raise DataError(f"the labels go up to {self.num_classes - 1}, the config has "
                            f"num_classes={config.num_classes}")

    def limited(self, limit):
        """The same data with only the first `limit` training images."""
        if limit < 1:
            raise DataError(f"--limit must be at least 1, got {limit}")
        limited = copy.copy(self)
        limited.train_images = self.train_images[:limit]
        limited.train_labels = self.train_labels[:limit]
        return limited

    def shifted(self, max_shift):
        """The same data with every training image moved by up to `max_shift` pixels each epoch
        (edge fill; config `train_shift`); validation and test images stay as they are."""
        shifted = copy.copy(self)
        shifted.max_shift = max_shift
        return shifted

    def recoloured(self):
        """The same data with every training image in a random colouring each epoch: its channels
        in a random order and each inverted or not (config `train_recolour`), for data whose
        colours say nothing about the class; validation and test images stay as they are."""
        recoloured = copy.copy(self)
        recoloured.recolour = True
        return recoloured

    def train_batches(self, epoch, seed, batch_size, shard=None):
        """Yields `(images, labels)` for one epoch; the order (and, with `shifted` and
        `recoloured`, each image's offset and colouring) depends only on `(seed, epoch)`. With
        `shard = (index, workers)`, only that worker's rows of each batch (`shard_rows`), moved and
        coloured as in the whole batch."""
        batches = self._ordered_batches(epoch, seed, batch_size, shard)
        if not (self.max_shift or self.recolour):
            yield from batches
            return
        shifts = np.random.default_rng([seed, epoch, SHIFT_STREAM])
        colourings = np.random.default_rng([seed, epoch, RECOLOUR_STREAM])
        channels = self.image_shape[-1]
        for (images, labels), size in zip(batches, batch_sizes(self.num_train, batch_size)):
            rows = shard_rows(size, shard)  # Draws for the whole global batch, this worker's rows.
            if self.max_shift:
                offsets = shifts.integers(0, 2 * self.max_shift + 1, (size, 2))[rows]
                images = _shift_by(images, offsets, self.max_shift)
            if self.recolour:
                orders = colourings.permuted(np.tile(np.arange(channels), (size, 1)), axis=1)
                inverted = colourings.integers(0, 2, (size, channels)).astype(bool)
                images = _recolour(images, orders[rows], inverted[rows])
            yield images, labels

    def _ordered_batches(self, epoch, seed, batch_size, shard):
        order = np.random.default_rng([seed, epoch]).permutation(self.num_train)
        for start in range(0, self.num_train, batch_size):
            index = order[start:start + batch_size]
            index = index[shard_rows(len(index), shard)]
            yield self.train_images[index], self.train_labels[index]


def _as_pixels(images, labels, name):
    """`images` as uint8 `[N, H, W, C]` and `labels` as int32 `[N]`, checked."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DataError(f"{name} images must be [N, H, W] or [N, H, W, C] with 1 or 3 channels, "
                        f"got shape {images.shape}")
    if len(images) == 0 or len(images) != len(labels) or labels.ndim != 1:
        raise DataError(f"{name} images and labels must be non-empty and of one length, got "
                        f"{len(images)} images and labels of shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise DataError(f"{name} labels must be whole numbers 0..K-1, got {labels.dtype} "
                        f"from {labels.min()}")
    if images.dtype == np.uint8:
        return images, labels.astype(np.int32)
    if not np.issubdtype(images.dtype, np.floating) or images.min() < 0 or images.max() > 1:
        raise DataError(f"{name} images must be uint8 or floats in [0, 1], got {images.dtype} "
                        f"from {images.min()} to {images.max()}")
    return np.round(images * 255).astype(np.uint8), labels.astype(np.int32)
