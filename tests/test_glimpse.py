"""The retina against a hand-written NumPy reference, and the coordinate convention."""

import numpy as np
import pytest

from ram import glimpse


def reference_retina(images, locations, patch_size, num_scales, scale_factor, unit_pixels):
    """Pixel loops, written from the docstring of ram.glimpse, not from its code."""
    batch, height, width, channels = images.shape
    out = np.zeros((batch, num_scales, patch_size, patch_size, channels), np.float32)
    for b in range(batch):
        x, y = locations[b]
        centre_row = height / 2 + y * unit_pixels
        centre_col = width / 2 + x * unit_pixels
        top0 = int(np.round(centre_row - patch_size / 2))
        left0 = int(np.round(centre_col - patch_size / 2))
        for scale in range(num_scales):
            factor = scale_factor ** scale
            side = patch_size * factor
            top = top0 - (side - patch_size) // 2
            left = left0 - (side - patch_size) // 2
            big = np.zeros((side, side, channels), np.float32)
            for r in range(side):
                for c in range(side):
                    if 0 <= top + r < height and 0 <= left + c < width:
                        big[r, c] = images[b, top + r, left + c]
            for r in range(patch_size):
                for c in range(patch_size):
                    block = big[r * factor:(r + 1) * factor, c * factor:(c + 1) * factor]
                    out[b, scale, r, c] = block.mean(axis=(0, 1))
    return out


def test_scale_zero_is_exact_pixels_at_whole_pixel_location():
    image = np.arange(28 * 28, dtype=np.float32).reshape(1, 28, 28, 1)
    # Centre (14, 14) + (x, y) * 4 = column 18, row 10; an 8x8 patch then starts at row 6, column 14.
    patch = glimpse.retina(image, np.array([[1.0, -1.0]], np.float32), 8, 1, 2, 4.0).numpy()
    np.testing.assert_array_equal(patch[0, 0, :, :, 0], image[0, 6:14, 14:22, 0])


def test_centre_location_reads_the_middle_of_the_image():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 12:16, 12:16, 0] = 1.0
    patch = glimpse.retina(image, np.zeros((1, 2), np.float32), 4, 1, 2, 13.0).numpy()
    np.testing.assert_array_equal(patch[0, 0, :, :, 0], np.ones((4, 4)))


def test_x_moves_along_columns_and_y_along_rows():
    image = np.zeros((2, 28, 28, 1), np.float32)
    image[:, 2, 20, 0] = 1.0  # Top right.
    top_right = np.array([[0.5, -0.8], [-0.5, 0.8]], np.float32)
    patch = glimpse.retina(image, top_right, 6, 1, 2, 13.0).numpy()
    assert patch[0].sum() == 1.0  # x > 0 looks right, y < 0 looks up.
    assert patch[1].sum() == 0.0


@pytest.mark.parametrize("patch_size, num_scales, scale_factor, unit_pixels", [
    (8, 1, 2, 13.0), (4, 3, 2, 13.0), (5, 2, 3, 10.0), (6, 3, 2, 26.0)])
def test_matches_numpy_reference_including_patches_outside_the_image(
        patch_size, num_scales, scale_factor, unit_pixels):
    rng = np.random.default_rng(0)
    images = rng.random((6, 30, 26, 2)).astype(np.float32)
    # Corners and beyond: these patches fall partly (or wholly) outside the image.
    locations = np.array([[-1, -1], [1, 1], [0.9, -0.95], [0.13, 0.37], [0, 0], [-1.3, 1.2]],
                         np.float32)
    expected = reference_retina(images, locations, patch_size, num_scales, scale_factor, unit_pixels)
    actual = glimpse.retina(images, locations, patch_size, num_scales, scale_factor,
                            unit_pixels).numpy()
    assert actual.shape == (6, num_scales, patch_size, patch_size, 2)
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
    # The random image has no exact zeros, so zeros in a patch come only from outside the image.
    partly_outside = [(patch == 0).any() and (patch != 0).any() for patch in actual[:, -1]]
    assert any(partly_outside)


@pytest.mark.parametrize("patch_size, num_scales, scale_factor, unit_pixels", [
    (8, 1, 2, 13.0), (6, 3, 2, 26.0), (5, 2, 3, 10.0)])
def test_uint8_images_use_an_exact_integer_table_and_match_the_reference(
        patch_size, num_scales, scale_factor, unit_pixels):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 30, 26, 1)).astype(np.uint8)
    locations = np.array([[-1, -1], [1, 1], [0.9, -0.95], [0.13, 0.37], [0, 0], [-1.3, 1.2]],
                         np.float32)
    table = glimpse.summed_area_table(images).numpy()
    assert table.dtype == np.float32
    assert table[:, -1, -1, 0].tolist() == images.sum(axis=(1, 2, 3)).tolist()
    actual = glimpse.retina(images, locations, patch_size, num_scales, scale_factor,
                            unit_pixels).numpy()
    assert actual.dtype == np.float32
    expected = reference_retina(images.astype(np.float64), locations, patch_size, num_scales,
                                scale_factor, unit_pixels)
    # Block means of integers: exact up to float32 rounding of the final division.
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=0)


def reference_table(images):
    """Entry (i, j): the sum of the pixels above row i and left of column j, in int64."""
    sums = images.astype(np.int64).cumsum(axis=1).cumsum(axis=2)
    return np.pad(sums, [(0, 0), (1, 0), (1, 0), (0, 0)])


@pytest.mark.parametrize("shape, dtype", [
    ((3, 31, 17, 2), np.float32),     # small images, two channels: float32 products
    ((2, 256, 256, 1), np.float32),   # the largest the float32 products take: sums up to 2**24
    ((1, 300, 300, 1), np.int32)])    # sums past 2**24: an int32 cumsum
def test_the_summed_area_table_of_uint8_images_is_exact(shape, dtype):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, shape).astype(np.uint8)
    images[0] = 255  # the largest sums a table can meet
    table = glimpse.summed_area_table(images).numpy()
    assert table.dtype == dtype
    np.testing.assert_array_equal(table.astype(np.int64), reference_table(images))


def test_area_downsampling_averages_blocks():
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, 0:2, 0:2, 0] = [[1, 2], [3, 4]]
    # Scale 1 of a 4x4 patch at the centre covers the whole 8x8 image in 2x2 blocks.
    patches = glimpse.retina(image, np.zeros((1, 2), np.float32), 4, 2, 2, 1.0).numpy()
    assert patches[0, 1, 0, 0, 0] == pytest.approx(2.5)
    assert patches[0, 1, 1:, :, 0].sum() == 0


@pytest.mark.parametrize("arguments", [(0, 1, 2, 1.0), (8, 0, 2, 1.0), (8, 1, 1.5, 1.0),
                                       (8, 1, 2, 0.0)])
def test_rejects_bad_arguments(arguments):
    with pytest.raises(ValueError):
        glimpse.retina(np.zeros((1, 28, 28, 1), np.float32), np.zeros((1, 2), np.float32),
                       *arguments)
