"""TensorFlow and Keras, imported once without the lines TensorFlow's C++ runtime writes to stderr
on import (`ram.quiet`). Every module of the package that uses them imports them from here:

    from ram.backend import keras, tf
"""

from ram import quiet

tf = quiet.import_tensorflow()
import keras  # noqa: E402  (after TensorFlow, which the line above imported quietly)

__all__ = ["keras", "tf"]
