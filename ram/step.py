"""The compiled training and evaluation steps: a model, its optimizer and its metric trackers.

`Trainer.fit_batches` runs the train step over an epoch's batches, `steps_per_execution` steps per
call of the compiled step (a `tf.while_loop` inside it saves Python's and TensorFlow's per-call
work), and keeps one `keras.metrics.Mean` per loss term, updated inside the step and weighted by
the batch's images, as the Keras guide "Writing a training loop from scratch" does. A step whose
loss or gradient is not finite changes no weight, and the loop stops there.
"""

import numpy as np

from ram.backend import keras, tf
from ram import data as data_module
from ram import losses
from ram import model as model_module
from ram import rollout
from ram import storage


class NonFiniteStep(RuntimeError):
    """A training step whose loss or gradient was not finite (NaN or infinite)."""

    def __init__(self, step):
        super().__init__(f"non-finite loss or gradient at step {step}")
        self.step = step


def make_learning_rate(config, steps_per_epoch):
    steps = max(1, config.epochs * steps_per_epoch)
    if config.schedule == "constant":
        return config.learning_rate
    if config.schedule == "linear":
        return keras.optimizers.schedules.PolynomialDecay(
            config.learning_rate, steps, end_learning_rate=config.final_learning_rate, power=1.0)
    return keras.optimizers.schedules.CosineDecay(
        config.learning_rate, steps, alpha=config.final_learning_rate / config.learning_rate)


def make_optimizer(config, steps_per_epoch):
    learning_rate = make_learning_rate(config, steps_per_epoch)
    clip = {"global_clipnorm": config.clip_norm} if config.clip_norm > 0 else {}
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=config.momentum, **clip)
    return keras.optimizers.Adam(learning_rate, **clip)


class Trainer:
    """A model, its optimizer, its metric trackers and the compiled train and eval steps for one
    config and seed."""

    def __init__(self, config, seed, steps_per_epoch):
        self.config = config
        self.seed = seed
        keras.utils.set_random_seed(seed)
        self.model = model_module.RecurrentAttentionModel(config.model_config, seed=seed)
        self.optimizer = make_optimizer(config, steps_per_epoch)
        self.optimizer.build(self.model.trainable_variables)
        # One tracker per loss term (named as `losses.TERMS`) and for the gradient's global norm
        # before clipping: their means over the epoch so far.
        self.metrics = {name: keras.metrics.Mean(name=name)
                        for name in losses.TERMS + ("gradient_norm",)}
        self.train_step = tf.function(self._train_step, jit_compile=config.jit_compile)
        self.train_steps = tf.function(self._train_steps, jit_compile=config.jit_compile)
        self.eval_step = tf.function(self._eval_step, jit_compile=config.jit_compile)

    def _train_step(self, images, labels):
        """One step on a batch; returns whether its loss and gradients were finite."""
        images = rollout.as_model_input(images)
        weight = tf.cast(tf.shape(labels)[0], tf.float32)
        # M episodes of each image, each with its own location noise (tfRAM's Monte Carlo M):
        # every loss averages over the B * M episodes.
        episodes = self.config.episodes_per_image
        if episodes > 1:
            labels = tf.repeat(labels, episodes, axis=0)
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            outputs = self.model.rollout(images, training=True, episodes=episodes)
            terms = losses.hybrid_loss(outputs, labels, self.config)
        gradients = tape.gradient(terms["loss"], variables)
        terms["gradient_norm"] = tf.linalg.global_norm(gradients)
        finite = tf.math.is_finite(terms["loss"])
        for gradient in gradients:
            finite = tf.logical_and(finite, tf.reduce_all(tf.math.is_finite(gradient)))
        # A non-finite step changes no weight; the loop sees `finite` and stops the run.
        gradients = [tf.where(finite, gradient, tf.zeros_like(gradient)) for gradient in gradients]
        self.optimizer.apply_gradients(zip(gradients, variables))
        for name, tracker in self.metrics.items():
            tracker.update_state(terms[name], sample_weight=weight)
        return finite

    def _train_steps(self, images, labels):
        """`len(labels)` train steps in one call, on `images[k]` and `labels[k]` in turn.

        Returns `(steps, finite)`: how many steps ran, and whether the last was finite (the loop
        stops after a non-finite step).
        """
        count = tf.shape(labels)[0]

        def go_on(step, finite):
            return tf.logical_and(step < count, finite)

        def one_step(step, finite):
            return step + 1, self._train_step(images[step], labels[step])

        return tf.while_loop(go_on, one_step, (tf.constant(0), tf.constant(True)))

    def reset_metrics(self):
        for tracker in self.metrics.values():
            tracker.reset_state()

    def metric_values(self):
        """`{term: mean so far}` of the trackers, as Python floats."""
        return {name: float(tracker.result()) for name, tracker in self.metrics.items()}

    def fit_batches(self, batches, first_step=1):
        """Trains on `batches` of `(images, labels)`, `steps_per_execution` steps per call.

        Makes and groups the batches in a background thread; yields the number of steps done
        after each call. Raises `NonFiniteStep` (numbered from `first_step`) when a step's loss
        or gradient was not finite.
        """
        done = 0
        grouped = data_module.group_batches(batches, self.config.steps_per_execution)
        for images, labels, stacked in data_module.prefetch(grouped):
            if stacked:
                steps, finite = self.train_steps(images, labels)
                steps = int(steps)
            else:
                steps, finite = 1, self.train_step(images, labels)
            done += steps
            if not bool(finite):
                raise NonFiniteStep(first_step + done - 1)
            yield done

    def _eval_step(self, images, labels):
        images = rollout.as_model_input(images)
        logits = self.model.rollout(images)["logits"]
        predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return tf.reduce_sum(tf.cast(tf.equal(predictions, tf.cast(labels, tf.int32)), tf.int32))

    def accuracy(self, images, labels, batch_size=None):
        """Fraction of `images` classified right with deterministic (mean) locations."""
        batch_size = batch_size or self.config.eval_batch_size
        correct = 0
        for start in range(0, len(images), batch_size):
            correct += int(self.eval_step(images[start:start + batch_size],
                                          labels[start:start + batch_size]))
        return correct / len(images)

    def learning_rate(self):
        rate = self.optimizer.learning_rate
        return float(rate.numpy() if hasattr(rate, "numpy") else rate)

    # Checkpoint state: weights, optimizer slots and the location-noise generator.
    def state_arrays(self):
        arrays = {f"model/{name}": variable.numpy()
                  for name, variable in self.model.weight_dict().items()}
        for index, variable in enumerate(self.optimizer.variables):
            arrays[f"optimizer/{index:04d}"] = variable.numpy()
        arrays["noise_state"] = self.model.seed_generator.state.numpy()
        return arrays

    def restore_state(self, arrays, source):
        storage.assign_weights(
            self.model, {name[len("model/"):]: value for name, value in arrays.items()
                         if name.startswith("model/")}, source)
        slots = sorted(name for name in arrays if name.startswith("optimizer/"))
        if len(slots) != len(self.optimizer.variables):
            raise storage.StorageError(f"{source} was written by another optimizer")
        for name, variable in zip(slots, self.optimizer.variables):
            variable.assign(arrays[name])
        self.model.seed_generator.state.assign(arrays["noise_state"])

    def weight_arrays(self):
        """`{path: array}` copies of the model's weights (the best epoch's, for model selection)."""
        return {name: np.array(variable.numpy())
                for name, variable in self.model.weight_dict().items()}
