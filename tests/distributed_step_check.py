"""Run by tests/test_distribute.py in a fresh process (logical devices must be configured before
TensorFlow starts): one train step under MirroredStrategy on two logical CPU devices against the
same step written out by hand on one device, with the same global batch and the same noise.

Each argument is a JSON object of config overrides; prints one JSON line per argument: the largest
weight difference and the two steps' loss terms.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ram import quiet  # noqa: E402

tf = quiet.import_tensorflow()
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

from ram import config as config_module  # noqa: E402
from ram import step as step_module  # noqa: E402


def compare(strategy, overrides):
    values = dict(num_glimpses=3, glimpse_hidden=16, location_hidden=8, glimpse_size=32,
                  core_size=32, location_network_hidden=16, batch_size=10, jit_compile=False,
                  steps_per_execution=1, runs=1, clip_norm=0.5, learning_rate=0.01)
    values.update(overrides)
    config = config_module.Config(**values).validate()
    seed = 7
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (config.batch_size, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, config.batch_size).astype(np.int32)

    mirrored = step_module.Trainer(config, seed, 100, strategy)
    single = step_module.Trainer(config, seed, 100)
    start = [np.array(weight) for weight in mirrored.model.get_weights()]
    single.model.set_weights(start)  # The same start (made the same way too).

    # The single-device reference: the whole global batch, the noise the distributed step draws
    # (stateless, from the seed and the step number), the loss's gradient clipped and applied.
    episodes = config.episodes_per_image
    noise = tf.random.stateless_normal([config.batch_size * episodes, config.num_glimpses, 2],
                                       seed=tf.constant([seed, 0], tf.int64))
    variables = single.model.trainable_variables
    with tf.GradientTape() as tape:
        reference = single._losses(tf.constant(images), tf.constant(labels), noise)
    gradients = tape.gradient(reference["loss"], variables)
    single.optimizer.apply_gradients(zip(gradients, variables))

    steps = list(mirrored.fit_batches([(images, labels)]))
    terms = mirrored.metric_values()
    # A global batch with fewer rows than replicas is skipped (one replica would have none).
    after = [np.array(weight) for weight in mirrored.model.get_weights()]
    skipped = not list(mirrored.fit_batches([(images[:1], labels[:1])])) and all(
        np.array_equal(a, b) for a, b in zip(after, mirrored.model.get_weights()))
    difference = max(float(np.max(np.abs(a - b))) for a, b in
                     zip(mirrored.model.get_weights(), single.model.get_weights()))
    mean_difference = float(np.mean(np.concatenate([
        np.abs(a - b).ravel() for a, b in zip(mirrored.model.get_weights(),
                                              single.model.get_weights())])))
    change = max(float(np.max(np.abs(a - b))) for a, b in zip(mirrored.model.get_weights(), start))
    return {
        "replicas": strategy.num_replicas_in_sync, "finite": steps == [1],
        "skipped_small_batch": skipped,
        "max_weight_difference": difference,
        "mean_weight_difference": mean_difference, "precision": config.precision, "max_weight_change": change,
        "loss": terms["loss"], "reference_loss": float(reference["loss"]),
        "gradient_norm": terms["gradient_norm"],
        "reference_gradient_norm": float(tf.linalg.global_norm(gradients)),
        "steps_done": int(mirrored.steps_done.numpy())}


def main():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    for argument in sys.argv[1:] or ["{}"]:
        print(json.dumps(compare(strategy, json.loads(argument))), flush=True)


if __name__ == "__main__":
    main()
