"""Several independent training runs of one config, as separate processes, and their summary.

Each run is a fresh process started with the "spawn" method (never forked, so no TensorFlow state is
shared), with its own seed (`seed + i`) and folder (`<output>/run_<i>`). At most as many runs go at
once as the machine has cores, and the cores are shared out as TensorFlow threads. When all have
finished, `<output>/summary.json` holds each run's test accuracy and their mean and standard
deviation.
"""

import contextlib
import ctypes
import multiprocessing
import os
import pathlib
import signal
import statistics
import sys
import time

from ram import cluster
from ram import config as config_module
from ram import runs as runs_module
from ram import storage

def _worker_setup():
    """Pool workers leave Ctrl-C to the parent, which stops them (files are written atomically),
    and on Linux die with the parent even when it is killed outright."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass


def _run_one(arguments):
    """Runs in a child process: trains one run and returns its results (or the error's message)."""
    config_dict, run_dir, seed, data_path, limit, resume, verbose, run_name, threads = arguments
    os.environ["RAM_THREADS"] = str(threads)
    # The parent never imports TensorFlow; each child does, here, with its share of the cores.
    from ram import quiet
    quiet.import_tensorflow(threads=threads)
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
    processes, threads = share_cores(runs_module.unfinished_runs(output_dir, runs) if resume else runs, processes)
    jobs = []
    for index in range(runs):
        run_name = f"[run {index}] " if runs > 1 else ""
        jobs.append((config.to_dict(), str(runs_module.run_dir(output_dir, index)), config.seed + index,
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
    if cluster.is_chief(config):  # A multiworker run's other workers write nothing.
        storage.write_json(output_dir / runs_module.SUMMARY_FILE, summary)
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
        "cpu_model": runs_module.cpu_model(),
        "cpu_id": runs_module.cpu_id(),
    }
    return summary
