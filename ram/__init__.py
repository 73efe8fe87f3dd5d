"""Recurrent Attention Model (Mnih, Heess, Graves and Kavukcuoglu, NIPS 2014) in Keras 3.

The public surface, for notebooks and scripts:

    ram.Config, ram.ModelConfig        every hyperparameter (ram/config.py)
    ram.RecurrentAttentionModel        the model, a Keras model (ram/model.py)
    ram.ArrayData                      a data source from arrays in memory (ram/data.py)
    ram.train(config, folder, dataset) one training run; returns its results (ram/training.py)
    ram.load(path)                     a trained model from network.h5 or model.keras
    ram.retina(images, locations, ...) the glimpse sensor (ram/glimpse.py)

For example, on arrays of 28x28 images:

    import ram
    config = ram.Config(epochs=5, test_samples=0)
    data = ram.ArrayData(x_train, y_train, x_validation, y_validation)
    results = ram.train(config, "output/notebook", dataset=data)
    model = ram.load("output/notebook/model.keras")
    probabilities = model.predict(x_new)                  # [N, classes], deterministic episode
    locations = model.rollout(x_new)["locations"]         # [N, T, 2], where it looked

Importing `ram` does not import TensorFlow; the names above that need it load it on first use.
"""

import importlib
import os

# TensorFlow reads these when it is first imported; set them before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.2.0"

# Public name -> (module, attribute), imported on first use (PEP 562).
_PUBLIC = {
    "Config": ("ram.config", "Config"),
    "ModelConfig": ("ram.config", "ModelConfig"),
    "ArrayData": ("ram.data", "ArrayData"),
    "RecurrentAttentionModel": ("ram.model", "RecurrentAttentionModel"),
    "retina": ("ram.glimpse", "retina"),
    "train": ("ram.training", "train"),
    "load": ("ram.rollout", "load_trained"),
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'ram' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__():
    return sorted(list(globals()) + __all__)
