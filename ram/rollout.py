"""One compiled rollout of a trained model, shared by evaluation, pictures and prediction.

The model's `call` is the only episode there is (ram/model.py); this module compiles it once per
model and batches images through it: deterministic episodes (the policy's mean locations, what a
test image gets), or the mean class probabilities of several episodes with sampled locations
(Monte Carlo, as the zhongwen/tfRAM re-implementations report).
"""

import pathlib

import numpy as np

from ram.backend import keras, tf
from ram import model as model_module
from ram import runs
from ram import storage


def as_model_input(images):
    """Data batches (pixel values 0-255) as the model takes them: uint8 batches unchanged (the
    model scales them after its exact summed-area table of whole-number sums), any other dtype as
    float32 / 255."""
    images = tf.convert_to_tensor(images)
    return images if images.dtype == tf.uint8 else tf.cast(images, tf.float32) / 255.0


def load_model(config, weights_path):
    """Builds the model for `config` and loads `network.h5` weights into it."""
    model = model_module.RecurrentAttentionModel(config, seed=0)
    storage.load_weights(model, weights_path)
    return model


class Rollout:
    """Batches images (pixel values 0-255, `[N, H, W, C]`) through one compiled episode of `model`.

    Sampled episodes draw their noise from `model.seed_generator`, so a model seeded alike gives
    the same figures.
    """

    def __init__(self, model, batch_size=1000):
        self.model = model
        self.batch_size = batch_size
        self._episode = tf.function(self._rollout)

    def _rollout(self, images, sample):
        return self.model.rollout(as_model_input(images), sample=sample)

    def episode(self, images, sample=False):
        """The model's outputs (NumPy) for one batch: logits, locations, means, ..."""
        return {name: value.numpy() for name, value in self._episode(images, sample).items()}

    def probabilities(self, images, samples=0, progress=None):
        """Class probabilities `[N, classes]`: of one deterministic episode per image, or with
        `samples` above 0 the mean of that many sampled episodes. `progress(done)` is called after
        every batch."""
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size]
            if samples:
                chunks.append(sum(tf.nn.softmax(self._episode(batch, True)["logits"]).numpy()
                                  for _ in range(samples)) / samples)
            else:
                chunks.append(tf.nn.softmax(self._episode(batch, False)["logits"]).numpy())
            if progress:
                progress(start + len(batch))
        return np.concatenate(chunks) if chunks else np.zeros((0, self.model.config.num_classes))

    def accuracies(self, images, labels, samples=0, progress=None, deterministic=True):
        """`(deterministic, sampled)` accuracy on `images`: one episode per image with the mean
        locations, and for `samples` above 0 the mean class probabilities of that many sampled
        episodes (None when not asked for). `progress(done)` is called after every batch."""
        correct, correct_sampled = 0, 0
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size]
            truth = labels[start:start + self.batch_size]
            if deterministic:
                logits = self._episode(batch, False)["logits"].numpy()
                correct += int((logits.argmax(-1) == truth).sum())
            if samples:
                probabilities = sum(tf.nn.softmax(self._episode(batch, True)["logits"]).numpy()
                                    for _ in range(samples))
                correct_sampled += int((probabilities.argmax(-1) == truth).sum())
            if progress:
                progress(start + len(batch))
        return (correct / len(images) if deterministic else None,
                correct_sampled / len(images) if samples else None)


def load_trained(path, config=None):
    """The trained model in `path`: a `network.h5` (rebuilt from `config`, default the config saved
    with it) or a `model.keras` (`keras.saving.load_model`)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise storage.StorageError(f"model file {path} does not exist")
    if path.suffix == ".keras":
        try:
            return keras.saving.load_model(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise storage.StorageError(f"{path} is not a readable RAM model.keras file "
                                       f"({error})") from None
    return load_model(config or runs.saved_config(path), path)
