"""The glimpse sensor (retina) of the Recurrent Attention Model.

Coordinate convention, used everywhere in this project:

* A location is `(x, y)` in `[-1, 1]`; `x` runs along the columns (left to right) and `y` along the
  rows (top to bottom).
* `(0, 0)` is the centre of the image, the point `(width / 2, height / 2)` in continuous pixel
  coordinates where pixel `(row, col)` covers `[col, col + 1) x [row, row + 1)`.
* `+/-1` lies `unit_pixels` pixels from the centre, so `(-1, -1)` is `unit_pixels` pixels up and to the
  left of it. Locations are not clipped here; a patch may fall partly or wholly outside the image,
  where it reads zeros.

The retina takes `num_scales` square patches centred on a location. Scale `i` covers
`patch_size * scale_factor**i` pixels and is reduced to `patch_size x patch_size` by averaging each
`scale_factor**i` square block (area downsampling). Patch corners snap to whole pixels: the top-left
corner of scale 0 is `round(centre - patch_size / 2)`, and every larger scale shares that centre (to
half a pixel when `patch_size * (scale_factor**i - 1)` is odd).
"""

import tensorflow as tf


def validate_retina_arguments(patch_size, num_scales, scale_factor, unit_pixels):
    """Raises `ValueError` with a clear message when a retina argument is out of range."""
    if not isinstance(patch_size, int) or patch_size < 1:
        raise ValueError(f"patch_size must be a positive integer, got {patch_size!r}")
    if not isinstance(num_scales, int) or num_scales < 1:
        raise ValueError(f"num_scales must be a positive integer, got {num_scales!r}")
    if not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"scale_factor must be a positive integer, got {scale_factor!r}")
    if not unit_pixels > 0:
        raise ValueError(f"unit_pixels must be positive, got {unit_pixels!r}")


def patch_corners(locations, image_height, image_width, patch_size, unit_pixels):
    """Integer top-left corners `(row, col)` of the scale-0 patches, shape `[batch, 2]`.

    `locations` is `[batch, 2]` as `(x, y)`; see the module docstring for the convention.
    """
    locations = tf.cast(locations, tf.float32)
    centre_col = image_width / 2.0 + locations[:, 0] * unit_pixels
    centre_row = image_height / 2.0 + locations[:, 1] * unit_pixels
    corner_row = tf.round(centre_row - patch_size / 2.0)
    corner_col = tf.round(centre_col - patch_size / 2.0)
    return tf.cast(tf.stack([corner_row, corner_col], axis=1), tf.int32)


def _selection_matrices(starts, size, patch_size, factor):
    """`[batch, patch_size, size]` matrices that average `factor` consecutive pixels into one.

    Row `p` of image `b`'s matrix holds `1 / factor` at the pixels `starts[b] + p * factor` up to
    `starts[b] + (p + 1) * factor - 1` that lie inside `[0, size)`, and zeros elsewhere, so pixels
    outside the image read as zero.
    """
    pixels = tf.range(size, dtype=tf.int32)[None, None, :]
    first = starts[:, None, None] + factor * tf.range(patch_size, dtype=tf.int32)[None, :, None]
    inside = (pixels >= first) & (pixels < first + factor)
    return tf.cast(inside, tf.float32) / float(factor)


def retina(images, locations, patch_size, num_scales, scale_factor, unit_pixels):
    """Extracts a multi-resolution glimpse around each location.

    Args:
        images: float tensor `[batch, height, width, channels]`.
        locations: `[batch, 2]` as `(x, y)` in `[-1, 1]` (see the module docstring).
        patch_size: side `g` of every returned patch, in pixels.
        num_scales: number of patches `k`, each `scale_factor` times wider than the one before.
        scale_factor: integer ratio between the sides of consecutive scales.
        unit_pixels: distance in pixels from the image centre to a location coordinate of 1.

    Returns:
        `[batch, num_scales, patch_size, patch_size, channels]`, scale 0 first.
    """
    validate_retina_arguments(patch_size, num_scales, scale_factor, unit_pixels)
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating:
        images = tf.cast(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(f"images must be [batch, height, width, channels], got shape {images.shape}")
    height = tf.shape(images)[1]
    width = tf.shape(images)[2]
    corners = patch_corners(locations, tf.cast(height, tf.float32), tf.cast(width, tf.float32),
                            patch_size, unit_pixels)
    # Each scale is rows @ image @ columns^T: the selection matrices cut the square, zero-pad it
    # where it leaves the image and average its blocks, all in two batched matrix products, which
    # run far faster on a CPU than gathers (see benchmarks/throughput.py).
    images = tf.transpose(images, [0, 3, 1, 2])  # [batch, channels, height, width]
    patches = []
    for scale in range(num_scales):
        factor = scale_factor ** scale
        margin = (patch_size * factor - patch_size) // 2
        rows = _selection_matrices(corners[:, 0] - margin, height, patch_size, factor)
        cols = _selection_matrices(corners[:, 1] - margin, width, patch_size, factor)
        patch = tf.matmul(rows[:, None], tf.matmul(images, cols[:, None], transpose_b=True))
        patches.append(tf.transpose(patch, [0, 2, 3, 1]))
    return tf.stack(patches, axis=1)
