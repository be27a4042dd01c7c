"""The sRb-VAE training step in variants of TensorFlow, and against the eager PyTorch step, back to back.

Each round runs, one after the other in fresh processes: `cli.py bench train` (the paper's objective,
batch 36) once per TF variant (by default oneDNN on and oneDNN off, fp32, no XLA), then (with --torch)
benchmarks/torch_srbvae_step.py. The first round is a warm-up (page cache, CPU clocks) and is not
counted; the ratios are taken pair by pair within a round, so the machine's drift cancels.

    python -m venv VENV && VENV/bin/pip install torch numpy      # never a project dependency
    python benchmarks/vs_torch.py --torch VENV/bin/python [--rounds 3] [--out results.jsonl]
    python benchmarks/vs_torch.py [--rounds 3]                   # TensorFlow only: oneDNN on / off
    python benchmarks/vs_torch.py --torch VENV/bin/python --variants on,xla,bf16,xla-bf16 --sizes 32,64

Variants (`--variants`, comma-separated, ratios against the first): `on` oneDNN on, fp32, no XLA (the
default of `cli.py fit` on a CPU); `off` oneDNN off; `xla` oneDNN on and `--jit on`; `bf16` oneDNN on and
`--mixed-precision bf16` (CPUs with AVX512_BF16 or AMX); `xla-bf16` both.

Prints the CPU (model name and kernel flags), one Markdown row per round and the medians of the ratios;
`--out` appends every round as a JSON line with the CPU (`lscpu`'s model name and every flag), the load
average and the share of the CPUs that other work used during each process. On a shared machine,
`--idle 0.1` waits for a quiet moment before each round and `--max-other 0.05` runs a round again when
other work used more than that share of the CPUs during one of its processes.
Size 16 (width 1/8) with `--rounds 1 --warmup-rounds 0` is the smoke test (tests/test_vs_torch.py).
"""

import argparse
import importlib.util
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def cpu_info():
    """`rbvae_tf.runtime.cpu_info()`, read from its file alone: this process never imports TensorFlow."""
    spec = importlib.util.spec_from_file_location("rbvae_tf_runtime", REPO / "rbvae_tf" / "runtime.py")
    runtime = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runtime)
    return runtime.cpu_info()


def lscpu():
    """`lscpu`'s model name and every CPU flag ({} without lscpu)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return {"lscpu_model_name": fields.get("Model name"), "lscpu_flags": fields.get("Flags", "").split()}


# size, width, timed steps, warm-up steps: about 10-40 s per process on a 2-core CPU; 16 is the smoke test
CONFIGS = {"16": (16, 0.125, 3, 1), "32": (32, 0.5, 20, 5), "64": (64, 1.0, 8, 3)}
# variant: (TF_ENABLE_ONEDNN_OPTS, XLA, mixed precision, column title, key of its seconds in the records)
VARIANTS = {
    "on": ("1", False, None, "oneDNN on", "onednn_on"),
    "off": ("0", False, None, "oneDNN off", "onednn_off"),
    "xla": ("1", True, None, "XLA", "xla"),
    "bf16": ("1", False, "bf16", "bf16", "bf16"),
    "xla-bf16": ("1", True, "bf16", "XLA+bf16", "xla_bf16"),
}


def cpu_seconds():
    """(busy, all) CPU seconds of the whole machine since boot, from /proc/stat; None if unreadable."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - values[3] - values[4]) / tick, sum(values) / tick  # idle and iowait are not busy


def busy_fraction(seconds=2.0):
    """The share of the CPUs' time spent busy over the next `seconds` (None if /proc/stat is unreadable)."""
    before = cpu_seconds()
    time.sleep(seconds)
    after = cpu_seconds()
    if before is None or after is None:
        return None
    return (after[0] - before[0]) / max(1e-9, after[1] - before[1])


def wait_until_idle(limit, patience):
    """Waits (up to `patience` s) until other work uses less than `limit` of the CPUs; returns the last share."""
    deadline = time.time() + patience
    while True:
        busy = busy_fraction()
        if busy is None or busy < limit or time.time() > deadline:
            return busy
        print(f"(the CPUs are {100 * busy:.0f} % busy with other work: waiting)", file=sys.stderr, flush=True)
        time.sleep(10)


def with_other_share(call):
    """Runs `call()`; returns its value and the share of the CPUs that other work used meanwhile (the
    machine's busy CPU time minus that of this process's children, over all the CPUs' time; None without
    /proc/stat)."""
    before, children = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    value = call()
    after, done = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    if before is None or after is None:
        return value, None
    own = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    return value, max(0.0, after[0] - before[0] - own) / max(1e-9, after[1] - before[1])


def last_json(command, env=None):
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def tf_step(size, width, steps, warmup, variant):
    """Median seconds of the variant's step (`cli.py bench train`), checking that it ran as asked."""
    onednn, xla, precision, _, _ = VARIANTS[variant]
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    command = [sys.executable, "cli.py", "bench", "train", "--model", "srbvae", "--budget", "paper"]
    command += ["--image-size", str(size), "--width", str(width), "--jit", "on" if xla else "off"]
    command += ["--repeats", str(steps), "--warmup", str(warmup)]
    command += ["--mixed-precision", precision] if precision else []
    row = last_json(command, env)[0]
    assert row["onednn"] is (onednn == "1"), row  # the kernels asked for are the kernels that ran
    assert (row["jit"], row["precision"]) == (xla, precision or "fp32"), row
    return row["median_step_s"]


def torch_step(python, size, width, steps, warmup):
    command = [python, str(REPO / "benchmarks/torch_srbvae_step.py"), str(size), str(width)]
    return last_json([*command, "--steps", str(steps), "--warmup", str(warmup)])["median_step_s"]


def ratio_names(variants, with_torch):
    """torch/<each variant>, then <each other variant>/<the first> ("off/on" > 1: oneDNN on is faster)."""
    return ([f"torch/{v}" for v in variants] if with_torch else []) + [f"{v}/{variants[0]}" for v in variants[1:]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", help="the python of a venv with torch; without it only TensorFlow is timed")
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds per size (after the warm-up rounds)")
    parser.add_argument("--warmup-rounds", type=int, default=1, help="uncounted rounds first per size")
    parser.add_argument("--sizes", default="32,64", help="which of 16 (width 0.125), 32 (0.5) and 64 (1.0)")
    parser.add_argument("--variants", default="on,off", help=f"TF variants, comma-separated, of {','.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, help="timed steps per process [default: the size's]")
    parser.add_argument("--warmup", type=int, help="untimed steps per process [default: the size's]")
    parser.add_argument("--out", help="append every measurement to this JSON-lines file")
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="before each round wait until the CPUs are less busy than SHARE (e.g. 0.1; 0: never wait)",
    )
    parser.add_argument("--patience", type=float, default=600, help="longest wait for --idle, seconds")
    parser.add_argument(
        "--max-other",
        type=float,
        default=1.0,
        metavar="SHARE",
        help="run a round again (up to --retries times) when other work used more than SHARE of the CPUs "
        "during one of its processes (e.g. 0.05)",
    )
    parser.add_argument("--retries", type=int, default=3, help="repeats of a round disturbed by other work")
    args = parser.parse_args()
    if args.rounds < 1 or args.warmup_rounds < 0:
        parser.error("--rounds must be >= 1 and --warmup-rounds >= 0")
    sizes, variants = args.sizes.split(","), args.variants.split(",")
    if not set(sizes) <= set(CONFIGS):
        parser.error(f"--sizes takes some of {','.join(CONFIGS)}, got {args.sizes}")
    if not set(variants) <= set(VARIANTS) or len(set(variants)) != len(variants):
        parser.error(f"--variants takes distinct ones of {','.join(VARIANTS)}, got {args.variants}")
    cpu = cpu_info()
    machine = {**cpu, **lscpu()}
    print(f"CPU: {cpu['cpu']}; flags: {' '.join(cpu['cpu_flags'])}; {os.cpu_count()} cores")
    names = ratio_names(variants, bool(args.torch))
    columns = [f"{VARIANTS[v][3]} s/step" for v in variants] + (["torch s/step"] if args.torch else []) + names
    print("| size | width | round | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for key in sizes:
        size, width, steps, warmup = CONFIGS[key]
        steps, warmup = args.steps or steps, args.warmup or warmup
        ratios = {name: [] for name in names}
        index, retries = 0, 0
        while index < args.warmup_rounds + args.rounds:
            counted = index >= args.warmup_rounds
            busy = wait_until_idle(args.idle, args.patience) if args.idle else None
            seconds, others = {}, {}
            for v in variants:
                seconds[v], others[v] = with_other_share(lambda: tf_step(size, width, steps, warmup, v))
            if args.torch:
                seconds["torch"], others["torch"] = with_other_share(
                    lambda: torch_step(args.torch, size, width, steps, warmup)
                )
            values = {name: seconds[name.split("/")[0]] / seconds[name.split("/")[1]] for name in names}
            other = max((o for o in others.values() if o is not None), default=None)
            disturbed = other is not None and other > args.max_other and retries < args.retries
            label = "disturbed" if disturbed else index - args.warmup_rounds + 1 if counted else "warm-up"
            record = {
                "size": size,
                "width": width,
                "round": label,
                **{f"{VARIANTS[v][4]}_s": seconds[v] for v in variants},
                "torch_s": seconds.get("torch"),
                "other_share": {k: None if o is None else round(o, 3) for k, o in others.items()},
                "busy_before": busy,
                "loadavg": os.getloadavg()[0],
                **machine,
            }
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(record) + "\n")
            note = f" (other work {100 * other:.0f} %)" if disturbed else ""
            cells = [f"{s:.3f}" for s in seconds.values()] + [f"{r:.2f}" for r in values.values()]
            print(f"| {size} | {width} | {label}{note} | " + " | ".join(cells) + " |", flush=True)
            if disturbed:  # not counted: the same round again
                retries += 1
                continue
            if counted:
                for name, value in values.items():
                    ratios[name].append(value)
            index, retries = index + 1, 0
        medians = ", ".join(f"{name} {statistics.median(v):.2f}x" for name, v in ratios.items())
        print(f"| {size} | {width} | median | " + "| " * len(seconds) + f"{medians} |")


if __name__ == "__main__":
    main()
