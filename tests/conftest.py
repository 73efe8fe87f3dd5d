"""Shared test set-up: quiet, deterministic TensorFlow on few threads.

The project is installed (`pip install -e .`, the last line of requirements.txt), so `ram` imports
from anywhere.
"""

import importlib.util
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ram import quiet  # noqa: E402

quiet.import_tensorflow()


import pytest  # noqa: E402

from ram import config as config_module  # noqa: E402


# The run modules of the paper's MNIST tasks (run_images.py needs data of its own).
MNIST_RUN_MODULES = [name for name in config_module.run_module_names() if name != "run_images"]


def load_tool(name):
    """The module of `tools/<name>.py` (the tools are scripts, not part of the package)."""
    path = pathlib.Path(__file__).resolve().parent.parent / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_config(**overrides):
    """A model small enough to train in seconds, without XLA (whose compilation would dominate)."""
    values = dict(num_glimpses=2, glimpse_hidden=16, location_hidden=8, glimpse_size=32,
                  core_size=32, location_network_hidden=16, epochs=2, batch_size=32,
                  eval_batch_size=500, test_samples=0, jit_compile=False, steps_per_execution=1)
    values.update(overrides)
    return config_module.Config(**values).validate()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One tiny trained run shared by the whole test session: `(config, folder, results)`.
    Tests read its files; a test that changes them works on a copy."""
    from ram import training
    config = tiny_config()
    output = tmp_path_factory.mktemp("tiny_run")
    results = training.train(config, output, seed=5, limit=256, verbose=0)
    return config, output, results
