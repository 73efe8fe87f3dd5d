"""Several independent training runs of one config, as separate processes, and their summary.

Each run is a fresh process started with the "spawn" method (never forked, so no TensorFlow state is
shared), with its own seed (`seed + i`) and folder (`<output>/run_<i>`). At most as many runs go at
once as the machine has cores, and the cores are shared out as TensorFlow threads. When all have
finished, `<output>/summary.json` holds each run's test accuracy and their mean and standard
deviation.
"""

import contextlib
import json
import multiprocessing
import os
import pathlib
import platform
import statistics
import sys
import time

from ram import config as config_module
from ram import storage

SUMMARY_FILE = "summary.json"
# Each run folder's results and checkpoint (here, not in `training`, so that the parent process
# can look at run folders without importing TensorFlow).
RESULTS_FILE = "results.json"
CHECKPOINT_FILE = "checkpoint.h5"


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
    """The processor's name (`model name` in /proc/cpuinfo on Linux), or "unknown"
    (here, not in `training`, so that the parent process need not import TensorFlow)."""
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


def read_checkpoint(path, config, seed, arrays=True):
    """`({name: array}, state)` of the checkpoint at `path`, once it is known that a run of `config`
    and `seed` may resume from it (`check_same_training`). With `arrays=False` only the state is
    read."""
    loaded, attributes = storage.load_arrays(path, "checkpoint", attributes_only=not arrays)
    try:
        state = json.loads(attributes["state"])
        saved_config, saved_seed = state["config"], state["seed"]
    except (KeyError, TypeError, json.JSONDecodeError):
        raise storage.StorageError(f"{path} is not a RAM checkpoint") from None
    check_same_training(path, saved_config, saved_seed, config, seed)
    return loaded, state


def finished_results(run_dir, config, seed):
    """The results of a finished run of `config` and `seed` in `run_dir` whose checkpoint is gone
    (deleted to save space, or the run copied from `results/` without it): its `results.json` if
    complete, else None."""
    path = pathlib.Path(run_dir) / RESULTS_FILE
    if not path.exists():
        return None
    results = storage.read_json(path, "results")
    if not isinstance(results, dict) or not results.get("complete"):
        return None
    if "config" not in results or "seed" not in results:
        raise storage.StorageError(f"{path} is not a RAM results file")
    check_same_training(path, results["config"], results["seed"], config, seed)
    return results


def check_resume(run_dir, config, seed):
    """Raises StorageError if the run in `run_dir` (if any) was saved with other training values
    than `config` and `seed`; reads no weights (for the check before any run starts, here so that
    the parent process need not import TensorFlow)."""
    checkpoint = pathlib.Path(run_dir) / CHECKPOINT_FILE
    if checkpoint.exists():
        read_checkpoint(checkpoint, config, seed, arrays=False)
    else:
        finished_results(run_dir, config, seed)


def check_same_training(source, saved_config, saved_seed, config, seed):
    """A run saved in `source` with `saved_config` (a dict) and `saved_seed` may go on as a run of
    `config` and `seed` only with the same seed and training fields (a field added since it was
    saved counts as its default); otherwise a StorageError names the values that differ."""
    try:
        saved = config_module.Config.from_dict(saved_config)
    except (config_module.ConfigError, TypeError) as error:  # TypeError: not a dict at all.
        raise storage.StorageError(f"{source} holds a config this version cannot read: {error}") from None
    differing = [(name, old, new) for name, old, new in saved.differences(config)
                 if name not in config_module.NON_TRAINING_FIELDS]
    if saved_seed != seed and "seed" not in (name for name, _, _ in differing):
        differing.append(("seed", saved_seed, seed))  # The run's own seed (run i: seed + i).
    if differing:
        raise storage.StorageError(
            f"{source} was written with " + ", ".join(f"{name}={old!r}" for name, old, _ in differing)
            + ", not " + ", ".join(f"{name}={new!r}" for name, _, new in differing)
            + "; resume with the same values")


def _worker_setup():
    """Pool workers leave Ctrl-C to the parent, which stops them (files are written atomically),
    and on Linux die with the parent even when it is killed outright."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass


def _run_one(arguments):
    """Runs in a child process: trains one run and returns its results (or the error's message)."""
    config_dict, run_dir, seed, data_path, limit, resume, verbose, run_name, threads = arguments
    os.environ["RAM_THREADS"] = str(threads)
    from ram import quiet
    quiet.import_tensorflow(threads=threads)
    from ram import config as config_module
    from ram import training
    config = config_module.Config.from_dict(config_dict)
    try:
        return training.train(config, run_dir, seed=seed, data_path=data_path, limit=limit,
                              resume=resume, verbose=verbose, run_name=run_name)
    except (ValueError, RuntimeError, OSError) as error:
        return {"error": f"{run_name}{error}"}


def _drop_dead_locks(run_dirs):
    """On Ctrl-C the pool kills its workers outright, before they can release their run locks.
    Once they are gone, take each lock over and release it (which also deletes any file they left
    half-written), so the folders look like those of a run stopped cleanly."""
    for run_dir in run_dirs:
        if (pathlib.Path(run_dir) / ".lock").exists():
            with contextlib.suppress(storage.StorageError):  # A live run of another command.
                storage.RunLock(run_dir).clear_stale()


def run_experiment(config, output_dir, runs=None, data_path=None, limit=None, resume=False,
                   verbose=2, processes=None):
    """Trains `runs` runs of `config` under `output_dir`; returns the summary dict."""
    runs = runs or config.runs
    output_dir = pathlib.Path(output_dir)
    # A resumed experiment shares the cores among the runs still to train, not the finished ones.
    processes, threads = share_cores(unfinished_runs(output_dir, runs) if resume else runs, processes)
    jobs = []
    for index in range(runs):
        run_name = f"[run {index}] " if runs > 1 else ""
        jobs.append((config.to_dict(), str(output_dir / f"run_{index}"), config.seed + index,
                     data_path, limit, resume, verbose if runs == 1 else min(verbose, 1), run_name,
                     threads))
    start = time.perf_counter()
    if processes == 1 and runs == 1:
        # One run needs no child process; it keeps its progress bar on this console.
        results = [_run_one(jobs[0])]
    else:
        context = multiprocessing.get_context("spawn")
        try:
            with context.Pool(processes, initializer=_worker_setup) as pool:
                results = pool.map(_run_one, jobs, chunksize=1)
        except KeyboardInterrupt:
            _drop_dead_locks(job[1] for job in jobs)
            raise
    errors = [result["error"] for result in results if "error" in result]
    summary = summarize(config, results, output_dir, time.perf_counter() - start, processes, threads)
    storage.write_json(output_dir / SUMMARY_FILE, summary)
    if errors:
        raise RuntimeError("; ".join(errors))
    return summary


def share_cores(runs, processes=None):
    """`(processes, threads)` for `runs` runs to train: at most one process per core (or
    `processes`), and the cores shared out evenly as TensorFlow threads; RAM_THREADS overrides the
    share (for benchmarks, or to leave cores free)."""
    cores = os.cpu_count() or 1
    processes = max(1, min(runs, processes or cores))
    return processes, int(os.environ.get("RAM_THREADS") or max(1, cores // processes))


def unfinished_runs(output_dir, runs):
    """How many of `runs` runs under `output_dir` have no complete `results.json` (at least 1)."""
    count = 0
    for index in range(runs):
        try:
            complete = storage.read_json(pathlib.Path(output_dir) / f"run_{index}" / RESULTS_FILE,
                                         "results").get("complete")
        except (storage.StorageError, AttributeError):
            complete = False
        count += not complete
    return max(1, count)


def summarize(config, results, output_dir, seconds, processes, threads):
    finished = [result for result in results if result.get("test_accuracy") is not None]
    accuracies = [result["test_accuracy"] for result in finished]
    sampled = [result.get("test_accuracy_sampled") for result in finished]
    sampled = sampled if sampled and None not in sampled else []
    summary = {
        "config": config.to_dict(),
        "command": " ".join(sys.argv),
        "runs": [{"run": result["run"], "seed": result["seed"],
                  "results": f"{result['run']}/results.json",  # Relative to the summary.
                  "best_epoch": result["best_epoch"], "epochs_trained": len(result["epochs"]),
                  "validation_accuracy": result["best_validation_accuracy"],
                  "test_accuracy": result["test_accuracy"],
                  "test_accuracy_sampled": result.get("test_accuracy_sampled"),
                  "minutes": result["train_seconds"] / 60} for result in finished],
        # The run whose weights to ship: chosen on validation, like each run's best epoch.
        "best_run": max(finished, key=lambda result: result["best_validation_accuracy"])["run"]
        if finished else None,
        "test_accuracy_mean": statistics.fmean(accuracies) if accuracies else None,
        "test_accuracy_std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        # The mean of `test_samples` sampled episodes, when every finished run reports it.
        "test_samples": config.test_samples,
        "test_accuracy_sampled_mean": statistics.fmean(sampled) if sampled else None,
        "test_accuracy_sampled_std": statistics.stdev(sampled) if len(sampled) > 1 else (
            0.0 if sampled else None),
        "wall_minutes": seconds / 60,
        "processes": processes,
        "threads_per_process": threads,
        "cpu_cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "cpu_id": cpu_id(),
    }
    return summary


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
