"""Imports TensorFlow without the lines its C++ runtime writes to stderr on import."""

import contextlib
import os
import sys


@contextlib.contextmanager
def silenced_stderr():
    """Points file descriptor 2 at /dev/null for the duration (C++ logging bypasses sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow(threads=None):
    """Imports TensorFlow quietly, optionally limited to `threads` CPU threads; returns the module."""
    already = "tensorflow" in sys.modules
    with silenced_stderr():
        import tensorflow as tf
        import keras  # noqa: F401  (Keras prints through the same channel on first import)
    tf.get_logger().setLevel("ERROR")
    if threads and not already:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf
