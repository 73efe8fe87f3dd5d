"""The command line shared by every run script (`run_mnist.py`, `run_translated_mnist.py`, ...).

Errors a user can fix (bad flags, config values, data or output files) end the program with one
line on stderr and exit status 2, never a traceback.
"""

import argparse
import os
import pathlib
import shutil
import signal
import sys
import threading

from ram import cluster
from ram import config as config_module
from ram import data as data_module
from ram import experiment
from ram import runs
from ram import sources
from ram import storage

# Checkpoints, weights and results of one run take a few MiB; refuse to start with less than this.
MINIMUM_FREE_BYTES = 64 * 2**20


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill PID`), turned into the same clean stop as Ctrl-C: a run started in the
    background ignores SIGINT, so `kill` is how its user stops it."""


def _raise_terminated(signum, frame):
    raise Terminated()


def fail(message, status=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def doc_parser(doc):
    """An argument parser whose description is the first paragraph of a script's docstring and
    whose epilog is the rest (usage examples and details), as written. Its program name is the
    one it was started as (`evaluate.py`, or `ram-evaluate` once installed)."""
    paragraphs = (doc or "").strip().split("\n\n")
    return argparse.ArgumentParser(description=paragraphs[0],
                                   epilog="\n\n".join(paragraphs[1:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def run_parser(module):
    doc = (module.__doc__ or "").strip()
    parser = argparse.ArgumentParser(
        prog=pathlib.Path(module.__file__).name, description=doc.split("\n\n")[0],
        epilog="Every config value can be overridden with --set KEY=VALUE; the keys are the "
               "module's UPPER_CASE names in lower case (see README.md, 'Config reference').",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, help="training epochs per run (config: EPOCHS)")
    parser.add_argument("--runs", type=int, help="independent runs (config: RUNS)")
    parser.add_argument("--output", default=None,
                        help="folder for the runs and summary.json (default: output/<module name>)")
    parser.add_argument("--seed", type=int, help="seed of the first run; run i uses seed + i")
    parser.add_argument("--limit", type=int, help="use only the first N training images")
    parser.add_argument("--data", help="the MNIST tasks: an .npz in Keras layout (default: "
                        "data/mnist.npz); run_images.py: your images, a folder of class folders "
                        "or an .npz (see README.md)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value; may be repeated")
    parser.add_argument("--processes", type=int,
                        help="runs at once (default: as many as CPU cores, at most RUNS)")
    parser.add_argument("--distribute", choices=config_module.DISTRIBUTE,
                        help="spread one run over the local devices (mirrored) or the machines "
                             "in TF_CONFIG (multiworker); config: DISTRIBUTE")
    parser.add_argument("--resume", action="store_true",
                        help="continue the runs in --output from their last completed epoch")
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    return parser


def build_config(module, args):
    overrides = list(args.set)
    for name in ("epochs", "runs", "seed", "distribute"):
        value = getattr(args, name)
        if value is not None:
            overrides.append(f"{name}={value}")
    return config_module.Config.from_module(module).with_overrides(overrides)


def run_main(module, argv=None):
    """Parses the command line of a run script and trains its runs; returns the exit status."""
    args = run_parser(module).parse_args(argv)
    try:
        config = build_config(module, args)
        if args.limit is not None and args.limit < 1:
            raise config_module.ConfigError(f"--limit must be at least 1, got {args.limit}")
        if args.processes is not None and args.processes < 1:
            raise config_module.ConfigError(f"--processes must be at least 1, got {args.processes}")
        if config.dataset != "images" and args.data is not None and not os.path.isfile(args.data):
            raise config_module.ConfigError(f"data file {args.data} does not exist")
        if config.dataset == "images":
            # Read once here, to refuse bad data before any run starts and to fill in what comes
            # from the data (size, channels, classes, the retina), so every run gets one config.
            data, config = sources.open_data(config, args.data, args.limit)
            print(f"{args.data}: {data.num_train} training, {len(data.validation_labels)} "
                  f"validation and {len(data.test_labels)} test images of "
                  f"{config.image_size}x{config.image_size}x{config.channels}, "
                  f"{config.num_classes} classes ({config.class_names or 'unnamed'}); retina "
                  f"{config.patch_size}x{config.patch_size} x {config.num_scales} scale(s), "
                  f"unit {config.unit_pixels:g} px", flush=True)
            del data  # Each run reads the images itself; the parent need not hold them.
        # A multiworker run: this process's place in TF_CONFIG's cluster (refused here if bad).
        worker = cluster.cluster_spec() if config.distribute == "multiworker" else None
    except (ValueError, cluster.ClusterError) as error:
        fail(error)
    module_name = pathlib.Path(module.__file__).stem
    output = pathlib.Path(args.output or pathlib.Path("output") / module_name)
    if worker and worker[1] > 0:
        return _run_worker(module_name, config, args, output, worker)
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        fail(f"cannot write to output folder {output} ({error.strerror})")
    free = shutil.disk_usage(output).free
    if free < MINIMUM_FREE_BYTES:
        fail(f"only {free // 2**20} MiB free under {output}; a run needs at least "
             f"{MINIMUM_FREE_BYTES // 2**20} MiB for its checkpoints")
    for lock in sorted(output.glob("run_*/.lock")):
        try:
            storage.RunLock(lock.parent).clear_stale()
        except storage.StorageError as error:
            fail(error)
    if not args.resume:
        taken = [path.name for path in sorted(output.glob("run_*")) if runs.holds_run(path)]
        if taken:
            fail(f"{output} already holds runs ({', '.join(taken)}); "
                 "pass --resume to continue them or choose another --output")

    if args.resume:
        # A run saved with other values is refused here, once, rather than in every process.
        for index in range(config.runs):
            try:
                runs.check_resume(runs.run_dir(output, index), config, config.seed + index)
            except storage.StorageError as error:
                fail(error)
    if config.dataset != "images":
        try:
            data_module.load_mnist(args.data)  # Fail here, once, rather than in every process.
        except data_module.DataError as error:
            fail(error)
    # A progress bar on a terminal; one line per epoch in a log file.
    verbose = 0 if args.quiet else (2 if sys.stdout.isatty() else 1)
    print(f"{module_name}: {config.runs} run(s) of {config.epochs} epochs into {output}",
          flush=True)
    # Python lets only the main thread set handlers; main() called from another thread keeps
    # SIGTERM's default.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        summary = experiment.run_experiment(config, output, data_path=args.data, limit=args.limit,
                                            resume=args.resume, verbose=verbose,
                                            processes=args.processes)
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        print(f"\n{'stopped by SIGTERM' if terminated else 'interrupted'}; continue with: "
              f"python {module_name}.py --output {output} --resume (and the same flags)",
              file=sys.stderr)
        return 128 + signal.SIGTERM if terminated else 130
    except (ValueError, RuntimeError, OSError) as error:
        fail(error, 1)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous_handler)
    print_summary(summary, output)
    return 0


def _run_worker(module_name, config, args, output, worker):
    """A multiworker run's worker above 0: trains in step with the chief and writes nothing (the
    chief writes the run's files). A resumed run reads the chief's checkpoint from --output."""
    workers, index = worker
    if args.resume and not output.is_dir():
        fail(f"worker {index}: --resume reads the chief's checkpoint, but {output} does not exist "
             "here; give every worker the chief's --output folder (a shared file system)")
    print(f"{module_name}: worker {index} of {len(workers)}, training with the chief at "
          f"{workers[0]}", flush=True)
    try:
        experiment.run_experiment(config, output, data_path=args.data, limit=args.limit,
                                  resume=args.resume, verbose=0, processes=1)
    except KeyboardInterrupt:
        print(f"\nworker {index}: interrupted; restart every worker with --resume", file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, OSError) as error:
        fail(f"worker {index}: {error}", 1)
    print(f"worker {index}: finished; the chief wrote the run's files", flush=True)
    return 0


def print_summary(summary, output):
    samples = summary.get("test_samples")
    for run in summary["runs"]:
        sampled = run.get("test_accuracy_sampled")
        print(f"{run['run']}: test accuracy {100 * run['test_accuracy']:.2f}%"
              + (f", {100 * sampled:.2f}% with {samples} sampled episodes"
                 if sampled is not None else "")
              + f" (best epoch {run['best_epoch']} of {run['epochs_trained']}, "
              f"{run['minutes']:.1f} min)")
    if summary["test_accuracy_mean"] is not None:
        print(f"test accuracy {100 * summary['test_accuracy_mean']:.2f}% +/- "
              f"{100 * summary['test_accuracy_std']:.2f}% over {len(summary['runs'])} run(s); "
              f"summary in {output / 'summary.json'}")
    if summary.get("test_accuracy_sampled_mean") is not None:
        print(f"with {samples} sampled episodes per test image: "
              f"{100 * summary['test_accuracy_sampled_mean']:.2f}% +/- "
              f"{100 * summary['test_accuracy_sampled_std']:.2f}%")


def train_main(argv=None):
    """`ram-train CONFIG [flags]`: trains a run module by name, as `python CONFIG.py [flags]` does."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0].startswith("-"):
        known = ", ".join(config_module.run_module_names())
        print(f"usage: ram-train CONFIG [flags]\n\nCONFIG is a run module: {known}.\n"
              "`ram-train CONFIG --help` lists the flags.", file=sys.stderr if not argv else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        module = config_module.load_module(argv[0])
    except config_module.ConfigError as error:
        fail(error)
    return run_main(module, argv[1:])
