"""Where one training step spends its time: a TensorFlow profiler trace of `bench train`'s step, summed.

    python benchmarks/profile_step.py                        # sRb-VAE, paper objective, 32 px width 1/2, batch 36
    python benchmarks/profile_step.py --image-size 64 --width 1 --steps 4
    python benchmarks/profile_step.py --data mnist           # the `fit` input pipeline instead of one fixed batch
    python benchmarks/profile_step.py --jit                  # the XLA-compiled step
    python benchmarks/profile_step.py --mixed-precision bf16
    python benchmarks/profile_step.py --fused-adam           # both Adams as benchmarks/fused_adam.py's FusedStepAdam

Builds the model as `cli.py bench train` does (`rbvae_tf.training.make_model`, the `paper` budget), runs
`--warmup` untimed steps, times `--steps` steps without the profiler, then traces `--steps` more with
`tf.profiler.experimental` and reads the trace's XSpace (no TensorBoard plugin needed). Prints the CPU, the
step's wall time with and without the profiler, how busy the two inter-op threads were, and the op time per
step by phase (forward, backward, optimizer), by network, by kind of op and by op type.

The op time is the sum of the kernels' own durations over TensorFlow's inter-op threads (they overlap, so it can
exceed the wall time); "executor overhead" is the time those threads spent in `ExecutorState::Process` outside
any kernel (scheduling, allocation, the per-op cost of running ~4,500 small ops a step).
"""

import argparse
import collections
import glob
import json
import os
import pathlib
import re
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NETWORKS = ("common_encoder", "target_encoder", "generator", "reference_discriminator", "discriminator")
KINDS = [  # (kind, test on (scope, op type)), first match wins
    ("optimizer (Adam)", lambda scope, op: re.search(r"(^|/)(step_)?adam(_\d+)?/", scope) is not None),
    ("convolution", lambda scope, op: "Conv2D" in op),
    ("dense (MatMul)", lambda scope, op: "MatMul" in op),
    ("pooling", lambda scope, op: "Pool" in op),
    ("upsampling", lambda scope, op: "_up" in scope),
    ("pixel norm", lambda scope, op: "_pn" in scope),
    ("LeakyReLU", lambda scope, op: "LeakyRelu" in op or "lrelu" in scope),
    ("bias gradient", lambda scope, op: op == "BiasAddGrad"),
    ("dropout", lambda scope, op: "dropout" in scope),
    ("random numbers", lambda scope, op: "Random" in op),
    ("variable reads / writes", lambda scope, op: "VariableOp" in op or op in ("Identity", "NoOp", "Const")),
    ("data (IteratorGetNext)", lambda scope, op: "Iterator" in op or op.startswith("Optional")),
]


HEAVY = ("Conv2D", "MatMul", "Pool")  # op types that do the arithmetic (oneDNN's _MklNative... included)
STATE = ("VariableOp", "Identity", "NoOp", "Const", "Iterator", "Optional")


def class_of(op):
    """heavy (convolutions, matrix products, pooling), variable reads / writes and glue, or element-wise."""
    if any(part in op for part in HEAVY):
        return "heavy: convolution, matmul, pooling"
    if any(part in op for part in STATE):
        return "variables, iterator, control"
    return "element-wise, reductions, shape ops"


def kind_of(scope, op):
    return next((kind for kind, test in KINDS if test(scope, op)), "other element-wise, reductions, glue")


def network_of(scope):
    for part in scope.split("/"):
        base = re.sub(r"_\d+$", "", part)
        if base in NETWORKS:
            return base
    return "adam (both optimizers)" if re.search(r"(^|/)(step_)?adam(_\d+)?/", scope) else "losses, game_gradients glue"


def build(args):
    from rbvae_tf.config import FitConfig
    from rbvae_tf.distribute import get_strategy
    from rbvae_tf.training import make_model

    fields = dict(model=args.model, preset="paper", image_size=args.image_size, width=args.width, jit=args.jit)
    if args.mixed_precision:
        fields["mixed_precision"] = args.mixed_precision
    config = FitConfig(**fields)
    model = make_model(config, get_strategy(1))
    if args.fused_adam:  # the same Adams (rates, schedules), each variable's update one ResourceApplyAdam kernel
        from benchmarks.fused_adam import FusedStepAdam, with_adams

        model = with_adams(model, FusedStepAdam)
    return config, model


def dataset(config, kind):
    import numpy as np
    import tensorflow as tf

    if kind == "fixed":  # as `bench train`: one random batch, repeated
        rng = np.random.default_rng(0)
        shape = (config.batch_size, config.image_size, config.image_size, 3)
        batch = tuple(tf.constant(rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(2))
        return tf.data.Dataset.from_tensors(batch).repeat()
    from rbvae_tf import data as data_lib

    folder = data_lib.cached_mnist_style(
        size=config.image_size, seed=config.data_seed, limit=config.limit, reference_width=config.reference_width
    )
    images = [data_lib.load_split(folder, split)["images"] for split in ("unlabelled", "reference")]
    return data_lib.train_dataset(*images, config.batch_size, seed=config.seed)


def clock(warmup, steps, logdir):
    """A callback that times every step of one `fit` (one iterator, as in training) and traces the last
    `steps` of `warmup + 2 * steps`; the step times are in its `times`."""
    import keras
    import tensorflow as tf

    class Clock(keras.callbacks.Callback):
        times = []

        def on_train_batch_begin(self, batch, logs=None):
            if batch == warmup + steps:
                tf.profiler.experimental.start(logdir)
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.start)
            if batch == warmup + 2 * steps - 1:
                tf.profiler.experimental.stop()

    return Clock()


def read_trace(logdir):
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(pathlib.Path(sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))[-1]).read_bytes())
    return next(plane for plane in space.planes if plane.name == "/host:CPU")


def summarise(plane, steps, wall):
    """Op time per step (ms) by phase, network, kind and op type, and the inter-op threads' occupancy."""
    by = {name: collections.Counter() for name in ("phase", "network", "kind", "op")}
    calls = collections.Counter()
    counts = {name: collections.Counter() for name in ("phase", "network", "kind", "op", "class", "phase x class")}
    threads, op_ms, process_ms, n_ops, small = [], 0.0, 0.0, 0, collections.Counter()
    spans = []
    for line in plane.lines:
        if not line.name.startswith("tf_Compute") and not line.name.startswith("tf_data_iterator_get_next"):
            continue
        busy, op_end = 0.0, -1
        for event in sorted(line.events, key=lambda e: e.offset_ps):
            name = plane.event_metadata[event.metadata_id].name
            ms = event.duration_ps / 1e9
            if name == "ExecutorState::Process":
                process_ms += ms
                busy += ms
                spans.append((event.offset_ps, event.offset_ps + event.duration_ps))
                continue
            if name == "IteratorGetNextOp::DoCompute":  # the step waiting for its batch
                by["phase"]["waiting for the input pipeline"] += ms / steps
                continue
            if ":" not in name or "::" in name or name.startswith("$"):
                continue  # not a TensorFlow op (tf.data's and the profiler's own events)
            scope, op = name.rsplit(":", 1)
            if op.startswith("__inference") or op in ("Process", "Run") or event.offset_ps < op_end:
                continue  # not a kernel, or one nested in another (an XLA cluster's own events)
            op_end = event.offset_ps + event.duration_ps
            n_ops += 1
            op_ms += ms
            if ms < 0.02:
                small["count"] += 1
                small["ms"] += ms
            phase = (
                "optimizer"
                if kind_of(scope, op) == "optimizer (Adam)"
                else "backward"
                if "gradient_tape/" in scope
                else "forward"
            )
            for key, value in (
                ("phase", phase),
                ("network", network_of(scope)),
                ("kind", kind_of(scope, op)),
                ("op", op),
            ):
                by[key][value] += ms / steps
                counts[key][value] += 1 / steps
            counts["class"][class_of(op)] += 1 / steps
            counts["phase x class"][f"{phase}: {class_of(op)}"] += 1 / steps
            calls[op] += 1 / steps
        if line.name.startswith("tf_Compute"):
            threads.append(busy / steps)
    # union of the executor's busy spans over all threads: the time at least one of them ran
    spans.sort()
    union, end = 0, None
    for start, stop in spans:
        if end is None or start > end:
            union += stop - start
            end = stop
        elif stop > end:
            union += stop - end
            end = stop
    return {
        "by": by,
        "calls": calls,
        "counts": counts,
        "ops_per_step": n_ops / steps,
        "op_ms": op_ms / steps,
        "executor_overhead_ms": (process_ms - op_ms) / steps,
        "small_ops_per_step": small["count"] / steps,
        "small_ops_ms": small["ms"] / steps,
        "thread_busy_ms": sorted(threads, reverse=True),
        "any_thread_busy_ms": union / 1e9 / steps,
        "wall_ms": 1000 * wall,
    }


def report(args, config, unprofiled, profiled, s):
    from rbvae_tf.runtime import kernel_info

    kernels = kernel_info()
    print(
        f"CPU: {kernels['cpu']}; flags: {' '.join(kernels['cpu_flags'])}; {os.cpu_count()} cores; "
        f"oneDNN {'on' if kernels['onednn'] else 'off'}"
    )
    print(
        f"{config.model}, paper objective, {config.image_size} px, width {config.width}, batch {config.batch_size}, "
        f"XLA {'on' if args.jit else 'off'}, precision {args.mixed_precision or 'fp32'}, data {args.data}, "
        f"Adam {'FusedStepAdam' if args.fused_adam else 'StepAdam'}"
    )
    print(
        f"wall: {1000 * unprofiled:.1f} ms/step (mean) without the profiler, {1000 * profiled:.1f} under it "
        f"({args.steps} steps each); {s['ops_per_step']:.0f} ops/step, of which {s['small_ops_per_step']:.0f} "
        f"take < 20 us ({s['small_ops_ms']:.1f} ms in all)"
    )
    busy = " + ".join(f"{ms:.1f}" for ms in s["thread_busy_ms"])
    print(
        f"inter-op threads busy {busy} ms/step; at least one busy {s['any_thread_busy_ms']:.1f} ms/step "
        f"(idle {s['wall_ms'] - s['any_thread_busy_ms']:.1f}); kernels {s['op_ms']:.1f} ms/step; "
        f"executor overhead outside kernels {s['executor_overhead_ms']:.1f} ms/step"
    )
    for key, title, top in (
        ("phase", "phase", 9),
        ("network", "network", 9),
        ("kind", "kind of op", 16),
        ("op", "op type", args.top),
    ):
        total = sum(s["by"][key].values())
        print(f"\n| {title} | ms/step | share |" + (" calls/step |" if key == "op" else ""))
        print("|---|---:|---:|" + ("---:|" if key == "op" else ""))
        for name, ms in s["by"][key].most_common(top):
            extra = f" {s['calls'][name]:.0f} |" if key == "op" else ""
            print(f"| {name} | {ms:.1f} | {100 * ms / total:.1f} % |{extra}")
    print(f"\ntrain_step traced {args.traces} time(s) in {args.warmup + 2 * args.steps} steps")
    for key in ("class", "phase x class", "kind", "network"):
        print(f"\n| {key} | ops/step |\n|---|---:|")
        for name, n in sorted(s["counts"][key].items(), key=lambda item: -item[1]):
            print(f"| {name} | {n:.0f} |")
    print(
        json.dumps(
            {
                "counts": {k: {n: round(c, 1) for n, c in v.items()} for k, v in s["counts"].items()},
                "calls": {k: round(v, 1) for k, v in s["calls"].items()},
                **{k: round(v, 2) for k, v in s.items() if isinstance(v, float)},
                "wall_ms": round(1000 * unprofiled, 2),
                "profiled_ms": round(1000 * profiled, 2),
                "kinds": {k: round(v, 2) for k, v in s["by"]["kind"].items()},
                **kernels,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="srbvae")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--jit", action="store_true", help="XLA-compile the step")
    parser.add_argument("--mixed-precision", choices=["bf16"], default=None)
    parser.add_argument(
        "--fused-adam", action="store_true", help="FusedStepAdam (benchmarks/fused_adam.py): one kernel per variable"
    )
    parser.add_argument(
        "--data",
        choices=["fixed", "mnist"],
        default="fixed",
        help="one fixed random batch (as `bench train`) or the MNIST-style `fit` pipeline",
    )
    parser.add_argument("--top", type=int, default=20, help="op types listed")
    args = parser.parse_args()

    import rbvae_tf  # noqa: F401  (first: it chooses TensorFlow's CPU kernels before TensorFlow starts)

    config, model = build(args)
    args.traces = 0
    train_step = model.train_step

    def counted_train_step(data):  # Python runs only while TensorFlow traces the step
        args.traces += 1
        return train_step(data)

    model.train_step = counted_train_step
    logdir = tempfile.mkdtemp(prefix="profile-step-")
    timer = clock(args.warmup, args.steps, logdir)
    model.fit(
        dataset(config, args.data), epochs=1, steps_per_epoch=args.warmup + 2 * args.steps, callbacks=[timer], verbose=0
    )
    unprofiled = sum(timer.times[args.warmup : args.warmup + args.steps]) / args.steps
    profiled = sum(timer.times[args.warmup + args.steps :]) / args.steps
    report(args, config, unprofiled, profiled, summarise(read_trace(logdir), args.steps, profiled))


if __name__ == "__main__":
    main()
