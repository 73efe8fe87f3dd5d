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

import numpy as np

from ram.backend import tf


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


# The largest table entry of a uint8 image is 255 * height * width; below 2**24 every entry, and
# every partial sum on the way to it, is an integer that float32 holds exactly.
_FLOAT32_EXACT = 2 ** 24


def summed_area_table(images):
    """`[batch, height + 1, width + 1, channels]` table: entry `(i, j)` is the sum of the pixels
    above row `i` and left of column `j`. Computed once per batch, it gives the sum of any
    rectangle from four entries, so every coarse scale costs the same, whatever its size.

    Exact either way. uint8 images of up to 65,793 pixels (256x256) get a float32 table made by two
    matrix products with triangular 0/1 matrices: every product and partial sum is an integer below
    2**24, so float32 holds it exactly, in any summation order. On 2 CPU cores this is 1.2 to 1.5
    times as fast as `tf.cumsum` under XLA and 1.5 to 2.3 times without (`tf.cumsum` takes 29 ms
    under XLA for 256 images of 100x100; `benchmarks/retina.py --table`). Larger uint8 images get
    an int32 cumsum (exact up to 8 million pixels) and other dtypes a float64 one.
    """
    images = tf.convert_to_tensor(images)
    height, width = images.shape[1], images.shape[2]
    if (images.dtype == tf.uint8 and height is not None and width is not None
            and 255 * height * width < _FLOAT32_EXACT):
        # lower[i, j] = 1 for j < i, so (lower @ x)[i] sums the rows above row i (row 0 sums none);
        # likewise (x @ upper)[:, j] sums the columns left of column j.
        lower = tf.constant(np.tril(np.ones((height + 1, height), np.float32), -1))
        upper = tf.constant(np.triu(np.ones((width, width + 1), np.float32), 1))
        channels = images.shape[3]
        # [batch * channels, height, width]: plain batched matrix products, the fastest form.
        pixels = tf.reshape(tf.transpose(tf.cast(images, tf.float32), [0, 3, 1, 2]),
                            [-1, height, width])
        table = tf.einsum("ij,njk->nik", lower, tf.einsum("nhj,jk->nhk", pixels, upper))
        return tf.transpose(tf.reshape(table, [-1, channels, height + 1, width + 1]), [0, 2, 3, 1])
    return cumsum_table(images)


def cumsum_table(images):
    """`summed_area_table` by `tf.cumsum`, for any size: int32 for uint8 images (exact up to 8
    million pixels), float64 for other dtypes."""
    images = tf.convert_to_tensor(images)
    dtype = tf.int32 if images.dtype == tf.uint8 else tf.float64
    table = tf.cumsum(tf.cumsum(tf.cast(images, dtype), axis=1), axis=2)
    return tf.pad(table, [[0, 0], [1, 0], [1, 0], [0, 0]])


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
        `[batch, num_scales, patch_size, patch_size, channels]`, scale 0 first, in the units of
        `images`: the images' float dtype, or float32 (pixel values 0-255) for uint8 images.
    """
    validate_retina_arguments(patch_size, num_scales, scale_factor, unit_pixels)
    images = tf.convert_to_tensor(images)
    if not images.dtype.is_floating and images.dtype != tf.uint8:
        images = tf.cast(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(f"images must be [batch, height, width, channels], got shape {images.shape}")
    table = summed_area_table(images) if num_scales > 1 else None
    return retina_from_table(images, table, locations, patch_size, num_scales, scale_factor,
                             unit_pixels)


def _gather_grid(flat, rows, cols, width):
    """`flat[b, rows[b, i] * width + cols[b, j], :]` for every `(i, j)`: `[batch, I, J, channels]`."""
    index = rows[:, :, None] * width + cols[:, None, :]
    shape = tf.shape(index)
    values = tf.gather(flat, tf.reshape(index, [shape[0], -1]), batch_dims=1)
    return tf.reshape(values, [shape[0], shape[1], shape[2], flat.shape[-1]])


def retina_from_table(images, table, locations, patch_size, num_scales, scale_factor, unit_pixels):
    """`retina` for images whose `summed_area_table` is already known (None for one scale).

    The model computes the table once per batch and reuses it for every glimpse. Patches come back
    in the images' float dtype, or float32 for uint8 images.
    """
    images = tf.convert_to_tensor(images)
    dtype = images.dtype if images.dtype.is_floating else tf.float32
    height = tf.shape(images)[1]
    width = tf.shape(images)[2]
    channels = images.shape[-1]
    corners = patch_corners(locations, tf.cast(height, tf.float32), tf.cast(width, tf.float32),
                            patch_size, unit_pixels)
    # Scale 0 reads its pixels directly (exactly), zero outside the image.
    offsets = tf.range(patch_size, dtype=tf.int32)
    rows = corners[:, 0, None] + offsets[None, :]
    cols = corners[:, 1, None] + offsets[None, :]
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :])
    flat = tf.reshape(images, [-1, height * width, channels])
    pixels = _gather_grid(flat, tf.clip_by_value(rows, 0, height - 1),
                          tf.clip_by_value(cols, 0, width - 1), width)
    patches = [tf.cast(pixels, dtype) * tf.cast(inside, dtype)[:, :, :, None]]
    if num_scales > 1:
        flat_table = tf.reshape(table, [-1, (height + 1) * (width + 1), channels])
        steps = tf.range(patch_size + 1, dtype=tf.int32)[None, :]
    for scale in range(1, num_scales):
        # Block (m, n) of scale `scale` sums the image over rows [r_m, r_{m+1}) and columns
        # [c_n, c_{n+1}); clipping the block edges to the image makes outside pixels count as zero.
        factor = scale_factor ** scale
        margin = (patch_size * factor - patch_size) // 2
        edges_r = tf.clip_by_value(corners[:, 0, None] - margin + factor * steps, 0, height)
        edges_c = tf.clip_by_value(corners[:, 1, None] - margin + factor * steps, 0, width)
        grid = _gather_grid(flat_table, edges_r, edges_c, width + 1)
        sums = grid[:, 1:, 1:] - grid[:, :-1, 1:] - grid[:, 1:, :-1] + grid[:, :-1, :-1]
        # The table is exact (float32 below 2**24, int32 or float64), so the differences are exact
        # too; int32 sums stay exact in float32 up to 2**24.
        sums = tf.cast(sums, tf.float32) if sums.dtype.is_integer else sums
        patches.append(tf.cast(sums / float(factor * factor), dtype))
    return tf.stack(patches, axis=1)
