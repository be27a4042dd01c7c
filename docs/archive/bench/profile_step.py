"""Where one sRb-VAE training step spends its time, op by op, and how fast its convolutions can go at best.

    python docs/archive/bench/profile_step.py tf 64 1.0            # op profile of this project's step (paper preset)
    VENV/bin/python docs/archive/bench/profile_step.py torch 64 1.0  # op profile of $TORCH_REF
    python docs/archive/bench/profile_step.py convs 64 1.0         # conv FLOPs of our step and their floor in time

`tf`: 5 untimed steps, then a `tf.profiler` trace of STEPS steps; op time per step summed by op type from
the trace's xplane (ops of the two inter-op threads may overlap, so shares matter more than sums; run
with TF_NUM_INTEROP_THREADS=1 for a serial sum).
`torch`: 3 untimed steps, then `torch.profiler` over STEPS steps of the reference; self CPU time per op.
`convs`: every convolution of our batched step (forward, input gradient, filter gradient, at the batch
that network sees), each timed alone as its own TensorFlow op (median of 5 after 2 untimed calls). The
sum is what the convolutions alone cost at this machine's best single-op speed: a floor for the step.
One table row per conv call (GFLOP/s of each of its three ops), then the total.
"""

import collections
import glob
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
BATCH = 36


def tf_model(size, width):
    sys.path.insert(0, str(ROOT))
    from rbvae_tf.config import FitConfig
    from rbvae_tf.distribute import get_strategy
    from rbvae_tf.training import make_model

    config = FitConfig(model="srbvae", preset="paper", image_size=size, width=width, jit=False)
    return make_model(config, get_strategy(1))


def tf_profile(size, width, steps):
    import numpy as np
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    model = tf_model(size, width)
    rng = np.random.default_rng(0)
    batch = tuple(tf.constant(rng.uniform(-1, 1, (BATCH, size, size, 3)).astype(np.float32)) for _ in range(2))
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(dataset, epochs=1, steps_per_epoch=5, verbose=0)
    logdir = tempfile.mkdtemp()
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    wall = (time.perf_counter() - start) / steps
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    space.ParseFromString(pathlib.Path(sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))[-1]).read_bytes())
    ms, calls = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                op_type = name.rsplit(":", 1)[-1] if ":" in name and not name.startswith("$") else None
                if op_type and op_type not in ("Process", "Run") and not op_type.startswith(" __inference"):
                    ms[op_type] += event.duration_ps / 1e9 / steps
                    calls[op_type] += 1 / steps
    return wall, ms, calls


def torch_profile(size, width, steps):
    from torch.profiler import ProfilerActivity, profile

    sys.path.insert(0, str(pathlib.Path(os.environ["TORCH_REF"]).resolve().parent))  # not part of this project
    import torch_ref_srbvae

    torch_ref_srbvae.main(size, BATCH, width, 3)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        torch_ref_srbvae.main(size, BATCH, width, steps)
        wall = (time.perf_counter() - start) / steps
    ms, calls = collections.Counter(), collections.Counter()
    for event in prof.key_averages():
        ms[event.key] += event.self_cpu_time_total / 1000 / steps
        calls[event.key] += event.count / steps
    return wall, ms, calls


def step_convs(size, width):
    """(network, layer, input shape, kernel shape) of every conv in the batched step.

    Rows per call as in `SRbVAE.adversarial_terms`: common encoder 4M, target encoder 2M, generator 2M
    (called twice), each discriminator 2M. Each conv runs forward, input gradient and filter gradient
    once: `AdversarialBase.game_gradients` backpropagates once through each discriminator for both
    players (before it, the discriminators' input gradients ran a second time, for the model player:
    286.6 GFLOP a step at 64 px width 1 instead of 258.5).
    """
    import keras

    model = tf_model(size, width)
    rows = {"common_encoder": 4 * BATCH, "target_encoder": 2 * BATCH, "generator": 2 * BATCH,
            "discriminator": 2 * BATCH, "reference_discriminator": 2 * BATCH}
    calls = {"generator": 2}
    convs = []
    for network, batch in rows.items():
        layers = [layer for layer in getattr(model, network).layers if isinstance(layer, keras.layers.Conv2D)]
        for layer in layers:
            for _ in range(calls.get(network, 1)):
                convs.append((network, layer.name, (batch, *layer.input.shape[1:]), tuple(layer.kernel.shape)))
    return convs


def conv_floor(size, width):
    import numpy as np
    import tensorflow as tf

    def median_s(fn, *args):
        for _ in range(2):
            fn(*args).numpy()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            fn(*args).numpy()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    forward = tf.function(lambda x, k, b: tf.nn.bias_add(tf.nn.conv2d(x, k, 1, "SAME"), b))
    grad_input = tf.function(lambda x, k, dy: tf.raw_ops.Conv2DBackpropInput(
        input_sizes=tf.shape(x), filter=k, out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"))
    grad_filter = tf.function(lambda x, k, dy: tf.raw_ops.Conv2DBackpropFilter(
        input=x, filter_sizes=tf.shape(k), out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"))
    rng = np.random.default_rng(0)
    total_flop, total_s, cache = 0.0, 0.0, {}
    for network, name, shape, kernel in step_convs(size, width):
        key = (shape, kernel)
        if key not in cache:
            x = tf.constant(rng.normal(size=shape).astype(np.float32))
            k = tf.constant(rng.normal(size=kernel).astype(np.float32))
            dy = tf.constant(rng.normal(size=(*shape[:3], kernel[-1])).astype(np.float32))
            b = tf.zeros(kernel[-1])
            cache[key] = (median_s(forward, x, k, b), median_s(grad_input, x, k, dy), median_s(grad_filter, x, k, dy))
        t_fwd, t_in, t_filter = cache[key]
        flop = 2.0 * np.prod(shape[:3]) * np.prod(kernel)  # one pass: 2 * outputs * 3 * 3 * C_in * C_out
        print(f"| {network}/{name} | {shape} | {kernel} | " + " | ".join(
            f"{flop / t / 1e9:.0f}" for t in (t_fwd, t_in, t_filter)) + " |")
        total_flop += 3 * flop
        total_s += t_fwd + t_filter + t_in
    return total_flop, total_s


def main(argv):
    mode, size, width = argv[0], int(argv[1]), float(argv[2])
    steps = int(argv[3]) if len(argv) > 3 else (4 if size >= 64 else 20)
    if mode == "convs":
        print("| conv | input | kernel | GFLOP/s forward | input gradient | filter gradient |")
        print("|---|---|---|---|---|---|")
        flop, seconds = conv_floor(size, width)
        print(f"size {size} width {width}: convolutions of one step {flop / 1e9:.1f} GFLOP; each op alone "
              f"takes {seconds:.3f} s in all ({flop / seconds / 1e9:.0f} GFLOP/s)")
        return
    wall, ms, calls = (tf_profile if mode == "tf" else torch_profile)(size, width, steps)
    total = sum(ms.values())
    print(f"{mode} size {size} width {width}: {1000 * wall:.0f} ms/step under the profiler, "
          f"op time {total:.0f} ms/step")
    for op, value in ms.most_common(16):
        print(f"| {op} | {value:.1f} | {calls[op]:.0f} | {100 * value / total:.1f} % |")


if __name__ == "__main__":
    main(sys.argv[1:])
