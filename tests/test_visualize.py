"""Glimpse pictures and GIFs: every file written, valid, of the expected size and frame count."""

import cv2
import numpy as np
from PIL import Image

from ram import config as config_module
from ram import visualize


def episode(scales=3, steps=4, size=60):
    config = config_module.Config(dataset="translated", image_size=size, patch_size=12,
                                  num_scales=scales, num_glimpses=steps, unit_pixels=26.0).validate()
    rng = np.random.default_rng(0)
    image = np.zeros((size, size), np.float32)
    image[20:40, 25:35] = 1.0
    locations = rng.uniform(-0.8, 0.8, (steps, 2)).astype(np.float32)
    glimpses = rng.uniform(0, 1, (steps, scales, 12, 12, 1)).astype(np.float32)
    return config, image, locations, glimpses


def test_every_episode_file_is_a_valid_nonblank_image(tmp_path):
    config, image, locations, glimpses = episode()
    written = visualize.write_episode(tmp_path, 0, image, locations, glimpses, config, 3, 5)
    names = {path.name for path in written}
    expected = {"symbol_0.png", "symbol_0.gif"}
    expected |= {f"symbol_0_glimpse_{t}_zoom_{k}.png" for t in range(4) for k in range(3)}
    expected |= {f"symbol_0_glimpse_{t}.gif" for t in range(4)}
    assert names == expected
    assert {path.name for path in tmp_path.iterdir()} == expected  # No temporary files left.
    path_image = cv2.imread(str(tmp_path / "symbol_0.png"))
    assert path_image.shape == (336 + 28, 336, 3) and path_image.std() > 0
    zoom = cv2.imread(str(tmp_path / "symbol_0_glimpse_2_zoom_1.png"), cv2.IMREAD_GRAYSCALE)
    assert zoom.shape == (160, 160)
    # Upscaled without smoothing: every glimpse pixel becomes a block of its own value.
    pixels = (glimpses[2, 1, :, :, 0] * 255).astype(np.uint8)
    np.testing.assert_array_equal(zoom, cv2.resize(pixels, (160, 160),
                                                   interpolation=cv2.INTER_NEAREST))
    assert set(np.unique(zoom)) == set(np.unique(pixels))
    with Image.open(tmp_path / "symbol_0.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (336, 364)
    with Image.open(tmp_path / "symbol_0_glimpse_1.gif") as gif:
        assert gif.n_frames == 3


def test_one_scale_writes_no_zoom_gif(tmp_path):
    config, image, locations, glimpses = episode(scales=1)
    names = {path.name for path in visualize.write_episode(tmp_path, 2, image, locations, glimpses,
                                                           config, 1, 1)}
    assert not any(name.startswith("symbol_2_glimpse_") and name.endswith(".gif") for name in names)


def test_the_drawn_path_moves_with_the_locations():
    config, image, locations, _ = episode()
    first = visualize.draw_path(image, locations, config)
    moved = visualize.draw_path(image, locations * -1, config)
    same = visualize.draw_path(image, locations.copy(), config)
    assert not np.array_equal(first, moved)
    np.testing.assert_array_equal(first, same)


def test_boxes_match_the_retina_geometry():
    config = config_module.Config(patch_size=8, num_scales=2, unit_pixels=4.0)
    # Centre (14, 14) + (1, -1) * 4 = column 18, row 10: the 8x8 box starts at row 6, column 14.
    assert visualize.patch_boxes((1.0, -1.0), 28, config) == [(6, 14, 8), (2, 10, 16)]


def test_overview_figure(tmp_path):
    config, image, locations, glimpses = episode(scales=2, steps=3)
    visualize.write_overview(tmp_path / "glimpses.png", np.stack([image, image]),
                             np.stack([locations, locations]), np.stack([glimpses, glimpses]),
                             config, [1, 2], [1, 3])
    figure = cv2.imread(str(tmp_path / "glimpses.png"))
    assert figure is not None and figure.shape[1] > figure.shape[0] and figure.std() > 0
