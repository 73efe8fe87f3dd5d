"""The model as Keras users expect it: .keras files, model.predict, SavedModel serving, TensorBoard,
and the public `ram` surface."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import keras

import ram
from ram import config as config_module
from ram import data as data_module
from ram import model as model_module
from ram import rollout
from ram import training

from conftest import MNIST_RUN_MODULES, tiny_config

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name, overrides", [(name, []) for name in MNIST_RUN_MODULES]
                         + [("run_translated_mnist", ["glimpse_conv_filters=4"])])
def test_a_keras_file_round_trips_every_task_to_equal_outputs(tmp_path, name, overrides):
    config = config_module.config_from_module_name(name).with_overrides(overrides)
    model = model_module.RecurrentAttentionModel(config, seed=3)
    images = np.random.default_rng(0).integers(0, 256, (4, config.image_size, config.image_size,
                                                        1), dtype=np.uint8)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, model_module.RecurrentAttentionModel)
    assert loaded.config == config.model_config
    for key in ("logits", "locations", "baselines"):
        np.testing.assert_array_equal(model.rollout(images)[key].numpy(),
                                      loaded.rollout(images)[key].numpy())
    # Sampled episodes with the same seed: the noise generator's state travels in the file.
    first = model.rollout(images, sample=True)["locations"].numpy()
    again = loaded.rollout(images, sample=True)["locations"].numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, model.rollout(images)["locations"].numpy())


def test_predict_gives_the_probabilities_of_the_deterministic_episode(tiny_run):
    config, output, _ = tiny_run
    model = ram.load(output / "model.keras")
    images = data_module.Dataset(config).test_images[:50]
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (50, config.num_classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    logits = model.rollout(images)["logits"].numpy()
    np.testing.assert_allclose(probabilities, tf.nn.softmax(logits).numpy(), rtol=1e-5, atol=1e-7)
    # The same model from network.h5 predicts the same, and grey images may come without a
    # channel axis.
    other = ram.load(output / "network.h5")
    np.testing.assert_array_equal(other.predict(images[..., 0], verbose=0), probabilities)


def test_the_public_surface_trains_on_arrays_and_loads(tmp_path):
    code = "import sys, ram; print('tensorflow' in sys.modules, sorted(ram.__all__))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split()[0] == "False"  # Importing ram alone leaves TensorFlow unloaded.
    with np.load(ROOT / "data" / "mnist.npz") as archive:
        images, labels = archive["x_train"][:400], archive["y_train"][:400]
    data = ram.ArrayData(images[:300], labels[:300], images[300:] / 255.0, labels[300:])
    results = ram.train(tiny_config(epochs=1), tmp_path / "run", dataset=data, verbose=0)
    assert results["complete"] and results["train_images"] == 300
    assert results["test_images"] == 100  # The test set defaults to the validation set.
    model = ram.load(tmp_path / "run" / "model.keras")
    assert model.predict(images[300:310], verbose=0).shape == (10, 10)
    # train_shift reaches arrays too: the same seed trains on moved images, a different loss.
    moved = ram.train(tiny_config(epochs=1, train_shift=3), tmp_path / "moved", dataset=data,
                      verbose=0)
    assert moved["epochs"][0]["train_loss"] != results["epochs"][0]["train_loss"]
    # So does train_recolour, given dataset="images" (grey arrays: each image inverted or not).
    own = dict(epochs=1, dataset="images", image_size=28, channels=1, num_classes=10)
    plain = ram.train(tiny_config(**own), tmp_path / "plain", dataset=data, verbose=0)
    inverted = ram.train(tiny_config(**own, train_recolour=True), tmp_path / "inverted",
                         dataset=data, verbose=0)
    assert inverted["epochs"][0]["train_loss"] != plain["epochs"][0]["train_loss"]
    with pytest.raises(data_module.DataError, match="labels go up to 10"):
        ram.train(tiny_config(num_classes=10), tmp_path / "other",
                  dataset=ram.ArrayData(images[:20], np.arange(20) % 11, images[:5], labels[:5]))
    with pytest.raises(data_module.DataError, match="28x28, the config's image_size is 60"):
        ram.train(tiny_config(dataset="images", image_size=60), tmp_path / "third", dataset=data)


def test_an_exported_saved_model_serves_without_this_project(tiny_run, tmp_path):
    config, output, _ = tiny_run
    exported = tmp_path / "exported"
    result = subprocess.run([sys.executable, "export.py", output / "network.h5", exported],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not result.stderr
    images = data_module.Dataset(config).test_images[:20]
    np.save(tmp_path / "images.npy", images)
    # A fresh process in which `import ram` fails, as on a serving machine.
    code = ("import sys, json; sys.modules['ram'] = None; import numpy as np, tensorflow as tf; "
            f"serve = tf.saved_model.load({str(exported)!r}).signatures['serve']; "
            f"out = serve(images=tf.constant(np.load({str(tmp_path / 'images.npy')!r}))); "
            "print(json.dumps({key: value.numpy().tolist() for key, value in out.items()}))")
    served = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert served.returncode == 0, served.stderr
    outputs = json.loads(served.stdout.strip().splitlines()[-1])
    model = rollout.load_model(config, output / "network.h5")
    expected = model.rollout(images)
    np.testing.assert_allclose(outputs["probabilities"],
                               tf.nn.softmax(expected["logits"]).numpy(), rtol=1e-5, atol=1e-6)
    assert outputs["classes"] == expected["logits"].numpy().argmax(-1).tolist()
    np.testing.assert_allclose(outputs["locations"], expected["locations"].numpy(), atol=1e-6)
    # It refuses to write over a folder that holds something.
    again = subprocess.run([sys.executable, "export.py", output / "network.h5", exported],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "already exists" in again.stderr


def read_events(folder):
    """`{tag: [(step, value)]}` of every summary in the event files under `folder`."""
    events = {}
    for path in sorted(pathlib.Path(folder).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                events.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return events


def test_tensorboard_logs_every_figure_and_resume_adds_no_step_twice(tmp_path):
    config = tiny_config(epochs=3)
    training.train(config, tmp_path, seed=1, limit=128, verbose=0, stop_after=2)
    results = training.train(config, tmp_path, seed=1, limit=128, verbose=0, resume=True)
    events = read_events(tmp_path / "logs")
    for tag, key in (("loss/cross_entropy", "train_cross_entropy"),
                     ("loss/reinforce", "train_reinforce"),
                     ("loss/baseline_mse", "train_baseline_loss"), ("reward", "train_reward"),
                     ("accuracy/train", "train_accuracy"),
                     ("accuracy/validation", "validation_accuracy"),
                     ("learning_rate", "learning_rate"), ("gradient_norm", "train_gradient_norm")):
        assert [step for step, _ in events[tag]] == [1, 2, 3], tag
        np.testing.assert_allclose([float(value) for _, value in events[tag]],
                                   [epoch[key] for epoch in results["epochs"]], rtol=1e-6)
    # An image of the glimpse paths at the first epoch: [width, height, PNG bytes of each image].
    [(step, image)] = events["glimpse_paths"]
    assert step == 1 and len(image) == 2 + 4 and image[2].startswith(b"\x89PNG")
