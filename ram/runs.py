"""Run folders without TensorFlow: their file names, the checks before a run resumes, and the
machine a run trained on.

Everything here is read by the parent process of an experiment (which never imports TensorFlow)
as well as by each training process, so it sits low in the package and imports only `config` and
`storage`.
"""

import importlib.metadata
import json
import os
import pathlib
import platform
import sys
import zipfile

from ram import config as config_module
from ram import storage

NETWORK_FILE = "network.h5"  # The weights with the best validation accuracy (and the config).
MODEL_FILE = "model.keras"  # The same model as a Keras file (`keras.saving.load_model`).
CONFIG_FILE = "network.json"  # The config that rebuilds the model and its data.
RESULTS_FILE = "results.json"  # Per-epoch figures, the test accuracy, seed, versions, machine.
CHECKPOINT_FILE = "checkpoint.h5"  # Everything `--resume` needs.
SUMMARY_FILE = "summary.json"  # An experiment's runs, with their mean and standard deviation.
LOG_DIR = "logs"  # TensorBoard event files, one folder per run.


def run_dir(output_dir, index):
    return pathlib.Path(output_dir) / f"run_{index}"


# ------------------------------------------------------------------------------------------------
# The machine.
def _cpuinfo(path="/proc/cpuinfo"):
    """The first processor's fields in /proc/cpuinfo (`{"model name": ..., "flags": ...}`), or {}
    where there is no such file."""
    fields = {}
    try:
        with open(path, encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if not line.strip():  # The first processor's block ends at a blank line.
                    break
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return {}
    return fields


def cpu_model():
    """The processor's name (`model name` in /proc/cpuinfo on Linux), or "unknown"."""
    return _cpuinfo().get("model name") or platform.processor() or "unknown"


def cpu_id(cpuinfo_path="/proc/cpuinfo"):
    """What tells processors of one name apart: `cpu family` and `model` from /proc/cpuinfo and
    the widest vector units, e.g. "family 25 model 17, AVX-512 BF16" (two "AMD EPYC" machines
    here differ by 1.8 times in speed); "unknown" off Linux."""
    fields = _cpuinfo(cpuinfo_path)
    if not fields:
        return "unknown"
    flags = set(fields.get("flags", "").split())
    units = [name for flag, name in (("avx512f", "AVX-512"), ("avx512_bf16", "BF16"),
                                     ("amx_tile", "AMX")) if flag in flags]
    if not units:
        units = ["AVX2"] if "avx2" in flags else []
    text = f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
    return f"{text}, {' '.join(units)}" if units else text


def tensorflow_threads():
    """TensorFlow's intra-op thread setting (0 = its default), or None where it is not loaded."""
    tf = sys.modules.get("tensorflow")
    return tf.config.threading.get_intra_op_parallelism_threads() if tf else None


def machine_info():
    """What a speed or minutes figure depends on: cores, processor, platform, TensorFlow threads."""
    return {"cpu_cores": os.cpu_count(), "cpu_model": cpu_model(), "cpu_id": cpu_id(),
            "platform": platform.platform(), "tensorflow_threads": tensorflow_threads()}


def machine_line():
    """The benchmarks' one-line account of the machine: cores, processor, TensorFlow, threads."""
    return (f"{os.cpu_count()} CPU cores ({cpu_model()}, {cpu_id()}), TensorFlow "
            f"{library_versions()['tensorflow']}, intra-op threads {tensorflow_threads() or 'default'}")


def library_versions():
    versions = {"python": platform.python_version()}
    for name in ("numpy", "tensorflow", "keras"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# ------------------------------------------------------------------------------------------------
# Resuming.
def check_same_training(source, saved_config, saved_seed, config, seed):
    """A run saved in `source` with `saved_config` (a dict) and `saved_seed` may go on as a run of
    `config` and `seed` only with the same seed and training fields (a field added since it was
    saved counts as its default); otherwise a StorageError names the values that differ."""
    try:
        saved = config_module.Config.from_dict(saved_config)
    except (config_module.ConfigError, TypeError) as error:
        raise storage.StorageError(f"{source} holds a config this version cannot read: {error}") from None
    # The config's seed is the experiment's first; what a run learns depends on its own seed
    # (run i: seed + i), so run 2 of `--seed 0` may be a run made alone with `--seed 2`.
    differing = [(name, old, new) for name, old, new in saved.differences(config)
                 if name not in config_module.NON_TRAINING_FIELDS + ("seed",)]
    if saved_seed != seed:
        differing.append(("seed", saved_seed, seed))
    if differing:
        raise storage.StorageError(
            f"{source} was written with " + ", ".join(f"{name}={old!r}" for name, old, _ in differing)
            + ", not " + ", ".join(f"{name}={new!r}" for name, _, new in differing)
            + "; resume with the same values")


def read_checkpoint(path, config, seed, arrays=True):
    """`({name: array}, state)` of the checkpoint at `path`, once it is known that a run of `config`
    and `seed` may resume from it. With `arrays=False` only the state is read."""
    loaded, attributes = storage.load_arrays(path, "checkpoint", attributes_only=not arrays)
    try:
        state = json.loads(attributes["state"])
        saved_config, saved_seed = state["config"], state["seed"]
    except (KeyError, TypeError, json.JSONDecodeError):
        raise storage.StorageError(f"{path} is not a RAM checkpoint") from None
    check_same_training(path, saved_config, saved_seed, config, seed)
    return loaded, state


def finished_results(folder, config, seed):
    """The results of a finished run of `config` and `seed` in `folder` whose checkpoint is gone
    (deleted to save space, or the run copied from `results/` without it): its `results.json` if
    complete, else None."""
    path = pathlib.Path(folder) / RESULTS_FILE
    if not path.exists():
        return None
    results = storage.read_json(path, "results")
    if not isinstance(results, dict) or not results.get("complete"):
        return None
    if "config" not in results or "seed" not in results:
        raise storage.StorageError(f"{path} is not a RAM results file")
    check_same_training(path, results["config"], results["seed"], config, seed)
    return results


def check_resume(folder, config, seed):
    """Raises StorageError if the run in `folder` (if any) was saved with other training values
    than `config` and `seed`; reads no weights (the check before any run starts)."""
    checkpoint = pathlib.Path(folder) / CHECKPOINT_FILE
    if checkpoint.exists():
        read_checkpoint(checkpoint, config, seed, arrays=False)
    else:
        finished_results(folder, config, seed)


def holds_run(folder):
    """Whether `folder` holds (part of) a run: results or a checkpoint."""
    folder = pathlib.Path(folder)
    return (folder / RESULTS_FILE).exists() or (folder / CHECKPOINT_FILE).exists()


def unfinished_runs(output_dir, runs):
    """How many of `runs` runs under `output_dir` have no complete `results.json` (at least 1)."""
    count = 0
    for index in range(runs):
        try:
            complete = storage.read_json(run_dir(output_dir, index) / RESULTS_FILE,
                                         "results").get("complete")
        except (storage.StorageError, AttributeError):
            complete = False
        count += not complete
    return max(1, count)


def run_results_paths(summary_path, summary):
    """The `results.json` of each run a summary lists: beside the summary first (folders move),
    else where the summary says (relative paths are to the summary's folder)."""
    summary_path = pathlib.Path(summary_path)
    paths = []
    for run in summary["runs"]:
        beside = summary_path.parent / str(run.get("run")) / RESULTS_FILE
        listed = summary_path.parent / str(run.get("results", ""))
        paths.append(beside if beside.is_file() else listed)
    return paths


# ------------------------------------------------------------------------------------------------
# Trained models.
def keras_file_model_config(path):
    """The model config dict inside a `model.keras` file (read from its zip, without Keras)."""
    try:
        with zipfile.ZipFile(path) as archive:
            saved = json.loads(archive.read("config.json"))
        return saved["config"]["config"]
    except (OSError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError):
        raise storage.StorageError(f"{path} is not a RAM model.keras file") from None


def saved_config(path, named=None):
    """The `Config` of a trained model file: `network.json` beside it, else the config saved inside
    it (a `network.h5` holds the whole config; a `model.keras` only the model's, whose data and
    training values then come from `named`, a `Config`, or the defaults)."""
    path = pathlib.Path(path)
    beside = path.with_name(CONFIG_FILE)
    if beside.is_file():
        values, source = storage.read_json(beside, "config file"), beside
    elif path.suffix == ".keras":
        base = (named or config_module.Config()).to_dict()
        model_values = keras_file_model_config(path)
        if not isinstance(model_values, dict):
            raise storage.StorageError(f"{path} is not a RAM model.keras file")
        if model_values.get("task") == "play" and named is None:
            base["dataset"] = "catch"  # A game-playing agent's data are games.
        values, source = {**base, **model_values}, path
    else:
        values, source = storage.read_weights_config(path), path
        if values is None:
            raise storage.StorageError(f"{path} has no network.json beside it and no saved config")
    if not isinstance(values, dict):
        raise storage.StorageError(f"{source} is not a config (expected a JSON object)")
    try:
        return config_module.Config.from_dict(values)
    except (TypeError, ValueError) as error:
        raise storage.StorageError(f"{source} is not a valid config ({error})") from None
