"""The sRb-VAE training step with oneDNN on and off, and against the eager PyTorch step, back to back.

Each round runs, one after the other in fresh processes: `cli.py bench train` (the paper's
objective, batch 36, fp32, no XLA) with TF_ENABLE_ONEDNN_OPTS=1, the same with =0, and (with --torch)
benchmarks/torch_srbvae_step.py. The first round is a warm-up (page cache, CPU clocks) and is not
counted; the ratios are taken pair by pair within a round, so the machine's drift cancels.

    python -m venv VENV && VENV/bin/pip install torch numpy      # never a project dependency
    python benchmarks/vs_torch.py --torch VENV/bin/python [--rounds 3] [--out results.jsonl]
    python benchmarks/vs_torch.py [--rounds 3]                   # TensorFlow only: oneDNN on / off

Prints the CPU (model name and kernel flags), one Markdown row per counted round and the medians.
Size 16 (width 1/8) with `--rounds 1 --warmup-rounds 0` is the smoke test (tests/test_vs_torch.py).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from rbvae_tf.runtime import cpu_info  # noqa: E402

# size, width, timed steps, warm-up steps: about 10-40 s per process on a 2-core CPU; 16 is the smoke test
CONFIGS = {"16": (16, 0.125, 3, 1), "32": (32, 0.5, 20, 5), "64": (64, 1.0, 8, 3)}


def last_json(command, env=None):
    out = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def tf_step(size, width, steps, warmup, onednn):
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    row = last_json(
        [
            sys.executable,
            "cli.py",
            "bench",
            "train",
            "--model",
            "srbvae",
            "--budget",
            "paper",
            "--image-size",
            str(size),
            "--width",
            str(width),
            "--jit",
            "off",
            "--repeats",
            str(steps),
            "--warmup",
            str(warmup),
        ],
        env,
    )[0]
    assert row["onednn"] is (onednn == "1"), row  # the kernels asked for are the kernels that ran
    return row["median_step_s"]


def torch_step(python, size, width, steps, warmup):
    return last_json(
        [
            python,
            str(REPO / "benchmarks/torch_srbvae_step.py"),
            str(size),
            str(width),
            "--steps",
            str(steps),
            "--warmup",
            str(warmup),
        ]
    )["median_step_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", help="the python of a venv with torch; without it only TensorFlow is timed")
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds per size (after the warm-up rounds)")
    parser.add_argument("--warmup-rounds", type=int, default=1, help="uncounted rounds first per size")
    parser.add_argument("--sizes", default="32,64", help="which of 16 (width 0.125), 32 (0.5) and 64 (1.0)")
    parser.add_argument("--steps", type=int, help="timed steps per process [default: the size's]")
    parser.add_argument("--warmup", type=int, help="untimed steps per process [default: the size's]")
    parser.add_argument("--out", help="append every measurement to this JSON-lines file")
    args = parser.parse_args()
    if args.rounds < 1 or args.warmup_rounds < 0:
        parser.error("--rounds must be >= 1 and --warmup-rounds >= 0")
    sizes = args.sizes.split(",")
    if not set(sizes) <= set(CONFIGS):
        parser.error(f"--sizes takes some of {','.join(CONFIGS)}, got {args.sizes}")
    cpu = cpu_info()
    print(f"CPU: {cpu['cpu']}; flags: {' '.join(cpu['cpu_flags'])}; {os.cpu_count()} cores")
    if args.torch:
        print(
            "| size | width | round | oneDNN on s/step | oneDNN off s/step | torch s/step "
            "| torch/on | torch/off | off/on |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
    else:
        print("| size | width | round | oneDNN on s/step | oneDNN off s/step | off/on |")
        print("|---|---|---|---|---|---|")
    for key in sizes:
        size, width, steps, warmup = CONFIGS[key]
        steps, warmup = args.steps or steps, args.warmup or warmup
        ratios = {"torch/on": [], "torch/off": [], "off/on": []} if args.torch else {"off/on": []}
        for index in range(args.warmup_rounds + args.rounds):
            counted = index >= args.warmup_rounds
            on = tf_step(size, width, steps, warmup, "1")
            off = tf_step(size, width, steps, warmup, "0")
            torch = torch_step(args.torch, size, width, steps, warmup) if args.torch else None
            record = {
                "size": size,
                "width": width,
                "round": index - args.warmup_rounds + 1 if counted else "warm-up",
                "onednn_on_s": on,
                "onednn_off_s": off,
                "torch_s": torch,
                "loadavg": os.getloadavg()[0],
                **cpu,
            }
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(record) + "\n")
            if args.torch:
                values = {"torch/on": torch / on, "torch/off": torch / off, "off/on": off / on}
                print(
                    f"| {size} | {width} | {record['round']} | {on:.3f} | {off:.3f} | {torch:.3f} | {torch / on:.2f} "
                    f"| {torch / off:.2f} | {off / on:.2f} |",
                    flush=True,
                )
            else:
                values = {"off/on": off / on}
                print(f"| {size} | {width} | {record['round']} | {on:.3f} | {off:.3f} | {off / on:.2f} |", flush=True)
            if counted:
                for name, value in values.items():
                    ratios[name].append(value)
        medians = ", ".join(f"{name} {statistics.median(v):.2f}x" for name, v in ratios.items())
        print(f"| {size} | {width} | median | | | {'| ' if args.torch else ''}{medians} |")


if __name__ == "__main__":
    main()
