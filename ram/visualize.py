"""Pictures of where a model looked, and accuracy curves.

Glimpse pictures are drawn with OpenCV (PNG) and Pillow (animated GIF); figures with matplotlib on
its non-interactive Agg backend, so nothing opens a window unless asked.

Colours along a path: the first glimpse green, the last red, the ones between yellow.
"""

import io
import pathlib
import re

import cv2
import numpy as np

from ram import storage

FIRST_COLOUR = (60, 200, 60)  # RGB.
MIDDLE_COLOUR = (240, 200, 40)
LAST_COLOUR = (230, 50, 50)


def step_colour(step, steps):
    if step == 0:
        return FIRST_COLOUR
    return LAST_COLOUR if step == steps - 1 else MIDDLE_COLOUR


def patch_boxes(location, image_size, config):
    """`[(top, left, side)]` in pixels for each scale of the glimpse at `location` (as the retina)."""
    x, y = (float(value) for value in location)
    centre_row = image_size / 2 + y * config.unit_pixels
    centre_col = image_size / 2 + x * config.unit_pixels
    top = int(np.round(centre_row - config.patch_size / 2))
    left = int(np.round(centre_col - config.patch_size / 2))
    boxes = []
    for scale in range(config.num_scales):
        side = config.patch_size * config.scale_factor ** scale
        margin = (side - config.patch_size) // 2
        boxes.append((top - margin, left - margin, side))
    return boxes


def to_rgb(image, size):
    """uint8 or [0, 1] float `[H, W]`, `[H, W, 1]` (grey) or `[H, W, 3]` (colour) -> uint8 RGB
    `[size, size, 3]`, nearest-neighbour."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:
        image = np.clip(image * 255.0, 0, 255).astype(np.uint8)
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_NEAREST)
    return image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)


def draw_path(image, locations, config, size=336, upto=None):
    """The image upscaled to `size` pixels with every glimpse's patch outlines, numbered in order.

    `locations` is `[T, 2]` as `(x, y)`; `upto` draws only the first `upto` steps.
    """
    canvas = to_rgb(image, size)
    pixels = size / image.shape[0]
    steps = len(locations) if upto is None else upto
    centres = []
    for step in range(steps):
        colour = step_colour(step, len(locations))
        for top, left, side in patch_boxes(locations[step], image.shape[0], config):
            start = (int(round(left * pixels)), int(round(top * pixels)))
            end = (int(round((left + side) * pixels)) - 1, int(round((top + side) * pixels)) - 1)
            cv2.rectangle(canvas, start, end, colour, 1 if step not in (0, steps - 1) else 2)
        x, y = locations[step]
        centre = (int(round((image.shape[1] / 2 + x * config.unit_pixels) * pixels)),
                  int(round((image.shape[0] / 2 + y * config.unit_pixels) * pixels)))
        centres.append(centre)
        cv2.circle(canvas, centre, 3, colour, -1)
        cv2.putText(canvas, str(step), (centre[0] + 4, centre[1] - 4), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45, colour, 1, cv2.LINE_AA)
    for a, b in zip(centres, centres[1:]):
        cv2.line(canvas, a, b, MIDDLE_COLOUR, 1, cv2.LINE_AA)
    return canvas


def draw_box(canvas, top, left, side, colour, thickness=1):
    """The outline of a `side`-pixel square whose top-left pixel is `(top, left)`, in place."""
    cv2.rectangle(canvas, (int(left), int(top)), (int(left + side) - 1, int(top + side) - 1),
                  colour, thickness)


def add_title(canvas, text):
    """A black band above `canvas` with `text` in white."""
    band = np.zeros((28, canvas.shape[1], 3), np.uint8)
    cv2.putText(band, text, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([band, canvas], axis=0)


def write_png(path, rgb):
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode {path}")
    with storage.atomic_path(path) as temporary:
        pathlib.Path(temporary).write_bytes(encoded.tobytes())


def write_gif(path, frames, milliseconds=600):
    """An endlessly looping animated GIF of RGB frames (all the same size)."""
    from PIL import Image
    images = [Image.fromarray(np.ascontiguousarray(frame)) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=milliseconds, loop=0)
    with storage.atomic_path(path) as temporary:
        pathlib.Path(temporary).write_bytes(buffer.getvalue())


def write_episode(output_dir, index, image, locations, glimpses, config, label, prediction,
                  size=336):
    """Writes every picture of one image's episode; returns the paths written.

    `image` is `[H, W, C]`; `glimpses` is `[T, k, g, g, C]`, what the retina returned at each step
    and scale; `label` and `prediction` are the names (or numbers) to print.
    """
    output_dir = pathlib.Path(output_dir)
    written = []
    title = f"true {label}  predicted {prediction}"
    path = output_dir / f"symbol_{index}.png"
    write_png(path, add_title(draw_path(image, locations, config, size), title))
    written.append(path)
    steps, scales = glimpses.shape[:2]
    for step in range(steps):
        zooms = []
        for scale in range(scales):
            zoom = to_rgb(glimpses[step, scale], 160)
            path = output_dir / f"symbol_{index}_glimpse_{step}_zoom_{scale}.png"
            write_png(path, zoom)
            written.append(path)
            zooms.append(add_title(zoom, f"step {step} zoom {scale}"))
        if scales > 1:
            path = output_dir / f"symbol_{index}_glimpse_{step}.gif"
            write_gif(path, zooms)
            written.append(path)
    frames = [add_title(draw_path(image, locations, config, size, upto=step + 1),
                        f"{title}  step {step}") for step in range(steps)]
    path = output_dir / f"symbol_{index}.gif"
    write_gif(path, frames, milliseconds=700)
    written.append(path)
    return written


# The names write_episode gives its pictures, and no others.
EPISODE_PICTURE = re.compile(r"symbol_\d+(_glimpse_\d+(_zoom_\d+)?)?\.(png|gif)")


def remove_stale_pictures(output_dir, written):
    """Deletes episode pictures in `output_dir` that this evaluation did not write; returns them.

    An earlier evaluation into the same folder, of more images or a model with more glimpses or
    scales, leaves pictures under names this one does not overwrite; they would mix two models in
    one folder. Only files named as write_episode names its pictures are touched.
    """
    keep = {pathlib.Path(path).name for path in written}
    stale = sorted(path for path in pathlib.Path(output_dir).iterdir()
                   if path.is_file() and EPISODE_PICTURE.fullmatch(path.name)
                   and path.name not in keep)
    for path in stale:
        path.unlink()
    return stale


def _pyplot(interactive=False):
    """matplotlib's pyplot, on the non-interactive Agg backend unless a window is wanted."""
    import matplotlib
    if not interactive:
        matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def write_overview(path, images, locations, glimpses, config, labels, predictions):
    """One figure: a row per image, the image with its path, then each glimpse at each scale."""
    pyplot = _pyplot()
    rows = len(images)
    steps, scales = glimpses.shape[1:3]
    columns = 1 + steps * scales
    figure, axes = pyplot.subplots(rows, columns, figsize=(1.3 * columns, 1.4 * rows), squeeze=False)
    for row in range(rows):
        axes[row, 0].imshow(draw_path(images[row], locations[row], config, 224))
        axes[row, 0].set_title(f"{labels[row]} -> {predictions[row]}", fontsize=8)
        for step in range(steps):
            for scale in range(scales):
                axis = axes[row, 1 + step * scales + scale]
                patch = glimpses[row, step, scale]
                axis.imshow(patch[..., 0] if patch.shape[-1] == 1 else np.clip(patch, 0, 1),
                            cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                if row == 0:
                    axis.set_title(f"t{step}" + (f" z{scale}" if scales > 1 else ""), fontsize=7)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    save_figure(figure, path)
    pyplot.close(figure)


def save_figure(figure, path):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    with storage.atomic_path(path) as temporary:
        pathlib.Path(temporary).write_bytes(buffer.getvalue())


def plot_accuracy(groups, path, show=False):
    """Accuracy over epochs for one or more configs.

    `groups` is `[(label, [results dict, ...])]`; each results dict is a run's `results.json`.
    Several runs of one label are drawn as their mean with a band from the lowest to the highest.
    """
    pyplot = _pyplot(interactive=show)
    # The legend goes below the axes, where it cannot hide a curve: two lines per config.
    figure, axis = pyplot.subplots(figsize=(8, 4.6 + 0.3 * len(groups)))
    colours = pyplot.rcParams["axes.prop_cycle"].by_key()["color"]
    for number, (label, runs) in enumerate(groups):
        colour = colours[number % len(colours)]
        length = min(len(run["epochs"]) for run in runs)
        epochs = np.arange(1, length + 1)
        tests = [run["test_accuracy"] for run in runs if run.get("test_accuracy") is not None]
        test_text = (f", test {100 * np.mean(tests):.2f}%" + (f" +/- {100 * np.std(tests, ddof=1):.2f}"
                     if len(tests) > 1 else "")) if tests else ""
        for key, style, name in (("validation_accuracy", "-", "validation"),
                                 ("train_accuracy", "--", "training")):
            values = np.array([[epoch[key] for epoch in run["epochs"][:length]] for run in runs])
            mean = 100 * values.mean(axis=0)
            runs_text = f" ({len(runs)} runs)" if len(runs) > 1 else ""
            axis.plot(epochs, mean, style, color=colour,
                      label=f"{label} {name}{runs_text}" + (test_text if name == "validation" else ""))
            if len(runs) > 1:
                axis.fill_between(epochs, 100 * values.min(axis=0), 100 * values.max(axis=0),
                                  color=colour, alpha=0.15)
        validation = np.array([[epoch["validation_accuracy"] for epoch in run["epochs"][:length]]
                               for run in runs]).mean(axis=0)
        best = int(np.argmax(validation))
        axis.plot(epochs[best], 100 * validation[best], "*", color=colour, markersize=12)
    games = all(run.get("config", {}).get("dataset") == "catch" for _, runs in groups for run in runs)
    measure = "catch rate" if games else "accuracy"  # Catch: the share of games caught.
    axis.set_xlabel("epoch")
    axis.set_ylabel(f"{measure} (%)")
    axis.set_title(f"Recurrent Attention Model: {measure} over epochs (star: best validation epoch)")
    lows = [100 * epoch["validation_accuracy"] for _, runs in groups for run in runs
            for epoch in run["epochs"]]
    axis.set_ylim(0.0 if games else max(0.0, min(np.percentile(lows, 10), 99.0) - 2.0), 100.2)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)
    figure.tight_layout()
    save_figure(figure, path)
    if show:
        pyplot.show()
    pyplot.close(figure)
