"""Choosing the tf.distribute strategy for `--replicas N`."""

import os

import tensorflow as tf

from rbvae_tf.errors import UserError


def get_strategy(replicas=1):
    """The default strategy for 1 replica, else a MirroredStrategy over N devices.

    N GPUs if there are that many; otherwise the CPU is split into N logical devices (as Keras' own
    distribute tests do), which must happen before TensorFlow initialises its devices.
    """
    if replicas < 1:
        raise UserError(f"--replicas must be >= 1, got {replicas}")
    if replicas == 1:
        return tf.distribute.get_strategy()
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= replicas:
        devices = [f"/gpu:{i}" for i in range(replicas)]
    else:
        most = max(2, os.cpu_count() or 1)  # more logical CPU devices than cores only slow a step down
        if replicas > most:
            raise UserError(f"--replicas {replicas}: this machine has {len(gpus)} GPUs and can split its CPU "
                            f"into at most {most} devices (one per core)")
        cpu = tf.config.list_physical_devices("CPU")[0]
        # get_logical_device_configuration does not start the runtime (list_logical_devices would)
        configured = tf.config.get_logical_device_configuration(cpu) or []
        if len(configured) != replicas:
            try:
                tf.config.set_logical_device_configuration(
                    cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
            except RuntimeError as error:
                raise UserError(
                    f"cannot split the CPU into {replicas} devices after TensorFlow started ({error})") from None
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
