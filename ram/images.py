"""Your own labelled images: a folder of class subfolders, or an `.npz` of arrays.

Layouts read (the first that fits):

* `PATH/train/<class>/*` and `PATH/test/<class>/*`: the given split, with
  `PATH/validation/<class>/*` (or `val/`) as the validation images where there is one.
* `PATH/<class>/*`: one folder per class (the layout `keras.utils.image_dataset_from_directory`
  reads); a seeded, stratified `test_fraction` of each class is held out for testing.
* `PATH.npz` with `x_train, y_train, x_test, y_test` (`[N, H, W]` or `[N, H, W, C]`, uint8 or
  floats in [0, 1]; integer labels `0..K-1`) and optionally `class_names`.

Without a validation folder, a seeded, stratified `validation_fraction` of the training images is
held out for validation and model selection. Image files are PNG, JPEG, BMP or GIF (its first
frame); RGBA, palette and grey files are converted to the config's channels (1 or 3), so grey and
colour files mix in one folder. Other files in a class folder (a README, `.DS_Store`) are skipped
with one warning line naming how many. Images of another size are resized to `image_size`,
keeping the aspect and padding with black (`resize = "pad"`) or stretching (`resize = "stretch"`).

Decoded training images that would take more than `memory_limit_mb` stream from disk each epoch
through `tf.data` instead (`StreamedImages`); the run's first lines say which. Nothing here imports
TensorFlow until a streamed epoch starts: images in memory are decoded with Pillow.
"""

import dataclasses
import hashlib
import pathlib
import sys
import zipfile

import numpy as np
from PIL import Image

from ram import data as data_module

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
VALIDATION_FOLDERS = ("validation", "val")  # Beside train/ and test/, the validation images.
DataError = data_module.DataError


def read_image(path, size, channels, resize="pad"):
    """One image file as uint8 `[size, size, channels]`; DataError naming the file if unreadable."""
    try:
        with Image.open(path) as image:
            image.seek(0)  # A GIF's first frame.
            image.load()
            image = image.convert("L" if channels == 1 else "RGB")
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{path} is not a readable image ({error})") from None
    if image.size != (size, size):
        if resize == "stretch":
            image = image.resize((size, size), Image.BILINEAR)
        else:
            scale = size / max(image.size)
            inner = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
            canvas = Image.new(image.mode, (size, size))
            canvas.paste(image.resize(inner, Image.BILINEAR),
                         ((size - inner[0]) // 2, (size - inner[1]) // 2))
            image = canvas
    pixels = np.asarray(image, np.uint8)
    return pixels[..., None] if channels == 1 else pixels


def probe(path):
    """`(size, channels)` an image file suggests: its longer side, and 3 unless it is grey."""
    try:
        with Image.open(path) as image:
            return max(image.size), 1 if image.mode in ("1", "L", "I", "I;16", "F") else 3
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{path} is not a readable image ({error})") from None


def class_folders(path):
    """`{class name: [image files]}` of a folder of class subfolders (sorted), with the count of
    other files skipped; DataError for a layout that is not one."""
    path = pathlib.Path(path)
    folders = sorted(entry for entry in path.iterdir() if entry.is_dir()
                     and not entry.name.startswith("."))
    if not folders:
        files = [entry for entry in path.iterdir() if entry.is_file()]
        if files:
            raise DataError(f"{path} holds files but no class folders: put each class's images "
                            "in a subfolder named after the class")
        raise DataError(f"{path} is empty: it needs one subfolder of images per class")
    classes, skipped = {}, 0
    for folder in folders:
        files = sorted(entry for entry in folder.rglob("*") if entry.is_file()
                       and not entry.name.startswith("."))
        images = [entry for entry in files if entry.suffix.lower() in IMAGE_SUFFIXES]
        skipped += len(files) - len(images)
        if not images:
            raise DataError(f"class folder {folder} holds no images "
                            f"({', '.join(IMAGE_SUFFIXES)})")
        classes[folder.name] = images
    if len(classes) < 2:
        raise DataError(f"{path} holds one class ({next(iter(classes))}); a classifier needs two "
                        "or more class folders")
    return classes, skipped


def stratified_split(labels, fraction, seed):
    """`(kept, held_out)` indices: a seeded `fraction` of each class held out (at least one image
    of each class with two or more)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    kept, held = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = int(round(fraction * len(members))) if fraction > 0 else 0
        if fraction > 0 and len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        held.extend(members[:count])
        kept.extend(members[count:])
    return np.sort(np.array(kept, int)), np.sort(np.array(held, int))


def _decode(files, size, channels, resize, progress=None):
    images = np.zeros((len(files), size, size, channels), np.uint8)
    for index, path in enumerate(files):
        images[index] = read_image(path, size, channels, resize)
        if progress and (index + 1) % 1000 == 0:
            progress(index + 1, len(files))
    return images


def load(path, config, progress=None):
    """`(data, facts)`: an `ArrayData` of the images at `path` for `config`, and what was read from
    the data (`image_size`, `channels`, `num_classes`, `class_names`), before `config` fixes any of
    them. A config value of 0 for `image_size` or `channels` means "from the data"."""
    path = pathlib.Path(path)
    if not path.exists():
        raise DataError(f"data path {path} does not exist (give a folder of class folders or an .npz)")
    if path.is_file():
        return _load_npz(path, config)
    split = (path / "train").is_dir() and (path / "test").is_dir()
    train_classes, skipped = class_folders(path / "train" if split else path)
    folders = {"test": path / "test", "validation": _validation_folder(path)} if split else {}
    given = {}  # {part: {class name: files}} of the test and validation folders there are.
    for part, folder in folders.items():
        if folder is None:
            continue
        given[part], more = class_folders(folder)
        skipped += more
        if sorted(given[part]) != sorted(train_classes):
            raise DataError(f"{path}/train and {folder} have different class folders")
    if skipped:
        print(f"warning: skipped {skipped} file(s) that are not images "
              f"({', '.join(IMAGE_SUFFIXES)}) under {path}", file=sys.stderr)
    names = sorted(train_classes)
    files, labels = _files_and_labels(train_classes, names)
    facts = _facts(files, names)
    size, channels = config.image_size or facts["image_size"], config.channels or facts["channels"]
    if split:
        test_files, test_labels = _files_and_labels(given["test"], names)
    else:
        kept, held = stratified_split(labels, config.test_fraction, config.split_seed)
        test_files, test_labels = files[held], labels[held]
        files, labels = files[kept], labels[kept]
    if "validation" in given:
        kept = np.arange(len(files))
        validation_files, validation_labels = _files_and_labels(given["validation"], names)
    else:
        kept, held = validation_split(labels, config)
        validation_files, validation_labels = files[held], labels[held]

    def decode(chosen):
        return _decode(chosen, size, channels, config.resize, progress)

    validation = (decode(validation_files), validation_labels)
    test = (decode(test_files), test_labels)
    mebibytes = len(kept) * size * size * channels / 2**20
    if mebibytes > config.memory_limit_mb:
        print(f"streaming the {len(kept)} training images from disk ({mebibytes:,.0f} MiB decoded, "
              f"above memory_limit_mb={config.memory_limit_mb}); validation and test images in "
              "memory", file=sys.stderr)
        return StreamedImages(files[kept], labels[kept], *validation, *test, size, channels,
                              config.resize), facts
    return data_module.ArrayData(decode(files[kept]), labels[kept], *validation, *test), facts


class StreamedImages(data_module.ArrayData):
    """An image folder whose training images are too many to hold in memory: each epoch reads them
    from disk through `tf.data` (parallel decode and resize, in the epoch's seeded order, batched
    and prefetched). Validation and test images are held in memory as `ArrayData` holds them.

    Decoding and resizing are TensorFlow's here, Pillow's in memory: images already of the
    config's size give the same pixels either way; resized ones may differ in rounding.
    """

    def __init__(self, train_files, train_labels, validation_images, validation_labels,
                 test_images, test_labels, size, channels, resize):
        # ArrayData checks and fingerprints arrays; the training images are stood in for by one
        # decoded image, and the file list is fingerprinted instead.
        first = read_image(train_files[0], size, channels, resize)[None]
        super().__init__(first, train_labels[:1], validation_images, validation_labels,
                         test_images, test_labels)
        self.train_files, self.train_labels = np.asarray(train_files), np.asarray(train_labels,
                                                                                  np.int32)
        self.size, self.channels, self.resize = size, channels, resize
        self.checksum = hashlib.sha256(self.checksum.encode() + "\n".join(
            self.train_files).encode()).hexdigest()

    @property
    def image_shape(self):
        return (self.size, self.size, self.channels)

    def limited(self, limit):
        limited = super().limited(limit)
        limited.train_files = self.train_files[:limit]
        return limited

    def _decode(self, path):
        import tensorflow as tf  # Only a training process iterates; the parent never does.
        image = tf.io.decode_image(tf.io.read_file(path), channels=self.channels,
                                   expand_animations=False)
        image.set_shape([None, None, self.channels])
        if self.resize == "stretch":
            image = tf.image.resize(image, [self.size, self.size])
        else:
            image = tf.image.resize_with_pad(image, self.size, self.size)
        return tf.cast(tf.round(tf.clip_by_value(image, 0, 255)), tf.uint8)

    def _ordered_batches(self, epoch, seed, batch_size, shard):
        """`ArrayData.train_batches`'s batches before any shift, in the order `ArrayData` would
        give; with `shard = (index, workers)`, only that worker's rows of each batch are read."""
        order = np.random.default_rng([seed, epoch]).permutation(self.num_train)
        # Each batch's rows for this worker: the full batches' shards are all of one size, so they
        # batch as one stream; the last batch (smaller, or empty for this worker) comes apart.
        sizes = data_module.batch_sizes(self.num_train, batch_size)
        rows = [order[start:start + size][data_module.shard_rows(size, shard)]
                for start, size in zip(range(0, self.num_train, batch_size), sizes)]
        full = [chosen for chosen, size in zip(rows, sizes) if size == batch_size]
        parts = [self._batches(np.concatenate(full), len(full[0]))] if full else []
        if len(full) < len(rows):
            parts.append(self._batches(rows[-1], len(rows[-1])))
        for part in parts:
            yield from part

    def _batches(self, chosen, size):
        """The images and labels of the training rows `chosen`, decoded in batches of `size`."""
        import tensorflow as tf
        if size == 0:  # A worker's empty shard of a last batch smaller than the workers.
            yield (np.zeros((0,) + self.image_shape, np.uint8), np.zeros(0, np.int32))
            return
        files = tf.data.Dataset.from_tensor_slices(self.train_files[chosen])
        images = files.map(self._decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        labels = tf.data.Dataset.from_tensor_slices(self.train_labels[chosen])
        batches = tf.data.Dataset.zip((images, labels)).batch(size).prefetch(tf.data.AUTOTUNE)
        yield from batches.as_numpy_iterator()


def _facts(files, names):
    """The image size (the most common longer side) and channels (3 if any file is in colour)."""
    probes = [probe(file) for file in files]
    sizes = [size for size, _ in probes]
    return {"image_size": max(set(sizes), key=sizes.count),
            "channels": max(channels for _, channels in probes),
            "num_classes": len(names), "class_names": list(names)}


def _validation_folder(path):
    """`PATH/validation` or `PATH/val` where there is one (None where neither is)."""
    folders = [path / name for name in VALIDATION_FOLDERS if (path / name).is_dir()]
    if len(folders) > 1:
        raise DataError(f"{path} holds both {folders[0].name}/ and {folders[1].name}/: keep one "
                        "validation folder")
    return folders[0] if folders else None


def _files_and_labels(classes, names):
    """Arrays of the files of `{class name: files}` and their labels (indices into `names`)."""
    files = np.array([str(file) for name in names for file in classes[name]])
    labels = np.array([index for index, name in enumerate(names) for _ in classes[name]])
    return files, labels


def validation_split(labels, config):
    """`(kept, held)` indices: the seeded, stratified validation share of the training images."""
    kept, held = stratified_split(labels, config.validation_fraction, config.split_seed + 1)
    if len(held) == 0 or len(kept) == 0:
        raise DataError(f"too few images ({len(labels)}) to hold out a validation set")
    return kept, held


def _split_validation(images, labels, test_images, test_labels, config):
    kept, held = validation_split(labels, config)
    return data_module.ArrayData(images[kept], labels[kept], images[held], labels[held],
                                 test_images, test_labels)


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _load_npz(path, config):
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path} lacks the key(s) {', '.join(missing)} "
                                f"(expected {', '.join(NPZ_KEYS)}, optionally class_names)")
            arrays = {key: archive[key] for key in NPZ_KEYS}
            names = [str(name) for name in archive["class_names"]] \
                if "class_names" in archive.files else None
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path} is not a readable .npz archive ({error})") from None
    for part in ("train", "test"):
        images, labels = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(images) != len(labels):
            raise DataError(f"{path}: x_{part} has {len(images)} images but y_{part} "
                            f"{len(labels)} labels")
    labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: the labels must be whole numbers 0..K-1, got {labels.dtype}")
    classes = int(labels.max()) + 1 if len(labels) else 0
    if names is not None and len(names) < classes:
        raise DataError(f"{path}: labels go up to {classes - 1} but class_names names "
                        f"{len(names)} classes")
    count = len(names) if names is not None else classes
    if labels.min() < 0 or labels.max() >= count:
        raise DataError(f"{path}: labels must lie in 0..{count - 1}, got {labels.min()} to "
                        f"{labels.max()}")
    shape = arrays["x_train"].shape
    facts = {"image_size": shape[1], "channels": shape[3] if len(shape) == 4 else 1,
             "num_classes": count, "class_names": names or [str(index) for index in range(count)]}
    data = _split_validation(arrays["x_train"], arrays["y_train"], arrays["x_test"],
                             arrays["y_test"], config)
    return data, facts


def retina_for(size):
    """The retina this project suggests for square images of `size` pixels, a rule that gives the
    paper's sensors on its tasks: patches of 8 pixels up to 32x32 images, else 12; as many scales,
    each twice the one before, as it takes for the coarsest to cover 80% of the image (60x60: 3,
    100x100: 4); a location of +/-1 at 44% of the side from the centre (60: 26, 100: 44).
    Returns `(patch_size, num_scales, unit_pixels)`."""
    patch = 8 if size <= 32 else 12
    scales = 1
    while patch * 2 ** (scales - 1) < 0.8 * size:
        scales += 1
    return patch, scales, float(round(0.44 * size))


def resolve(config, facts):
    """`config` with every "from the data" value (0, or empty class names) filled in from `facts`
    (what `load` read) and the retina rule above."""
    size = config.image_size or facts["image_size"]
    patch, scales, unit = retina_for(size)
    values = {"image_size": size, "channels": config.channels or facts["channels"],
              "num_classes": config.num_classes or facts["num_classes"],
              "patch_size": config.patch_size or min(patch, size),
              "num_scales": config.num_scales or scales,
              "unit_pixels": config.unit_pixels or unit}
    if not config.class_names and len(facts["class_names"]) == values["num_classes"]:
        values["class_names"] = ",".join(facts["class_names"])
    return dataclasses.replace(config, **values).validate()
