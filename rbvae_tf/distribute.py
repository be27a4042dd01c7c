"""Choosing the tf.distribute strategy: `--replicas N` in one process, or several workers.

Several workers (processes, usually one per host) train with TensorFlow's own
`tf.distribute.MultiWorkerMirroredStrategy`, configured by the `TF_CONFIG` environment variable that
cluster managers set, or by `--workers host:port,... --worker-index i`, which writes that variable.
"""

import json
import os

import tensorflow as tf

from rbvae_tf.errors import UserError


def parse_workers(workers, worker_index):
    """`--workers host:port,...` and `--worker-index i` -> the TF_CONFIG dict they stand for.

    Raises UserError for a malformed address, a repeated one, or an index missing or out of range.
    """
    if workers is None:
        if worker_index is not None:
            raise UserError("--worker-index needs --workers")
        return None
    addresses = [address.strip() for address in workers.split(",")]
    for address in addresses:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError(f"--workers takes host:port addresses separated by commas, got {address!r}")
    if len(set(addresses)) != len(addresses):
        raise UserError(f"--workers lists an address twice: {workers}")
    if worker_index is None:
        raise UserError("--workers needs --worker-index (0 for the chief, which writes the run directory)")
    if not 0 <= worker_index < len(addresses):
        raise UserError(
            f"--worker-index must be in 0..{len(addresses) - 1} for {len(addresses)} workers, got {worker_index}"
        )
    return {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": worker_index}}


def cluster_from_environment(environ=os.environ):
    """(number of workers, this worker's index, is it the chief) from `TF_CONFIG`, or None without one.

    The chief is the task of type "chief" if the cluster has one, else worker 0 (TensorFlow's rule).
    """
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        count = sum(len(cluster.get(name, [])) for name in ("chief", "worker"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host:port", ...]}, '
            '"task": {"type": "worker", "index": 0}}'
        ) from None
    if kind not in ("chief", "worker") or not 0 <= index < len(cluster.get(kind, [])):
        raise UserError(f"TF_CONFIG: task {kind} {index} is not in its cluster")
    chief = kind == "chief" or (index == 0 and not cluster.get("chief"))
    return count, index, chief


def multi_worker_strategy():
    """MultiWorkerMirroredStrategy from TF_CONFIG; it must be made before TensorFlow starts its runtime."""
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as error:
        raise UserError(f"cannot start multi-worker training ({error})") from None


def get_strategy(replicas=1, cluster=None):
    """The default strategy for 1 replica, a MirroredStrategy over N devices, or a
    MultiWorkerMirroredStrategy when `cluster` (see `cluster_from_environment`) is given.

    N GPUs if there are that many; otherwise the CPU is split into N logical devices (as Keras' own
    distribute tests do), which must happen before TensorFlow initialises its devices. Each worker of
    a multi-worker group uses all its GPUs (or its CPU) as TensorFlow does: `replicas` must be 1 then.
    """
    if replicas < 1:
        raise UserError(f"--replicas must be >= 1, got {replicas}")
    if cluster is not None:
        if replicas != 1:
            raise UserError("--replicas does not combine with --workers: each worker uses all its GPUs (or its CPU)")
        return multi_worker_strategy()
    if replicas == 1:
        return tf.distribute.get_strategy()
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= replicas:
        devices = [f"/gpu:{i}" for i in range(replicas)]
    else:
        most = max(2, os.cpu_count() or 1)  # more logical CPU devices than cores only slow a step down
        if replicas > most:
            raise UserError(
                f"--replicas {replicas}: this machine has {len(gpus)} GPUs and can split its CPU "
                f"into at most {most} devices (one per core)"
            )
        cpu = tf.config.list_physical_devices("CPU")[0]
        # get_logical_device_configuration does not start the runtime (list_logical_devices would)
        configured = tf.config.get_logical_device_configuration(cpu) or []
        if len(configured) != replicas:
            try:
                tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
            except RuntimeError as error:
                raise UserError(
                    f"cannot split the CPU into {replicas} devices after TensorFlow started ({error})"
                ) from None
        devices = [f"/cpu:{i}" for i in range(replicas)]
    return tf.distribute.MirroredStrategy(devices)


def gather_replicas(tensor):
    """`tensor` (this replica's rows) with the rows of every replica, in replica order: the global batch.

    For the statistics of a batch that are not means of per-example terms (DIP-VAE's covariance):
    computed on the gathered rows, every replica sees the global batch's value, and the gradient of
    `all_gather` hands each replica the part of its own rows, so N replicas step as one device does on
    the same global batch. Outside a multi-replica step it returns `tensor` itself.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tensor
    return context.all_gather(tensor, axis=0)


def broadcast_from_chief(strategy, variables):
    """Sets `variables` on every worker to the chief's values (no-op with one worker).

    A sum all-reduce to which only the first replica (the chief's) contributes: after a restart,
    workers may have restored backups of different steps (one was killed while the other saved),
    and this makes the whole group continue from the chief's. Values travel as float64, exact for
    the float32 weights and the integer step counters.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or not variables:
        return

    @tf.function
    def chief_values():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            mine = tf.cast(tf.equal(context.replica_id_in_sync_group, 0), tf.float64)
            return context.all_reduce("sum", [tf.cast(v.value, tf.float64) * mine for v in variables])

        return strategy.run(replica_fn)

    values = chief_values()
    for variable, value in zip(variables, values):
        variable.assign(tf.cast(strategy.experimental_local_results(value)[0], variable.dtype))
