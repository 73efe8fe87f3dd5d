"""Shared test set-up: quiet, deterministic TensorFlow on few threads, and the project on sys.path."""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ram import quiet  # noqa: E402

quiet.import_tensorflow()
