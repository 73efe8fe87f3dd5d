"""The hybrid loss and the training loop of the Recurrent Attention Model.

Loss, for a batch of `B` episodes of `T` glimpses, reward `R = 1` when the class is right:

    cross_entropy = mean_B( -log p(y | x) )                              trains glimpse, core, action
    reinforce     = -mean_B( sum_T( log pi(l_t) * (R - stop_gradient(b_t)) ) )   trains location
    baseline      = mean_{B,T}( (b_t - R)^2 )                            trains baseline
    total         = cross_entropy + reinforce_weight * reinforce + baseline_weight * baseline

With `policy_trains_core`, REINFORCE also trains the core and glimpse networks (the location network
then reads an unstopped h_{t-1}), so `reinforce_weight` sets its share against the cross-entropy.

REINFORCE sums over the steps of an episode (each step's log-probability is weighted by the same
episode reward) and averages over the batch. With `episodes_per_image = M` above 1, a batch of
`batch_size` images holds `B = batch_size * M` episodes: each image is rolled out M times with its
own location noise, the Monte Carlo samples of zhongwen/RAM and tfRAM.

Two options change what REINFORCE sees (not the reported reward, which stays the accuracy):
`reward = "probability"` uses `R = p(y | x)`, the classifier's probability of the true class, and
`advantage_baseline = "episodes"` replaces `b_t` with the mean `R` of the image's other M - 1
episodes (leave-one-out); the baseline network still trains on its squared error.

`train` runs one training run in its own folder and writes `network.h5` (the weights with the best
validation accuracy), `network.json` (the config), `results.json` (per-epoch figures and the test
accuracy of the best model) and `checkpoint.h5` (everything `--resume` needs), each atomically at
the end of every epoch.
"""

import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

from ram import config as config_module
from ram import experiment
from ram import quiet
from ram import storage

tf = quiet.import_tensorflow()
import keras  # noqa: E402

from ram import data as data_module  # noqa: E402
from ram import model as model_module  # noqa: E402

NETWORK_FILE = "network.h5"
CONFIG_FILE = "network.json"
RESULTS_FILE = experiment.RESULTS_FILE
CHECKPOINT_FILE = experiment.CHECKPOINT_FILE
_METRICS = ("loss", "cross_entropy", "reinforce", "baseline_loss", "reward", "finite")


class TrainingError(RuntimeError):
    """Training cannot go on (for example a loss that became NaN)."""


def hybrid_loss(outputs, labels, config):
    """The hybrid loss terms for one batch; see the module docstring."""
    logits = outputs["logits"]
    labels = tf.cast(labels, tf.int32)
    cross_entropy = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    reward = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), tf.float32)
    if config.reward == "probability":
        # The classifier's probability of the true class: a graded reward that also tells a
        # barely right episode from a confident one.
        policy_reward = tf.stop_gradient(
            tf.gather(tf.nn.softmax(logits), labels, axis=-1, batch_dims=1))
    else:
        policy_reward = reward
    baselines = outputs["baselines"]
    if config.advantage_baseline == "episodes":
        # Leave-one-out: each episode is compared with the mean reward of the other episodes of
        # the same image (episodes are image-major), an unbiased baseline that removes how hard
        # the image is. The learned baseline still trains, for its loss and for inspection.
        episodes = config.episodes_per_image
        grouped = tf.reshape(policy_reward, [-1, episodes])
        others = (tf.reduce_sum(grouped, axis=1, keepdims=True) - grouped) / (episodes - 1)
        advantage = tf.reshape(grouped - others, [-1])[:, None]
    else:
        advantage = policy_reward[:, None] - tf.stop_gradient(baselines)
    reinforce = -tf.reduce_mean(tf.reduce_sum(outputs["log_probs"] * advantage, axis=1))
    baseline_loss = tf.reduce_mean(tf.square(baselines - policy_reward[:, None]))
    total = (cross_entropy + config.reinforce_weight * reinforce
             + config.baseline_weight * baseline_loss)
    return {"loss": total, "cross_entropy": cross_entropy, "reinforce": reinforce,
            "baseline_loss": baseline_loss, "reward": tf.reduce_mean(reward)}


def as_model_input(images):
    """Data batches (pixel values 0-255) as the model takes them: uint8 batches unchanged (the
    model scales them after its exact summed-area table of whole-number sums), any other dtype as
    float32 / 255."""
    images = tf.convert_to_tensor(images)
    return images if images.dtype == tf.uint8 else tf.cast(images, tf.float32) / 255.0


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
    """A model, its optimizer and the compiled train and eval steps for one config and seed."""

    def __init__(self, config, seed, steps_per_epoch):
        self.config = config
        self.seed = seed
        keras.utils.set_random_seed(seed)
        self.model = model_module.RecurrentAttentionModel(config, seed=seed)
        self.optimizer = make_optimizer(config, steps_per_epoch)
        self.optimizer.build(self.model.trainable_variables)
        self.train_step = tf.function(self._train_step, jit_compile=config.jit_compile)
        self.train_steps = tf.function(self._train_steps, jit_compile=config.jit_compile)
        self.eval_step = tf.function(self._eval_step, jit_compile=config.jit_compile)

    def _train_step(self, images, labels):
        images = as_model_input(images)
        # M episodes of each image, each with its own location noise (tfRAM's Monte Carlo M):
        # every loss averages over the B * M episodes.
        episodes = self.config.episodes_per_image
        if episodes > 1:
            labels = tf.repeat(labels, episodes, axis=0)
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            outputs = self.model(images, training=True, episodes=episodes)
            losses = hybrid_loss(outputs, labels, self.config)
        gradients = tape.gradient(losses["loss"], variables)
        finite = tf.math.is_finite(losses["loss"])
        for gradient in gradients:
            finite = tf.logical_and(finite, tf.reduce_all(tf.math.is_finite(gradient)))
        # A non-finite step changes no weight; the loop sees `finite` and stops the run.
        gradients = [tf.where(finite, gradient, tf.zeros_like(gradient)) for gradient in gradients]
        self.optimizer.apply_gradients(zip(gradients, variables))
        losses["finite"] = tf.cast(finite, tf.float32)
        return tf.stack([losses[name] for name in _METRICS])

    def _train_steps(self, images, labels):
        """`len(labels)` train steps in one call, on `images[k]` and `labels[k]` in turn.

        Returns one row of metrics per step, as `train_step` does. The loop stops after a
        non-finite step (whose row has `finite` 0); the rows of the steps it skipped are zeros.
        One call instead of one per batch saves Python's and TensorFlow's per-call work.
        """
        count = tf.shape(labels)[0]
        rows = tf.zeros([count, len(_METRICS)])

        def go_on(step, rows):
            last = rows[tf.maximum(step - 1, 0), -1]
            return tf.logical_and(step < count, tf.logical_or(step == 0, last > 0))

        def one_step(step, rows):
            values = self._train_step(images[step], labels[step])
            return step + 1, tf.tensor_scatter_nd_update(rows, [[step]], values[None])

        _, rows = tf.while_loop(go_on, one_step, (tf.constant(0), rows))
        return rows

    def fit_batches(self, batches):
        """Trains on `batches` of `(images, labels)`, `steps_per_execution` steps per call.

        Makes and groups the batches in a background thread, and yields each step's metrics
        (a NumPy row in `_METRICS` order) and its batch size, in order.
        """
        grouped = data_module.group_batches(batches, self.config.steps_per_execution)
        for images, labels, stacked in data_module.prefetch(grouped):
            if stacked:
                rows = self.train_steps(images, labels).numpy()
                yield from zip(rows, [labels.shape[1]] * len(rows))
            else:
                yield self.train_step(images, labels).numpy(), len(labels)

    def _eval_step(self, images, labels):
        images = as_model_input(images)
        logits = self.model(images, training=False)["logits"]
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


def machine_info():
    """What a speed or minutes figure depends on: cores, processor, platform, TensorFlow threads."""
    return {"cpu_cores": os.cpu_count(), "cpu_model": experiment.cpu_model(),
            "cpu_id": experiment.cpu_id(), "platform": platform.platform(),
            "tensorflow_threads": tf.config.threading.get_intra_op_parallelism_threads()}


def machine_line():
    """The benchmarks' one-line account of the machine: cores, processor, TensorFlow, threads."""
    return (f"{os.cpu_count()} CPU cores ({experiment.cpu_model()}, {experiment.cpu_id()}), "
            f"TensorFlow {tf.__version__}, intra-op threads "
            f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")


def library_versions():
    return {"python": platform.python_version(), "numpy": np.__version__,
            "tensorflow": tf.__version__, "keras": keras.__version__}


def _epoch_line(run_name, record, best):
    return (f"{run_name}epoch {record['epoch']:3d}  loss {record['train_loss']:.4f}  "
            f"reward {record['train_reward']:.4f}  train {record['train_accuracy']:.4f}  "
            f"val {record['validation_accuracy']:.4f}  best {best:.4f}  "
            f"lr {record['learning_rate']:.2e}  {record['seconds']:.1f}s")


def train(config, output_dir, seed=None, data_path=None, limit=None, resume=False, verbose=2,
          run_name="", dataset=None, stop_after=None):
    """Trains one run in `output_dir`; returns the results dict (also in `results.json`).

    verbose: 2 progress bar and a line per epoch, 1 a line per epoch, 0 silent.
    stop_after: stop (as if interrupted) once this epoch is saved; for tests of `resume`.
    """
    seed = config.seed if seed is None else seed
    output_dir = pathlib.Path(output_dir)
    with storage.RunLock(output_dir):
        return _train(config, output_dir, seed, data_path, limit, resume, verbose, run_name,
                      dataset, stop_after)


def _train(config, output_dir, seed, data_path, limit, resume, verbose, run_name, dataset,
           stop_after):
    checkpoint_path = output_dir / CHECKPOINT_FILE
    if not resume and any((output_dir / name).exists()
                          for name in (NETWORK_FILE, RESULTS_FILE, CHECKPOINT_FILE)):
        raise storage.StorageError(
            f"{output_dir} already holds a run; pass --resume to continue it or choose another --output")
    dataset = dataset or data_module.Dataset(config, data_path, limit)
    steps = dataset.steps_per_epoch(config.batch_size)
    trainer = Trainer(config, seed, steps)
    results = {
        "run": output_dir.name, "seed": seed, "config": config.to_dict(),
        "versions": library_versions(), "data_checksum": dataset.checksum,
        "machine": machine_info(),
        "command": " ".join(sys.argv), "train_images": dataset.num_train,
        "validation_images": len(dataset.validation_labels),
        "test_images": len(dataset.test_labels), "epochs": [], "best_epoch": None,
        "best_validation_accuracy": None, "test_accuracy": None, "test_error": None,
        "test_accuracy_sampled": None, "complete": False, "stopped": None, "train_seconds": 0.0,
    }
    best_arrays = None
    stale = 0
    from_checkpoint = resume and checkpoint_path.exists()
    if from_checkpoint:
        arrays, saved = experiment.read_checkpoint(checkpoint_path, config, seed)
        trainer.restore_state(arrays, checkpoint_path)
        best_arrays = {name[len("best/"):]: value for name, value in arrays.items()
                       if name.startswith("best/")} or None
        results = saved["results"]
        stale = saved["stale"]
    elif resume:
        # A finished run whose checkpoint is gone is finished still (never trained over).
        results = experiment.finished_results(output_dir, config, seed) or results
    # The same training fields; a report-only field (or one added since) may be new.
    results["config"] = config.to_dict()
    if results["complete"]:
        if verbose:
            print(f"{run_name}{output_dir} is already complete")
        return results
    if from_checkpoint:
        # "command" and "machine" describe the first start; each resume records its own, since a
        # resumed run may continue on another machine or with another thread count.
        results.setdefault("resumed", []).append({
            "from_epoch": len(results["epochs"]) + 1, "command": " ".join(sys.argv),
            "machine": machine_info()})
    storage.write_json(output_dir / CONFIG_FILE, config.to_dict())

    for epoch in range(len(results["epochs"]) + 1, config.epochs + 1):
        start = time.perf_counter()
        bar = keras.utils.Progbar(steps, stateful_metrics=["loss", "reward", "acc"],
                                  verbose=1 if verbose >= 2 else 0)
        sums = np.zeros(len(_METRICS))
        seen = 0
        rows = trainer.fit_batches(dataset.train_batches(epoch, seed, config.batch_size))
        for step, (values, size) in enumerate(rows):
            if values[-1] < 1:
                rows.close()
                results["stopped"] = (f"non-finite loss or gradient at epoch {epoch}, step {step + 1}; "
                                      "the last good checkpoint is kept")
                storage.write_json(output_dir / RESULTS_FILE, results)
                raise TrainingError(results["stopped"])
            sums += values * size
            seen += size
            if verbose >= 2 and (step % 10 == 0 or step == steps - 1):
                bar.update(step + 1, [("loss", sums[0] / seen), ("reward", sums[4] / seen)])
        validation = trainer.accuracy(dataset.validation_images, dataset.validation_labels)
        means = sums / seen
        record = {"epoch": epoch, "train_loss": float(means[0]),
                  "train_cross_entropy": float(means[1]), "train_reinforce": float(means[2]),
                  "train_baseline_loss": float(means[3]), "train_reward": float(means[4]),
                  # The reward is 1 exactly when the sampled-location episode classified right.
                  "train_accuracy": float(means[4]), "validation_accuracy": validation,
                  "learning_rate": trainer.learning_rate(),
                  "seconds": time.perf_counter() - start}
        results["epochs"].append(record)
        results["train_seconds"] += record["seconds"]
        best = results["best_validation_accuracy"]
        if best is None or validation > best:
            results["best_epoch"], results["best_validation_accuracy"] = epoch, validation
            best_arrays = {name: variable.numpy()
                           for name, variable in trainer.model.weight_dict().items()}
            storage.save_weights(trainer.model, output_dir / NETWORK_FILE)
            stale = 0
        else:
            stale += 1
        if verbose:  # One write per line, so lines of parallel runs never interleave.
            sys.stdout.write(_epoch_line(run_name, record, results["best_validation_accuracy"]) + "\n")
            sys.stdout.flush()
        finished = epoch == config.epochs or (config.patience and stale >= config.patience)
        if finished:
            if epoch < config.epochs:
                results["stopped"] = f"early stopping after {stale} epochs without improvement"
            storage.assign_weights(trainer.model, best_arrays, "best weights")
            test = trainer.accuracy(dataset.test_images, dataset.test_labels)
            results.update(test_accuracy=test, test_error=1.0 - test, complete=True)
            if config.test_samples:
                # The mean class probabilities of `test_samples` episodes with sampled locations,
                # their noise continuing the run's own (so a resumed run gives the same figure).
                # The deterministic figure is `test` above, from the compiled eval step.
                _, sampled = test_accuracies(trainer.model, dataset.test_images,
                                             dataset.test_labels, config.eval_batch_size,
                                             config.test_samples, deterministic=False)
                results["test_accuracy_sampled"] = sampled
        _save_checkpoint(checkpoint_path, trainer, best_arrays, results, stale, config, seed)
        storage.write_json(output_dir / RESULTS_FILE, results)
        if finished or epoch == stop_after:
            break
    if verbose:
        sampled = results.get("test_accuracy_sampled")
        print(f"{run_name}best epoch {results['best_epoch']}: validation "
              f"{results['best_validation_accuracy']:.4f}, test {results['test_accuracy']:.4f} "
              f"(error {100 * results['test_error']:.2f}%"
              + (f"; {sampled:.4f} with {config.test_samples} sampled episodes"
                 if sampled is not None else "")
              + f"), {results['train_seconds'] / 60:.1f} min", flush=True)
    return results


def _save_checkpoint(path, trainer, best_arrays, results, stale, config, seed):
    arrays = trainer.state_arrays()
    arrays.update({f"best/{name}": value for name, value in (best_arrays or {}).items()})
    state = {"config": config.to_dict(), "seed": seed, "results": results, "stale": stale}
    storage.save_arrays(path, arrays, {"state": json.dumps(state)})


def test_accuracies(model, images, labels, batch_size, samples=0, progress=None,
                    deterministic=True):
    """Accuracy of `model` on `images` with deterministic (mean) locations, and, for `samples`
    above 0, the accuracy of the mean class probabilities of `samples` rollouts whose locations are
    sampled from the policy (Monte Carlo, as the zhongwen/tfRAM re-implementations report).

    Returns `(deterministic, sampled)`; `sampled` is None when `samples` is 0, and `deterministic`
    None when `deterministic=False` (for a caller that has it already). The sampling noise comes
    from `model.seed_generator` (deterministic rollouts draw none); `progress(done)` is called
    after every batch.
    """
    @tf.function
    def rollout(batch, sample):
        return model(as_model_input(batch), sample=sample)["logits"]

    correct, correct_sampled = 0, 0
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        truth = labels[start:start + batch_size]
        if deterministic:
            correct += int((rollout(batch, False).numpy().argmax(-1) == truth).sum())
        if samples:
            probabilities = sum(tf.nn.softmax(rollout(batch, True)).numpy() for _ in range(samples))
            correct_sampled += int((probabilities.argmax(-1) == truth).sum())
        if progress:
            progress(start + len(batch))
    return (correct / len(images) if deterministic else None,
            correct_sampled / len(images) if samples else None)


def load_model(config, weights_path):
    """Builds the model for `config` and loads `network.h5` weights into it."""
    model = model_module.RecurrentAttentionModel(config, seed=0)
    storage.load_weights(model, weights_path)
    return model

