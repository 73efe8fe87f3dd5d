"""Training under tf.distribute on this CPU: a mirrored step equals the one-device step, two
workers on loopback train as one process does, and a worker that vanishes or never comes is
reported clearly (ram/distribute.py, ram/cluster.py, Trainer's distributed step in ram/step.py)."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from local_cluster import free_ports  # noqa: E402  (the tool that starts loopback workers)
# A model small enough that the run's time is mostly TensorFlow starting.
TINY = ["--set", "num_glimpses=2", "--set", "glimpse_hidden=16", "--set", "location_hidden=8",
        "--set", "glimpse_size=32", "--set", "core_size=32", "--set", "location_network_hidden=16",
        "--set", "batch_size=32", "--set", "test_samples=0", "--set", "jit_compile=false",
        "--set", "validation_size=500", "--runs", "1", "--quiet"]


def tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def start_worker(ports, index, output, *arguments):
    environment = dict(os.environ, TF_CONFIG=tf_config(ports, index))
    return subprocess.Popen([sys.executable, "run_mnist.py", "--distribute", "multiworker",
                             "--output", str(output), *TINY, *arguments],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def weights(path):
    with h5py.File(path, "r") as file:
        arrays = {}
        file.visititems(lambda name, item: arrays.__setitem__(name, item[()])
                        if isinstance(item, h5py.Dataset) else None)
    return arrays


def test_a_mirrored_step_on_two_cpus_equals_the_step_on_one_device():
    # Two logical CPU devices; the check compares with the step written out on one device (same
    # global batch and noise), once plainly, once with XLA, 2 episodes per image and a batch of 9
    # split 4 + 5, and once with XLA in mixed bfloat16 (the one-device step in bfloat16 too). The
    # gradient norm is above clip_norm, so the clipping is compared too.
    cases = [{}, {"jit_compile": True, "episodes_per_image": 2, "batch_size": 9},
             {"jit_compile": True, "precision": "mixed_bfloat16"}]
    result = subprocess.run([sys.executable, "tests/distributed_step_check.py",
                             *map(json.dumps, cases)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(reports) == 3
    for report in reports:
        assert report["replicas"] == 2 and report["finite"] and report["steps_done"] == 1
        assert report["skipped_small_batch"]
        assert report["gradient_norm"] > 0.5  # clip_norm: the clipped step is the one compared.
        assert report["loss"] == pytest.approx(report["reference_loss"], rel=1e-5)
        assert report["max_weight_change"] > 1e-3  # The step moved the weights...
        if report["precision"] == "float32":  # ...exactly as on one device,
            assert report["gradient_norm"] == pytest.approx(report["reference_gradient_norm"],
                                                            rel=1e-5)
            assert report["max_weight_difference"] < 1e-5
        else:  # or, in bfloat16, up to its rounding of slices against the whole batch: Adam's
            # first step is about +/-learning rate, so a tiny gradient of the other sign moves
            # a weight by up to twice that; on average they agree to a thousandth of it.
            assert report["gradient_norm"] == pytest.approx(report["reference_gradient_norm"],
                                                            rel=1e-2)
            assert report["mean_weight_difference"] < 1e-5
    # bfloat16 did change the arithmetic (it is not float32 under another name).
    assert reports[2]["loss"] != reports[0]["loss"]


def test_two_loopback_workers_survive_a_kill_by_resume_and_train_as_one_mirrored_process(tmp_path):
    """Two workers on 127.0.0.1; worker 1 is killed after the first epoch: the chief stops at once
    with a message naming it, and worker 1 wrote nothing. The same command with --resume on both
    finishes the run, with the figures and weights of one uninterrupted process that trains the
    same global batch on two logical CPUs (the noise comes from the seed and the step alone)."""
    # 1023 images: the last global batch of 31 splits 16 + 15, worker 0's shard the shape of a
    # full batch's; it must not be stacked with (and counted as) those.
    arguments = ("--epochs", "2", "--limit", "1023")
    chief, other = tmp_path / "chief", tmp_path / "other"
    ports = free_ports(2)
    workers = [start_worker(ports, 0, chief, *arguments), start_worker(ports, 1, other, *arguments)]
    alone = subprocess.Popen([sys.executable, "run_mnist.py", "--distribute", "mirrored",
                              "--set", "cpu_replicas=2", "--output", str(tmp_path / "mirrored"),
                              *TINY, *arguments], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    results = chief / "run_0" / "results.json"
    deadline = time.monotonic() + 240
    while not results.exists() and time.monotonic() < deadline:  # The first epoch is saved.
        time.sleep(0.1)
    workers[1].send_signal(signal.SIGKILL)
    start = time.monotonic()
    status, _, err = finish(workers[0], timeout=120)
    finish(workers[1])
    assert status == 1 and time.monotonic() - start < 60, err[-3000:]
    assert err.strip().splitlines()[-1].startswith("error: "), err[-3000:]
    assert f"worker 1 (127.0.0.1:{ports[1]}) stopped or cannot be reached" in err
    assert "--resume" in err and "Traceback" not in err
    assert not json.loads(results.read_text())["complete"]
    assert not other.exists()  # Worker 1 writes nothing.

    ports = free_ports(2)  # The same command on both, with --resume and the chief's folder.
    workers = [start_worker(ports, index, chief, *arguments, "--resume") for index in (0, 1)]
    (status0, _, err0), (status1, out1, err1) = finish(workers[0]), finish(workers[1])
    assert status0 == 0 and status1 == 0, err0[-2000:] + err1[-2000:]
    assert "worker 1 of 2" in out1 and "the chief wrote the run's files" in out1
    assert finish(alone)[0] == 0
    ours = json.loads(results.read_text())
    theirs = json.loads((tmp_path / "mirrored" / "run_0" / "results.json").read_text())
    assert ours["complete"] and [epoch["epoch"] for epoch in ours["epochs"]] == [1, 2]
    for mine, reference in zip(ours["epochs"], theirs["epochs"]):
        assert mine["train_loss"] == pytest.approx(reference["train_loss"], abs=1e-5)
        assert mine["validation_accuracy"] == pytest.approx(reference["validation_accuracy"],
                                                             abs=0.003)
    chief_weights = weights(chief / "run_0" / "network.h5")
    alone_weights = weights(tmp_path / "mirrored" / "run_0" / "network.h5")
    assert chief_weights.keys() == alone_weights.keys()
    for name, value in chief_weights.items():
        np.testing.assert_allclose(value, alone_weights[name], atol=1e-4)


def test_a_worker_alone_gives_up_within_worker_timeout_naming_the_missing_address(tmp_path):
    ports = free_ports(2)
    start = time.monotonic()
    worker = start_worker(ports, 0, tmp_path / "run", "--epochs", "1", "--limit", "64",
                          "--set", "worker_timeout=3")
    status, _, err = finish(worker, timeout=120)
    assert status != 0 and time.monotonic() - start < 60
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: worker 0: ") and f"worker 1 (127.0.0.1:{ports[1]})" in line
    assert "did not join within 3 s" in line
    assert not (tmp_path / "run" / "run_0" / "results.json").exists()


@pytest.mark.parametrize("value, fragment", [
    (None, "needs TF_CONFIG"),
    ("{not json", "TF_CONFIG is not a cluster description"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}',
     "index below 1"),
])
def test_a_bad_tf_config_is_refused_before_anything_starts(tmp_path, value, fragment):
    environment = {key: item for key, item in os.environ.items() if key != "TF_CONFIG"}
    if value is not None:
        environment["TF_CONFIG"] = value
    result = subprocess.run([sys.executable, "run_mnist.py", "--distribute", "multiworker",
                             "--output", str(tmp_path / "run"), "--runs", "1"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("values, fragment", [
    ({"distribute": "mirrored", "runs": 3}, "set runs=1"),
    ({"distribute": "sideways", "runs": 1}, "distribute"),
    ({"distribute": "mirrored", "runs": 1, "cpu_replicas": -1}, "cpu_replicas"),
    ({"distribute": "multiworker", "runs": 1, "worker_timeout": 0}, "worker_timeout"),
    ({"precision": "mixed_float16"}, "precision must be one of float32, mixed_bfloat16"),
])
def test_bad_distribute_values_are_refused_by_name(values, fragment):
    from ram import config as config_module
    with pytest.raises(config_module.ConfigError, match=fragment):
        config_module.Config(**values).validate()


def test_catch_refuses_a_strategy():
    from ram import config as config_module
    catch = config_module.config_from_module_name("run_catch")
    with pytest.raises(config_module.ConfigError, match="Catch trains on one device"):
        catch.with_overrides(["distribute=mirrored", "runs=1"])


def test_the_cluster_is_read_from_tf_config(monkeypatch):
    from ram import cluster, config as config_module
    monkeypatch.setenv("TF_CONFIG", tf_config([2222, 2223, 2224], 2))
    assert cluster.cluster_spec() == (["127.0.0.1:2222", "127.0.0.1:2223", "127.0.0.1:2224"], 2)
    assert not cluster.is_chief(config_module.Config(distribute="multiworker", runs=1))
    assert cluster.is_chief(config_module.Config(distribute="mirrored", runs=1))
    monkeypatch.setenv("TF_CONFIG", tf_config([2222, 2223], 0))
    assert cluster.is_chief(config_module.Config(distribute="multiworker", runs=1))
    # Nothing listens on a port just freed: it is named as unreachable.
    port = free_ports(1)[0]
    assert cluster.unreachable([f"127.0.0.1:{port}", "127.0.0.1:1"], 1, wait=0.5) == [
        f"worker 0 (127.0.0.1:{port})"]
