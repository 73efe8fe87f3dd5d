"""What happens after each epoch of a run, one small observer per concern, in the spirit of Keras
callbacks: the console line and progress bar, network.h5, checkpoint.h5 and results.json.

The run loop (ram/training.py) calls, on every observer in turn:

    on_train_begin(run)                  once, after a fresh start or a resume
    on_epoch_begin(run, epoch)
    on_steps(run, steps)                 after each call of the compiled step (`steps` so far)
    on_epoch_end(run, record)            `record` is the epoch's row of results.json
    on_train_end(run)                    once, when the run is complete

`run` is the loop's `RunState`: the config, seed, folder, trainer, results so far and the best
weights. Adding a record of training (say, TensorBoard) is one new observer here.
"""

import json
import sys

import numpy as np

from ram.backend import keras, tf
from ram import rollout
from ram import runs
from ram import storage
from ram import visualize


class Observer:
    """Does nothing; subclasses override what they need."""

    def on_train_begin(self, run):
        pass

    def on_epoch_begin(self, run, epoch):
        pass

    def on_steps(self, run, steps):
        pass

    def on_epoch_end(self, run, record):
        pass

    def on_train_end(self, run):
        pass


class ProgressBar(Observer):
    """A Keras progress bar per epoch with the running loss and reward (for a terminal)."""

    def __init__(self, every=10):
        self.every = every
        self.bar = None
        self.shown = 0

    def on_epoch_begin(self, run, epoch):
        self.bar = keras.utils.Progbar(run.steps_per_epoch, stateful_metrics=["loss", "reward"])
        self.shown = 0

    def on_steps(self, run, steps):
        if steps - self.shown >= self.every or steps == run.steps_per_epoch:
            values = run.trainer.metric_values()
            self.bar.update(steps, [("loss", values["loss"]), ("reward", values["reward"])])
            self.shown = steps


class EpochLine(Observer):
    """One line per epoch, and a last line with the best epoch and the test accuracy."""

    def on_epoch_end(self, run, record):
        # One write per line, so lines of parallel runs never interleave.
        sys.stdout.write(
            f"{run.name}epoch {record['epoch']:3d}  loss {record['train_loss']:.4f}  "
            f"reward {record['train_reward']:.4f}  train {record['train_accuracy']:.4f}  "
            f"val {record['validation_accuracy']:.4f}  "
            f"best {run.results['best_validation_accuracy']:.4f}  "
            f"lr {record['learning_rate']:.2e}  {record['seconds']:.1f}s\n")
        sys.stdout.flush()

    def on_train_end(self, run):
        results = run.results
        sampled = results.get("test_accuracy_sampled")
        print(f"{run.name}best epoch {results['best_epoch']}: validation "
              f"{results['best_validation_accuracy']:.4f}, test {results['test_accuracy']:.4f} "
              f"(error {100 * results['test_error']:.2f}%"
              + (f"; {sampled:.4f} with {run.config.test_samples} sampled episodes"
                 if sampled is not None else "")
              + f"), {results['train_seconds'] / 60:.1f} min", flush=True)


class BestWeights(Observer):
    """Writes network.h5 (weights and config) and model.keras (the same model as a Keras file)
    whenever an epoch is the best so far; the model holds the best weights then."""

    def on_epoch_end(self, run, record):
        if record["epoch"] == run.results["best_epoch"]:
            storage.save_weight_arrays(run.best_arrays, run.output_dir / runs.NETWORK_FILE,
                                       run.config)
            with storage.atomic_path(run.output_dir / runs.MODEL_FILE, ".tmp.keras") as temporary:
                run.trainer.model.save(temporary)


class Checkpoint(Observer):
    """Writes checkpoint.h5: everything `--resume` needs (weights, optimizer slots, noise state,
    best weights, results so far and the early-stopping counter)."""

    def on_epoch_end(self, run, record):
        arrays = run.trainer.state_arrays()
        arrays.update({f"best/{name}": value for name, value in (run.best_arrays or {}).items()})
        state = {"config": run.config.to_dict(), "seed": run.seed, "results": run.results,
                 "stale": run.stale}
        storage.save_arrays(run.output_dir / runs.CHECKPOINT_FILE, arrays,
                            {"state": json.dumps(state)})


class ResultsFile(Observer):
    """Writes results.json after every epoch (and network.json, the config, at the start)."""

    def on_train_begin(self, run):
        storage.write_json(run.output_dir / runs.CONFIG_FILE, run.config.to_dict())

    def on_epoch_end(self, run, record):
        storage.write_json(run.output_dir / runs.RESULTS_FILE, run.results)


def default_observers(verbose):
    """The observers of a run: files and TensorBoard always; a progress bar (verbose 2) and lines
    (verbose 1+).

    Files come before the console line, so a line on the screen means its epoch is saved.
    """
    observers = [BestWeights(), Checkpoint(), ResultsFile(), TensorBoard()]
    if verbose >= 2:
        observers.insert(0, ProgressBar())
    if verbose >= 1:
        observers.append(EpochLine())
    return observers


class TensorBoard(Observer):
    """Event files under `<run folder>/logs/` for `tensorboard --logdir output/`: per epoch the three
    loss terms, the mean reward, training and validation accuracy, learning rate and gradient norm
    (step = epoch); every `image_every` epochs (and the first) the glimpse paths on `images` fixed
    validation images.

    Written after the checkpoint, so a resumed run never writes an epoch twice (a run killed
    between the two misses that epoch's events instead).
    """

    SCALARS = {"loss/cross_entropy": "train_cross_entropy", "loss/reinforce": "train_reinforce",
               "loss/baseline_mse": "train_baseline_loss", "loss/total": "train_loss",
               "reward": "train_reward", "accuracy/train": "train_accuracy",
               "accuracy/validation": "validation_accuracy", "learning_rate": "learning_rate",
               "gradient_norm": "train_gradient_norm"}

    def __init__(self, image_every=10, images=4):
        self.image_every = image_every
        self.images = images
        self.writer = None

    def on_train_begin(self, run):
        self.writer = tf.summary.create_file_writer(str(run.output_dir / runs.LOG_DIR))

    def on_epoch_end(self, run, record):
        epoch = record["epoch"]
        with self.writer.as_default(step=epoch):
            for tag, key in self.SCALARS.items():
                if key in record:
                    tf.summary.scalar(tag, record[key])
            if (self.images and run.config.task == "classify"
                    and (epoch == 1 or epoch % self.image_every == 0)):
                tf.summary.image("glimpse_paths", self.pictures(run), max_outputs=self.images)
        self.writer.flush()

    def pictures(self, run):
        """`[images, size, size, 3]` uint8: the first validation images with their glimpse paths."""
        images = run.dataset.validation_images[:self.images]
        locations = rollout.Rollout(run.trainer.model).episode(images)["locations"]
        return np.stack([visualize.draw_path(image, path, run.config, size=168)
                         for image, path in zip(images, locations)])

    def on_train_end(self, run):
        self.writer.close()
