"""Data-parallel training with `tf.distribute`: which strategy a config asks for, and who writes.

* `none` (the default): no strategy; the train step runs as it always has, on one device.
* `mirrored`: `tf.distribute.MirroredStrategy` over the local devices (every GPU, or the logical
  CPU devices a user configures).
* `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` over the cluster that `TF_CONFIG`
  describes, as TensorFlow documents it: the same command on every machine, each with its own
  `TF_CONFIG` (`{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker",
  "index": i}}`). Worker 0 is the chief: only it writes the run's files.

How the step uses a strategy is in ram/step.py (`Trainer._distributed_train_step`): every replica
receives the global batch and trains on its own slice of it, the loss terms are averaged over the
global batch, and the location noise is drawn for the whole global batch from a stateless seed
(the run's seed and the step number), each replica taking its rows, so that a step on R replicas
equals a step on one device with the same global batch.
"""

import json
import os

from ram.backend import tf

STRATEGIES = ("none", "mirrored", "multiworker")


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


def make_strategy(config):
    """The config's `tf.distribute` strategy, or None for `none`."""
    if config.distribute == "none":
        return None
    if config.distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    cluster_spec()  # A clear message for a missing or malformed TF_CONFIG.
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=config.worker_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def replica_slice(count):
    """`(start, end)` of this replica's rows of a global batch of `count` rows (call inside
    `strategy.run`): contiguous, in replica order, sizes differing by at most one."""
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync
    index = tf.cast(context.replica_id_in_sync_group, tf.int32)
    return index * count // replicas, (index + 1) * count // replicas
