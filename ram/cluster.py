"""The cluster a multiworker run belongs to, from `TF_CONFIG`, without importing TensorFlow (the
command line reads it before any run starts, to refuse a bad cluster and to know who writes).

`TF_CONFIG` is TensorFlow's own cluster description: `{"cluster": {"worker": ["host:port", ...]},
"task": {"type": "worker", "index": i}}`. Worker 0 is the chief: only it writes the run's files.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys


class ClusterError(RuntimeError):
    """The cluster in TF_CONFIG cannot be used."""


def cluster_spec():
    """`(workers, index)` from TF_CONFIG, or raises ClusterError with what is wrong."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ClusterError("distribute='multiworker' needs TF_CONFIG (the cluster's workers and "
                           "this worker's index); see README.md, 'Several GPUs or machines'")
    try:
        spec = json.loads(text)
        workers = list(spec["cluster"]["worker"])
        task = spec["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ClusterError(f"TF_CONFIG is not a cluster description ({error!r}); expected "
                           '{"cluster": {"worker": [...]}, "task": {"type": "worker", '
                           '"index": i}}') from None
    if task.get("type", "worker") != "worker" or not 0 <= index < len(workers):
        raise ClusterError(f"TF_CONFIG's task must be a worker with an index below "
                           f"{len(workers)}, got {task}")
    return workers, index


def is_chief(config):
    """Whether this process writes the run's files: always, except a multiworker worker above 0."""
    if config.distribute != "multiworker":
        return True
    return cluster_spec()[1] == 0


def unreachable(workers, index, wait=2.0):
    """The other workers where nothing accepts a connection, as "worker i (host:port)"."""
    silent = []
    for task, address in enumerate(workers):
        if task == index:
            continue
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=wait).close()
        except (OSError, ValueError):
            silent.append(f"worker {task} ({address})")
    return silent


class Watchdog:
    """Ends this process with a clear message if the block it guards takes over `timeout`
    seconds: for TensorFlow's wait for the cluster to form, which holds Python's lock so that no
    thread of this process can run. The watchdog is a small process of its own (`python -m
    ram.cluster watch ...`); leaving the block closes its pipe, which dismisses it."""

    def __init__(self, timeout):
        self.timeout = timeout

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ram.cluster", "watch", str(os.getpid()), str(self.timeout)],
            stdin=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
        return self

    def __exit__(self, *exc_info):
        self.process.stdin.close()
        self.process.wait()
        return False


def watch(parent, timeout):
    """The watchdog process: waits for its pipe to close; after `timeout` seconds instead, names
    the workers that do not answer and kills `parent`."""
    if select.select([sys.stdin], [], [], timeout)[0]:
        return 0  # The parent got through (or died): nothing to do.
    workers, index = cluster_spec()
    silent = unreachable(workers, index) or ["not every worker"]
    print(f"error: worker {index}: {', '.join(silent)} did not join within {timeout:g} s "
          "(worker_timeout); start the same command on every worker with its own TF_CONFIG, "
          "and check the addresses and firewalls", file=sys.stderr, flush=True)
    os.kill(parent, signal.SIGKILL)
    return 2


if __name__ == "__main__" and sys.argv[1:2] == ["watch"]:
    sys.exit(watch(int(sys.argv[2]), float(sys.argv[3])))
