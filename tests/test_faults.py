"""Faults: a run killed with SIGKILL resumes to the same figures; NaN never replaces good weights."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ram import config as config_module
from ram import data as data_module
from ram import storage
from ram import training

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Small and without XLA (whose compilation would take most of each run's time): these tests are
# about processes, files and signals, not speed.
FLAGS = ["--runs", "1", "--epochs", "3", "--limit", "1024", "--quiet", "--set", "batch_size=64",
         "--set", "num_glimpses=3", "--set", "jit_compile=false", "--set", "test_samples=0",
         "--set", "validation_size=1000"]


def test_a_seed_killed_and_resumed_alone_gives_its_figures_from_beside_another_run(tmp_path):
    """Seed 1 trained as run 1 of a two-process experiment, and seed 1 trained alone, SIGKILLed
    after its first epoch and resumed: the same figures (same thread count), one check for both
    the kill and the company a run keeps."""
    environment = dict(os.environ, RAM_THREADS="1")
    together = subprocess.Popen([sys.executable, "run_mnist.py", *FLAGS, "--runs", "2",
                                 "--output", tmp_path / "together"], cwd=ROOT,
                                env=environment, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    command = [sys.executable, "run_mnist.py", *FLAGS, "--seed", "1",
               "--output", tmp_path / "killed"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    results = tmp_path / "killed" / "run_0" / "results.json"
    deadline = time.time() + 240
    while time.time() < deadline:  # Kill as soon as the first epoch is saved.
        try:
            if json.loads(results.read_text())["epochs"]:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = json.loads(results.read_text())
    assert not partial["complete"] and 1 <= len(partial["epochs"]) < 3
    resumed = subprocess.run(command + ["--resume"], cwd=ROOT, env=environment,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr  # The dead run's lock was taken over.
    _, stderr = together.communicate(timeout=300)
    assert together.returncode == 0, stderr
    first = json.loads((tmp_path / "together" / "run_1" / "results.json").read_text())
    second = json.loads(results.read_text())
    assert first["seed"] == second["seed"] == 1
    for key in ("train_loss", "train_reward", "validation_accuracy"):
        assert [epoch[key] for epoch in second["epochs"]] == [epoch[key] for epoch in first["epochs"]]
    assert second["test_accuracy"] == first["test_accuracy"]
    assert second["best_epoch"] == first["best_epoch"]
    assert "resumed" not in first  # The resume is on record, with its own command and machine.
    [resume] = second["resumed"]
    assert len(partial["epochs"]) < resume["from_epoch"] <= 3 and "--resume" in resume["command"]
    assert resume["machine"]["cpu_cores"] >= 1


class PoisonedDataset(data_module.Dataset):
    """Serves NaN images from epoch `poison_epoch` on."""

    poison_epoch = 2

    def train_batches(self, epoch, seed, batch_size):
        for images, labels in super().train_batches(epoch, seed, batch_size):
            if epoch >= self.poison_epoch:
                images = np.full(images.shape, np.nan, np.float32)
            yield images, labels


@pytest.mark.parametrize("steps_per_execution", [1, 2])
def test_a_nan_loss_stops_the_run_and_keeps_the_good_weights(tmp_path, steps_per_execution):
    config = config_module.Config(num_glimpses=2, glimpse_hidden=16, location_hidden=8,
                                  glimpse_size=32, core_size=32, epochs=3, batch_size=64,
                                  test_samples=0, jit_compile=False,
                                  steps_per_execution=steps_per_execution).validate()
    dataset = PoisonedDataset(config, limit=256)
    with pytest.raises(training.TrainingError, match="epoch 2, step 1"):
        training.train(config, tmp_path, seed=0, dataset=dataset, verbose=0)
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["epochs"]) == 1 and "non-finite" in results["stopped"]
    arrays, _ = storage.load_arrays(tmp_path / "network.h5")
    assert all(np.isfinite(array).all() for array in arrays.values())
    checkpoint, _ = storage.load_arrays(tmp_path / "checkpoint.h5")
    assert all(np.isfinite(array).all() for name, array in checkpoint.items()
               if not name.startswith("noise"))
    assert not (tmp_path / ".lock").exists()  # The lock is released on the way out.


def _sigint_as_a_terminal_gives_it():
    """Popen's preexec_fn for the Ctrl-C tests: a shell that starts the test suite in the background
    (`nohup ... &`) leaves SIGINT ignored, children inherit that, and the run would never see the
    test's SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl_c", "sigterm"])
def test_stopping_parallel_runs_leaves_no_lock_or_temporary_file(tmp_path, stop, status):
    """Ctrl-C, or `kill PID` on a run started in the background (which ignores SIGINT)."""
    # 50 epochs, so that neither run can finish (and release its lock) before the other starts.
    command = [sys.executable, "run_mnist.py", *FLAGS, "--epochs", "50", "--runs", "2",
               "--processes", "2", "--output", tmp_path]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=_sigint_as_a_terminal_gives_it)
    runs = [tmp_path / "run_0", tmp_path / "run_1"]
    deadline = time.time() + 180
    while time.time() < deadline and not all((run / "results.json").exists() for run in runs):
        time.sleep(0.05)
    assert all((run / ".lock").exists() for run in runs)  # Both runs are live.
    process.send_signal(stop)  # A terminal sends SIGINT to the workers too; they ignore it.
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == status
    assert "--resume" in stderr and "Traceback" not in stderr
    for run in runs:
        assert not (run / ".lock").exists() and not list(run.glob(".*.tmp"))
        assert json.loads((run / "results.json").read_text())["epochs"]


def test_taking_over_a_dead_runs_lock_deletes_its_half_written_files(tmp_path):
    import socket
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # A process id that no longer runs: the owner of a stale lock.
    (tmp_path / ".lock").write_text(f"{dead.pid} {socket.gethostname()}\n")
    (tmp_path / ".checkpoint.h5.k3x9q1.tmp").write_bytes(b"half of a checkpoint")
    (tmp_path / "checkpoint.h5").write_bytes(b"the last whole checkpoint")
    with storage.RunLock(tmp_path):
        assert not (tmp_path / ".checkpoint.h5.k3x9q1.tmp").exists()
        assert (tmp_path / "checkpoint.h5").read_bytes() == b"the last whole checkpoint"
    live = tmp_path / "live"
    live.mkdir()
    (live / ".lock").write_text(f"{os.getpid()} {socket.gethostname()}\n")
    (live / ".results.json.a1b2c3.tmp").write_text("being written")
    with pytest.raises(storage.StorageError, match="in use by a live run"):
        storage.RunLock(live).acquire()
    assert (live / ".results.json.a1b2c3.tmp").exists()  # A live run's files are left alone.


def test_written_files_get_the_mode_of_any_new_file_not_mkstemps_private_one(tmp_path):
    # mkstemp creates its temporary file 0o600; renamed as it is, a user's results.json or
    # network.h5 would be unreadable to the rest of their group, unlike any file open() makes.
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    expected = plain.stat().st_mode & 0o777
    storage.write_json(tmp_path / "results.json", {"a": 1})
    storage.save_arrays(tmp_path / "network.h5", {"w": np.zeros(2, np.float32)})
    for name in ("results.json", "network.h5"):
        assert (tmp_path / name).stat().st_mode & 0o777 == expected, name
