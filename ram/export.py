"""A trained model as a TensorFlow SavedModel that serves without this project.

The SavedModel's `serve` signature takes a batch of uint8 images `[N, H, W, C]` (pixel values
0-255, the model's own image size and channels) and returns, for one deterministic episode per
image (the policy's mean locations):

    probabilities  float32 [N, classes]   the class probabilities
    classes        int32   [N]            the most probable class
    locations      float32 [N, T, 2]      where each glimpse looked, (x, y) in [-1, 1]

Load it with `tf.saved_model.load(path).signatures["serve"]` in any Python with TensorFlow, or
serve it with TensorFlow Serving (`tensorflow_model_server --model_base_path=...`, which expects
numbered version folders: export into `.../1/`).
"""

from ram.backend import keras, tf


def serving_function(model):
    """The function the SavedModel serves: uint8 images -> probabilities, classes, locations."""

    def serve(images):
        outputs = model.rollout(images)
        probabilities = tf.nn.softmax(outputs["logits"])
        return {"probabilities": probabilities,
                "classes": tf.argmax(probabilities, axis=-1, output_type=tf.int32),
                "locations": outputs["locations"]}

    return serve


def export_saved_model(model, path):
    """Writes `model` as a SavedModel at `path` with the `serve` signature described above."""
    config = model.config
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve", serving_function(model),
        input_signature=[tf.TensorSpec([None, config.image_size, config.image_size,
                                        config.channels], tf.uint8, name="images")])
    archive.write_out(str(path), verbose=False)
