"""The compiled training and evaluation steps: a model, its optimizer and its metric trackers.

`Trainer.fit_batches` runs the train step over an epoch's batches, `steps_per_execution` steps per
call of the compiled step (a `tf.while_loop` inside it saves Python's and TensorFlow's per-call
work), and keeps one `keras.metrics.Mean` per loss term, updated inside the step and weighted by
the batch's images, as the Keras guide "Writing a training loop from scratch" does. A step whose
loss or gradient is not finite changes no weight, and the loop stops there.
"""

import contextlib
import re

import numpy as np

from ram.backend import keras, tf
from ram import catch
from ram import cluster
from ram import data as data_module
from ram import distribute
from ram import losses
from ram import model as model_module
from ram import rollout
from ram import storage


class WorkerLost(RuntimeError):
    """A distributed step failed because another worker of the cluster stopped or cannot be
    reached."""


# The errors a collective op raises when a worker of the cluster is gone or unreachable.
CLUSTER_ERRORS = (tf.errors.UnavailableError, tf.errors.AbortedError,
                  tf.errors.DeadlineExceededError, tf.errors.CancelledError)


def worker_lost(error):
    """A WorkerLost for a collective op's error, naming the workers it names (with their
    addresses from TF_CONFIG)."""
    try:
        workers, own = cluster.cluster_spec()
    except cluster.ClusterError:  # MirroredStrategy on one machine: no cluster to name.
        workers, own = [], None
    named = sorted({int(task) for task in re.findall(r"/job:worker(?:/replica:\d+)?/task:(\d+)",
                                                      str(error))} - {own})
    who = ", ".join(f"worker {task} ({workers[task]})" for task in named if task < len(workers))
    return WorkerLost(f"{who or 'a worker of the cluster'} stopped or cannot be reached "
                      f"({type(error).__name__}); restart every worker with --resume (the same "
                      "command and TF_CONFIG)")


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


def make_optimizer(config, steps_per_epoch, clip=True):
    """The config's optimizer; `clip=False` leaves the gradient clipping to the caller (the
    distributed step clips the gradient summed over replicas, not each replica's share)."""
    learning_rate = make_learning_rate(config, steps_per_epoch)
    clip = {"global_clipnorm": config.clip_norm} if clip and config.clip_norm > 0 else {}
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=config.momentum, **clip)
    return keras.optimizers.Adam(learning_rate, **clip)


class Trainer:
    """A model, its optimizer, its metric trackers and the compiled train and eval steps for one
    config and seed."""

    def __init__(self, config, seed, steps_per_epoch, strategy=None):
        self.config = config
        self.seed = seed
        # A tf.distribute strategy (ram/distribute.py), or None: one device, as always.
        self.strategy = strategy
        # `(index, workers)` under multiworker: this worker makes only that shard of every global
        # batch (`data.worker_batches`); None: it makes the whole batch.
        self.shard = distribute.worker_shard(config) if strategy else None
        keras.utils.set_random_seed(seed)
        # A game to play (Catch) instead of images to classify: its batches are games' starts.
        self.environment = (catch.Catch(config.image_size, config.paddle_width)
                            if config.task == "play" else None)
        with strategy.scope() if strategy else contextlib.nullcontext():
            # The layers' compute dtype: Keras's global policy, which each layer reads as it is
            # made; set for this model alone, so a model made later in the process is float32.
            previous = keras.config.dtype_policy()
            keras.config.set_dtype_policy(config.precision)
            try:
                self.model = model_module.RecurrentAttentionModel(config.model_config, seed=seed)
            finally:
                keras.config.set_dtype_policy(previous)
            self.optimizer = make_optimizer(config, steps_per_epoch, clip=strategy is None)
            self.optimizer.build(self.model.trainable_variables)
            # One tracker per loss term (named as `losses.TERMS`) and for the gradient's global
            # norm before clipping: their means over the epoch so far.
            self.metrics = {name: keras.metrics.Mean(name=name)
                            for name in losses.TERMS + ("gradient_norm",)}
            self.steps_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="steps_done")
            # The location policy's std of this epoch when it anneals (from
            # `initial_location_std`, set by `start_epoch`); None: the config's `location_std`,
            # a constant in the step. The model's own is `location_std`, the last epoch's: what
            # sampled evaluation and predict use.
            self.location_std = (tf.Variable(config.initial_location_std, dtype=tf.float32,
                                             trainable=False, name="location_std")
                                 if config.initial_location_std > 0 else None)
            # The share of the glimpse policy's gradient that reaches the core this epoch when
            # it warms up (`policy_core_gradient_warmup`, set by `start_epoch`); None: the
            # config's `policy_core_gradient`, a constant in the step.
            self.core_gradient = (tf.Variable(0.0, dtype=tf.float32, trainable=False,
                                              name="policy_core_gradient")
                                  if config.policy_core_gradient_warmup > 0 else None)
        self.eval_step = tf.function(self._eval_step, jit_compile=config.jit_compile)
        if strategy is None:
            self._one_step = self._train_step
            self.train_step = tf.function(self._train_step, jit_compile=config.jit_compile)
            self.train_steps = tf.function(self._train_steps, jit_compile=config.jit_compile)
        else:
            # XLA compiles each replica's forward and backward pass; the all-reduce around it
            # runs outside XLA.
            self._replica_gradients = tf.function(self._replica_gradients_fn,
                                                  jit_compile=config.jit_compile)
            self._one_step = self._distributed_train_step
            self.train_step = tf.function(self._distributed_train_step)
            self.train_steps = tf.function(self._train_steps)

    def _losses(self, images, labels, noise=None):
        """The loss terms of one batch: images to classify, or games (their starts) to play;
        `noise` as `RecurrentAttentionModel.rollout` takes it (default: its seed generator's)."""
        if self.environment is not None:
            outputs = self.model.play(images, self.environment, training=True,
                                      std=self.location_std, core_gradient=self.core_gradient)
            return losses.game_loss(outputs, self.config)
        images = rollout.as_model_input(images)
        # M episodes of each image, each with its own location noise (tfRAM's Monte Carlo M):
        # every loss averages over the B * M episodes.
        episodes = self.config.episodes_per_image
        if episodes > 1:
            labels = tf.repeat(labels, episodes, axis=0)
        outputs = self.model.rollout(images, training=True, episodes=episodes, noise=noise,
                                     std=self.location_std, core_gradient=self.core_gradient)
        return losses.hybrid_loss(outputs, labels, self.config)

    def _train_step(self, images, labels):
        """One step on a batch; returns whether its loss and gradients were finite."""
        weight = tf.cast(tf.shape(labels)[0], tf.float32)
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            terms = self._losses(images, labels)
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

    # ---- The distributed step (a tf.distribute strategy) -----------------------------------------
    def _replica_gradients_fn(self, images, labels, noise, share):
        """One replica's gradients of its share of the global loss, and its share of each term."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            terms = self._losses(images, labels, noise)
            terms = {name: value * share for name, value in terms.items()}
        return tape.gradient(terms["loss"], variables), terms

    def _replica_step(self, images, labels, count, offset):
        """Runs on every replica with this worker's shard (rows `offset` on) of a global batch of
        `count` rows: trains on this replica's slice, with the global batch's noise rows for it,
        and returns the global terms and finiteness."""
        config = self.config
        start, end = distribute.replica_slice(count)
        episodes = config.episodes_per_image
        # The noise of every episode of the global batch, from the run's seed and the step number
        # alone: the same on every replica, each taking its own rows (episodes are image-major).
        noise = tf.random.stateless_normal(
            tf.stack([count * episodes, config.num_glimpses, 2]),
            seed=tf.stack([tf.cast(self.seed, tf.int64), self.steps_done.read_value()]))
        share = tf.cast(end - start, tf.float32) / tf.cast(count, tf.float32)
        gradients, terms = self._replica_gradients(
            images[start - offset:end - offset], labels[start - offset:end - offset],
            noise[start * episodes:end * episodes], share)
        context = tf.distribute.get_replica_context()
        # Each replica's share is its slice's mean times its part of the batch: their sum is the
        # global batch's mean, exactly as on one device. One all-reduce of everything packed in
        # one vector: a collective per tensor would cost a message (and, between workers, threads)
        # per weight.
        names = sorted(terms)
        packed = tf.concat([tf.reshape(gradient, [-1]) for gradient in gradients]
                           + [tf.stack([terms[name] for name in names])], axis=0)
        packed = context.all_reduce(tf.distribute.ReduceOp.SUM, packed)
        variables = self.model.trainable_variables  # Their shapes are the gradients' own.
        pieces = tf.split(packed, [int(np.prod(variable.shape)) for variable in variables]
                          + [len(names)])
        gradients = [tf.reshape(piece, variable.shape) for piece, variable in zip(pieces, variables)]
        terms = dict(zip(names, tf.unstack(pieces[-1])))
        terms["gradient_norm"] = tf.linalg.global_norm(gradients)
        finite = tf.math.is_finite(terms["loss"]) & tf.math.is_finite(terms["gradient_norm"])
        if config.clip_norm > 0:
            gradients, _ = tf.clip_by_global_norm(gradients, config.clip_norm,
                                                  use_norm=terms["gradient_norm"])
        replicas = tf.cast(context.num_replicas_in_sync, tf.float32)
        # The optimizer sums the gradients over the replicas once more (Keras does so under any
        # strategy); each hands it its 1/R of the already summed gradient.
        gradients = [tf.where(finite, gradient / replicas, tf.zeros_like(gradient))
                     for gradient in gradients]
        self.optimizer.apply_gradients(zip(gradients, variables))
        return terms, finite

    def _distributed_train_step(self, images, labels, count, offset):
        terms, finite = self.strategy.run(self._replica_step, args=(images, labels, count, offset))
        # Every replica holds the same global values (all-reduced): take the first's.
        first = self.strategy.experimental_local_results
        terms = {name: first(value)[0] for name, value in terms.items()}
        finite = first(finite)[0]
        weight = tf.cast(count, tf.float32)
        for name, tracker in self.metrics.items():
            tracker.update_state(terms[name], sample_weight=weight)
        self.steps_done.assign_add(1)
        return finite

    def _train_steps(self, images, labels, *sizes):
        """`len(labels)` train steps in one call, on `images[k]` and `labels[k]` in turn (and,
        distributed, the global batches' `count` and the shard's `offset`, one for all).

        Returns `(steps, finite)`: how many steps ran, and whether the last was finite (the loop
        stops after a non-finite step).
        """
        count = tf.shape(labels)[0]

        def go_on(step, finite):
            return tf.logical_and(step < count, finite)

        def one_step(step, finite):
            return step + 1, self._one_step(images[step], labels[step], *sizes)

        return tf.while_loop(go_on, one_step, (tf.constant(0), tf.constant(True)))

    def start_epoch(self, epoch):
        """Sets what the step changes epoch by epoch: the location policy's std, linear from
        `initial_location_std` at the first epoch to `location_std` at the last, and the core's
        share of the glimpse policy's gradient, linear from 0 at the first epoch to
        `policy_core_gradient` at epoch `policy_core_gradient_warmup` + 1."""
        config = self.config
        if self.location_std is not None:
            progress = (epoch - 1) / max(1, config.epochs - 1)
            self.location_std.assign(config.initial_location_std + progress * (
                config.location_std - config.initial_location_std))
        if self.core_gradient is not None:
            progress = min(1.0, (epoch - 1) / config.policy_core_gradient_warmup)
            self.core_gradient.assign(progress * config.policy_core_gradient)

    def reset_metrics(self):
        for tracker in self.metrics.values():
            tracker.reset_state()

    def metric_values(self):
        """`{term: mean so far}` of the trackers, as Python floats."""
        return {name: float(tracker.result()) for name, tracker in self.metrics.items()}

    def fit_batches(self, batches, first_step=1):
        """Trains on `batches` of `(images, labels)`, or of `(images, labels, count)` from
        `data.worker_batches` (this worker's shard of a global batch of `count` rows),
        `steps_per_execution` steps per call.

        Makes and groups the batches in a background thread; yields the number of steps done
        after each call. Raises `NonFiniteStep` (numbered from `first_step`) when a step's loss
        or gradient was not finite. Under a strategy, a global batch with fewer rows than
        replicas (an epoch's last, at most) is skipped: a replica would have no rows to average.
        """
        done = 0
        batches = (batch if len(batch) == 3 else (*batch, len(batch[1])) for batch in batches)
        grouped = data_module.group_batches(batches, self.config.steps_per_execution)
        for images, labels, count, stacked in data_module.prefetch(grouped):
            sizes = ()
            if self.strategy is not None:
                if count < self.strategy.num_replicas_in_sync:
                    continue
                offset = data_module.share(*self.shard, count)[0] if self.shard else 0
                sizes = (tf.constant(count, tf.int32), tf.constant(offset, tf.int32))
            if stacked:
                steps, finite = self.train_steps(images, labels, *sizes)
                steps = int(steps)
            else:
                steps, finite = 1, self.train_step(images, labels, *sizes)
            done += steps
            if not bool(finite):
                raise NonFiniteStep(first_step + done - 1)
            yield done

    def _eval_step(self, images, labels):
        if self.environment is not None:  # Games caught by the greedy policy.
            rewards = self.model.play(images, self.environment)["rewards"]
            return tf.reduce_sum(tf.cast(rewards, tf.int32))
        images = rollout.as_model_input(images)
        logits = self.model.rollout(images)["logits"]
        predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return tf.reduce_sum(tf.cast(tf.equal(predictions, tf.cast(labels, tf.int32)), tf.int32))

    def accuracy(self, images, labels, batch_size=None):
        """Fraction of `images` classified right with deterministic (mean) locations (for a game:
        the fraction of games, given by their starts, that the greedy policy catches)."""
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
        arrays["steps_done"] = np.array(self.steps_done.numpy())  # The distributed noise's step.
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
        if "steps_done" in arrays:  # Checkpoints written before it existed lack it.
            self.steps_done.assign(int(arrays["steps_done"]))

    def weight_arrays(self):
        """`{path: array}` copies of the model's weights (the best epoch's, for model selection)."""
        return {name: np.array(variable.numpy())
                for name, variable in self.model.weight_dict().items()}
