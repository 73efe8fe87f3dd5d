"""Recurrent Attention Model (Mnih, Heess, Graves and Kavukcuoglu, NIPS 2014) in Keras 3.

Importing `ram` does not import TensorFlow; `ram.quiet.import_tensorflow()` does, without the log
noise TensorFlow prints on import.
"""

import os

# TensorFlow reads these when it is first imported; set them before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
