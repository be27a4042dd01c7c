"""The sRb-VAE training step against the eager PyTorch step, back to back, with oneDNN on and off.

Each round runs, one after the other in fresh processes: `cli.py bench train` (the paper's
objective, batch 36, fp32, no XLA) with TF_ENABLE_ONEDNN_OPTS=1, the same with =0, and
benchmarks/torch_srbvae_step.py. The first round is a warm-up (page cache, CPU clocks) and is not
counted; the ratios are taken pair by pair within a round, so the machine's drift cancels.

    python -m venv VENV && VENV/bin/pip install torch numpy      # never a project dependency
    python benchmarks/vs_torch.py --torch VENV/bin/python [--rounds 3] [--out results.jsonl]

Prints the CPU (model name and kernel flags), one Markdown row per counted round and the medians.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from rbvae_tf.runtime import cpu_info  # noqa: E402

# size, width, timed steps, warm-up steps: about 10-40 s per process on a 2-core CPU
CONFIGS = {"32": (32, 0.5, 20, 5), "64": (64, 1.0, 8, 3)}


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
            "--preset",
            "paper",
            "--image-size",
            str(size),
            "--width",
            str(width),
            "--jit",
            "off",
            "--steps",
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
    parser.add_argument("--torch", required=True, help="the python of a venv with torch")
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds per size (after one warm-up)")
    parser.add_argument("--sizes", default="32,64", help="which of 32 (width 0.5) and 64 (width 1.0)")
    parser.add_argument("--out", help="append every measurement to this JSON-lines file")
    args = parser.parse_args()
    cpu = cpu_info()
    print(f"CPU: {cpu['cpu']}; flags: {' '.join(cpu['cpu_flags'])}; {os.cpu_count()} cores")
    print(
        "| size | width | round | oneDNN on s/step | oneDNN off s/step | torch s/step | torch/on | torch/off | off/on |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for key in args.sizes.split(","):
        size, width, steps, warmup = CONFIGS[key]
        ratios = {"torch/on": [], "torch/off": [], "off/on": []}
        for round_ in range(args.rounds + 1):
            on = tf_step(size, width, steps, warmup, "1")
            off = tf_step(size, width, steps, warmup, "0")
            torch = torch_step(args.torch, size, width, steps, warmup)
            record = {
                "size": size,
                "width": width,
                "round": round_ or "warm-up",
                "onednn_on_s": on,
                "onednn_off_s": off,
                "torch_s": torch,
                "loadavg": os.getloadavg()[0],
                **cpu,
            }
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(record) + "\n")
            if round_:
                for name, value in (("torch/on", torch / on), ("torch/off", torch / off), ("off/on", off / on)):
                    ratios[name].append(value)
            print(
                f"| {size} | {width} | {record['round']} | {on:.3f} | {off:.3f} | {torch:.3f} | {torch / on:.2f} "
                f"| {torch / off:.2f} | {off / on:.2f} |",
                flush=True,
            )
        medians = ", ".join(f"{name} {statistics.median(v):.2f}x" for name, v in ratios.items())
        print(f"| {size} | {width} | median | | | | {medians} |")


if __name__ == "__main__":
    main()
