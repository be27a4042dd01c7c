"""Where the sRb-VAE step's time goes, network by network, in TensorFlow and in the eager PyTorch reference.

    python docs/archive/bench/per_network.py tf 64 1.0                 # this project's networks
    VENV/bin/python docs/archive/bench/per_network.py torch 64 1.0     # $TORCH_REF's networks

Each network (encoder, generator, d(x, z, e)) runs forward + backward (gradients of its parameters) on
72 rows, the batch each sees in one stage of the batched step (two batches of 36); median of 10 calls
after 3 warm-up calls, in milliseconds. The same Appendix D networks in both frameworks, fp32, 2 threads.
"""

import os
import pathlib
import statistics
import sys
import time

ROWS, WARMUP, CALLS = 72, 3, 10


def median_ms(call):
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def tensorflow_times(size, width):
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
    from rbvae_tf.networks import build_discriminator, build_encoder, build_generator

    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(-1, 1, (ROWS, size, size, 3)).astype(np.float32))
    z, e = (tf.constant(rng.normal(size=(ROWS, 32)).astype(np.float32)) for _ in range(2))
    networks = {"encoder": (build_encoder(size, width, 32), [images]),
                "generator": (build_generator(size, width, [32, 32]), [z, e]),
                "discriminator": (build_discriminator(size, width, [32, 32]), [images, z, e])}
    times = {}
    for name, (network, inputs) in networks.items():
        @tf.function
        def step(network=network, inputs=inputs):
            with tf.GradientTape() as tape:
                outputs = tf.nest.flatten(network(inputs, training=True))
                loss = tf.add_n([tf.reduce_mean(tf.square(o)) for o in outputs])
            return tape.gradient(loss, network.trainable_variables)

        times[name] = median_ms(lambda: [g.numpy() for g in step()][:1])
    return times


def torch_times(size, width):
    import torch

    sys.path.insert(0, str(pathlib.Path(os.environ["TORCH_REF"]).resolve().parent))  # not part of this project
    from torch_ref_srbvae import Disc, Encoder, Generator

    torch.manual_seed(0)
    images = torch.rand(ROWS, 3, size, size) * 2 - 1
    z, e = torch.randn(ROWS, 32), torch.randn(ROWS, 32)
    networks = {"encoder": (Encoder(size, width), [images]), "generator": (Generator(size, width), [z, e]),
                "discriminator": (Disc(size, width, True), [images, z, e])}
    times = {}
    for name, (network, inputs) in networks.items():
        def step(network=network, inputs=inputs):
            network.zero_grad(set_to_none=True)
            outputs = network(*inputs)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            sum(o.pow(2).mean() for o in outputs).backward()

        times[name] = median_ms(step)
    return times


if __name__ == "__main__":
    framework, size, width = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    measured = (tensorflow_times if framework == "tf" else torch_times)(size, width)
    print(f"{framework} {size} px width {width}, {ROWS} rows, forward+backward median ms: "
          + ", ".join(f"{name} {ms:.1f}" for name, ms in measured.items()))
