"""The run loop: one training run in its own folder, from a fresh start or a checkpoint.

Per epoch: train on the data source's batches (ram/step.py), measure validation accuracy, keep the
weights of the best validation epoch (model selection), decide early stopping, and hand the epoch's
record to the observers (ram/observers.py), which write `network.h5` (the best weights),
`network.json` (the config), `results.json` (per-epoch figures and the test accuracy of the best
model) and `checkpoint.h5` (everything `--resume` needs), each atomically, and print progress.
When the run ends, the best weights are scored on the test set.

The data source is anything with `train_batches(epoch, seed, batch_size)` (yields
`(images, labels)` batches, pixel values 0-255; with a `shard=(index, workers)` argument, only that
worker's rows of each, else a multiworker run makes whole batches and keeps its rows),
`steps_per_epoch(batch_size)`, `num_train`,
fixed `validation_images`/`validation_labels` and `test_images`/`test_labels`, and `checksum`:
ram/data.py's `Dataset` for MNIST and the canvases made from it.
"""

import contextlib
import dataclasses
import pathlib
import sys
import time

from ram import cluster
from ram import data
from ram import distribute
from ram import observers as observers_module
from ram import play
from ram import rollout
from ram import runs
from ram import sources
from ram import step as step_module
from ram import storage


class TrainingError(RuntimeError):
    """Training cannot go on (for example a loss that became NaN)."""


@dataclasses.dataclass
class RunState:
    """What the run loop and its observers share."""

    config: object
    seed: int
    output_dir: pathlib.Path
    trainer: step_module.Trainer
    dataset: object
    results: dict
    name: str = ""
    best_arrays: dict = None
    stale: int = 0  # Epochs since the best validation accuracy.

    @property
    def steps_per_epoch(self):
        return self.dataset.steps_per_epoch(self.config.batch_size)


def train(config, output_dir, seed=None, data_path=None, limit=None, resume=False, verbose=2,
          run_name="", dataset=None, stop_after=None, observers=None):
    """Trains one run in `output_dir`; returns the results dict (also in `results.json`).

    verbose: 2 progress bar and a line per epoch, 1 a line per epoch, 0 silent.
    stop_after: stop (as if interrupted) once this epoch is saved; for tests of `resume`.
    observers: replaces the default observers (`observers.default_observers(verbose)`).
    """
    seed = config.seed if seed is None else seed
    output_dir = pathlib.Path(output_dir)
    # Under tf.distribute, made before any other TensorFlow work (MultiWorkerMirroredStrategy
    # asks for that); only the chief writes the run's files, the other workers nothing.
    strategy = distribute.make_strategy(config)
    chief = cluster.is_chief(config)
    with storage.RunLock(output_dir) if chief else contextlib.nullcontext():
        if chief and not resume and (runs.holds_run(output_dir)
                                     or (output_dir / runs.NETWORK_FILE).exists()):
            raise storage.StorageError(
                f"{output_dir} already holds a run; pass --resume to continue it or choose another "
                "--output")
        if dataset is None:
            dataset, config = sources.open_data(config, data_path, limit)
        elif hasattr(dataset, "check"):
            dataset.check(config)
        if config.train_shift and hasattr(dataset, "shifted"):  # MNIST's canvases shift themselves.
            dataset = dataset.shifted(config.train_shift)
        if config.train_recolour:
            dataset = dataset.recoloured()
        trainer = step_module.Trainer(config, seed, dataset.steps_per_epoch(config.batch_size),
                                      strategy)
        run = RunState(config, seed, output_dir, trainer, dataset, new_results(config, seed,
                                                                               output_dir, dataset),
                       name=run_name)
        if resume:
            _resume(run)
        if run.results["complete"]:
            if verbose:
                print(f"{run_name}{output_dir} is already complete")
            return run.results
        if observers is None:
            observers = observers_module.default_observers(verbose) if chief else []
        try:
            _loop(run, observers, stop_after)
        except step_module.CLUSTER_ERRORS as error:
            if strategy is None:
                raise
            raise step_module.worker_lost(error) from None  # The checkpoint stays for --resume.
        return run.results


def new_results(config, seed, output_dir, dataset):
    """The results.json of a run that has not trained yet."""
    return {
        "run": output_dir.name, "seed": seed, "config": config.to_dict(),
        "versions": runs.library_versions(), "data_checksum": dataset.checksum,
        "machine": runs.machine_info(), "command": " ".join(sys.argv),
        "train_images": dataset.num_train, "validation_images": len(dataset.validation_labels),
        "test_images": len(dataset.test_labels), "epochs": [], "best_epoch": None,
        "best_validation_accuracy": None, "test_accuracy": None, "test_error": None,
        "test_accuracy_sampled": None, "complete": False, "stopped": None, "train_seconds": 0.0,
    }


def _resume(run):
    """Restores the run's state from its checkpoint, or takes a finished run's results."""
    checkpoint = run.output_dir / runs.CHECKPOINT_FILE
    if checkpoint.exists():
        arrays, saved = runs.read_checkpoint(checkpoint, run.config, run.seed)
        run.trainer.restore_state(arrays, checkpoint)
        run.best_arrays = {name[len("best/"):]: value for name, value in arrays.items()
                           if name.startswith("best/")} or None
        run.results, run.stale = saved["results"], saved["stale"]
        if not run.results["complete"]:
            # "command" and "machine" describe the first start; each resume records its own,
            # since a resumed run may continue on another machine or thread count.
            run.results.setdefault("resumed", []).append({
                "from_epoch": len(run.results["epochs"]) + 1, "command": " ".join(sys.argv),
                "machine": runs.machine_info()})
    else:
        # A finished run whose checkpoint is gone is finished still (never trained over).
        run.results = runs.finished_results(run.output_dir, run.config, run.seed) or run.results
    # The same training fields; a report-only field (or one added since) may be new.
    run.results["config"] = run.config.to_dict()
    # The run is named by the folder it is in now: one made alone may join an experiment.
    run.results["run"] = run.output_dir.name


def _loop(run, observers, stop_after):
    config, results = run.config, run.results
    for observer in observers:
        observer.on_train_begin(run)
    for epoch in range(len(results["epochs"]) + 1, config.epochs + 1):
        record = _train_epoch(run, epoch, observers)
        results["epochs"].append(record)
        results["train_seconds"] += record["seconds"]
        best = results["best_validation_accuracy"]
        if best is None or record["validation_accuracy"] > best:
            results["best_epoch"] = epoch
            results["best_validation_accuracy"] = record["validation_accuracy"]
            run.best_arrays = run.trainer.weight_arrays()
            run.stale = 0
        else:
            run.stale += 1
        finished = epoch == config.epochs or bool(config.patience and run.stale >= config.patience)
        if finished:
            if epoch < config.epochs:
                results["stopped"] = f"early stopping after {run.stale} epochs without improvement"
            _test(run)
        for observer in observers:
            observer.on_epoch_end(run, record)
        if finished:
            for observer in observers:
                observer.on_train_end(run)
            break
        if epoch == stop_after:
            break


def _train_epoch(run, epoch, observers):
    """Trains one epoch and measures validation accuracy; returns the epoch's record."""
    start = time.perf_counter()
    trainer = run.trainer
    trainer.reset_metrics()
    trainer.start_epoch(epoch)
    for observer in observers:
        observer.on_epoch_begin(run, epoch)
    # Under multiworker, this worker's shard of every global batch (all of it otherwise).
    batches = data.worker_batches(run.dataset, epoch, run.seed, run.config.batch_size, trainer.shard)
    try:
        for steps in trainer.fit_batches(batches):
            for observer in observers:
                observer.on_steps(run, steps)
    except step_module.NonFiniteStep as error:
        run.results["stopped"] = (f"non-finite loss or gradient at epoch {epoch}, step {error.step}; "
                                  "the last good checkpoint is kept")
        storage.write_json(run.output_dir / runs.RESULTS_FILE, run.results)
        raise TrainingError(run.results["stopped"]) from None
    metrics = trainer.metric_values()
    validation = trainer.accuracy(run.dataset.validation_images, run.dataset.validation_labels)
    return {"epoch": epoch, "train_loss": metrics["loss"],
            "train_cross_entropy": metrics["cross_entropy"],
            "train_reinforce": metrics["reinforce"],
            "train_baseline_loss": metrics["baseline_loss"], "train_reward": metrics["reward"],
            "train_gradient_norm": metrics["gradient_norm"],
            # The reward is 1 exactly when the sampled-location episode classified right.
            "train_accuracy": metrics["reward"], "validation_accuracy": validation,
            "learning_rate": trainer.learning_rate(), "seconds": time.perf_counter() - start}


def _test(run):
    """Scores the best weights on the test set: one deterministic episode per image, and with
    `test_samples` the mean class probabilities of that many sampled episodes, their noise
    continuing the run's own (so a resumed run gives the same figure)."""
    trainer, dataset, config = run.trainer, run.dataset, run.config
    storage.assign_weights(trainer.model, run.best_arrays, "best weights")
    if config.task == "play":
        _test_games(run)
        return
    test = trainer.accuracy(dataset.test_images, dataset.test_labels)
    run.results.update(test_accuracy=test, test_error=1.0 - test, complete=True)
    if config.test_samples:
        _, sampled = rollout.Rollout(trainer.model, config.eval_batch_size).accuracies(
            dataset.test_images, dataset.test_labels, config.test_samples, deterministic=False)
        run.results["test_accuracy_sampled"] = sampled


def _test_games(run):
    """Scores the best weights on the fixed test games: the catch rate of the greedy policy (the
    run's test accuracy), of the sampled policy (its sampled accuracy), and how often the ball
    lay in the glimpse's finest patch in the last frames and frame by frame; and, for comparison,
    the same games' catch rates of the reference agents (ram/play.py)."""
    starts = run.dataset.test_images
    figures = play.Player(run.trainer.model, run.config, run.config.eval_batch_size).catch_rates(
        starts, sampled=bool(run.config.test_samples))
    run.results.update(test_accuracy=figures["catch_rate"], test_error=1.0 - figures["catch_rate"],
                       test_accuracy_sampled=figures.get("catch_rate_sampled"),
                       ball_in_centre=figures["ball_in_centre"],
                       ball_in_centre_by_frame=figures["ball_in_centre_by_frame"],
                       reference_agents=play.reference_rates(run.config, starts, run.seed),
                       complete=True)
