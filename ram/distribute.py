"""Data-parallel training with `tf.distribute`: which strategy a config asks for, and who writes.

* `none` (the default): no strategy; the train step runs as it always has, on one device.
* `mirrored`: `tf.distribute.MirroredStrategy` over the local devices (every GPU, or the logical
  CPU devices a user configures).
* `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` over the cluster that `TF_CONFIG`
  describes, as TensorFlow documents it: the same command on every machine, each with its own
  `TF_CONFIG` (`{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker",
  "index": i}}`). Worker 0 is the chief: only it writes the run's files.

How the step uses a strategy is in ram/step.py (`Trainer._distributed_train_step`): each worker
makes only its shard of every global batch (`worker_shard`, `data.shard_rows`), every replica on
it trains on its own slice of the global batch (`replica_slice`), the loss terms are averaged over
the global batch, and the location noise is drawn for the whole global batch from a stateless seed
(the run's seed and the step number), each replica taking its rows, so that a step on R replicas
equals a step on one device with the same global batch.
"""

from ram.backend import tf
from ram import cluster
from ram import data


def make_strategy(config):
    """The config's `tf.distribute` strategy, or None for `none`."""
    if config.distribute == "none":
        return None
    if config.distribute == "mirrored":
        if tf.config.list_physical_devices("GPU") or config.cpu_replicas < 2:
            return tf.distribute.MirroredStrategy()  # Every GPU, or else the one CPU device.
        return tf.distribute.MirroredStrategy(split_cpu(config.cpu_replicas))
    cluster.cluster_spec()  # A clear message for a missing or malformed TF_CONFIG.
    # The strategy waits inside TensorFlow (holding Python's lock, so no thread of this process
    # can interrupt it) until every worker has joined: a watchdog process bounds the wait.
    with cluster.Watchdog(config.worker_timeout):
        return tf.distribute.MultiWorkerMirroredStrategy()


def split_cpu(count):
    """Splits the CPU into `count` logical devices (before TensorFlow has run anything); returns
    their names."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:  # TensorFlow has started: it keeps the devices it has.
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise cluster.ClusterError(f"cpu_replicas={count} must be set before TensorFlow "
                                       "starts; it was already running with other devices") from None
    return [f"/cpu:{index}" for index in range(count)]


def worker_shard(config):
    """`(index, workers)` of this process under `multiworker` (it makes that shard of every
    global batch, `data.shard_rows`), or None: one process makes the whole batch."""
    if config.distribute != "multiworker":
        return None
    workers, index = cluster.cluster_spec()
    return index, len(workers)


def replica_slice(count):
    """`(start, end)` of this replica's rows of a global batch of `count` rows (call inside
    `strategy.run`): contiguous, in replica order, sizes differing by at most one. Replicas are
    numbered worker by worker, so with as many on every worker a worker's replicas together hold
    its shard (`data.shard_rows`), cut by the same `data.share`."""
    context = tf.distribute.get_replica_context()
    index = tf.cast(context.replica_id_in_sync_group, tf.int32)
    return data.share(index, context.num_replicas_in_sync, count)
