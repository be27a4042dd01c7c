"""TensorFlow's CPU kernels, chosen before TensorFlow is imported, and the CPU they run on.

TensorFlow's x86 wheels run their oneDNN kernels by default only on CPUs with AVX-512 VNNI/BF16 or
AMX; on the others (AVX2-only EPYCs, older Xeons) they run Eigen's. oneDNN made the sRb-VAE step
1.4-1.8x faster on an AVX2 EPYC (docs/performance.md), so importing `rbvae_tf` turns it on
(`TF_ENABLE_ONEDNN_OPTS=1`) unless the user set that variable or TensorFlow was imported first
(TensorFlow reads it once, when it starts). `kernel_info()` says which kernels ran; `fit` writes it
into the run's `config.json` and `bench train` into every row. `set_precision` turns the opt-in bfloat16
mixed precision on or off.

Example:
>>> import rbvae_tf
>>> sorted(kernel_info())
['cpu', 'cpu_flags', 'onednn', 'onednn_chosen_by']
"""

import os
import pathlib
import platform
import sys

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
# Set beside it when rbvae_tf sets it, so that a child process (a script that imports rbvae_tf and runs
# `cli.py fit`) still records the choice as rbvae_tf's, not the user's.
SET_BY_RBVAE_TF = "RBVAE_TF_SET_ONEDNN_OPTS"
# The flags that decide which kernels TensorFlow picks and how fast they run.
KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def choose_kernels(environ=os.environ, modules=sys.modules):
    """Turns oneDNN on unless the user chose or TensorFlow already started; returns who decided.

    Returns one of `"user"` (the variable was set), `"tensorflow"` (TensorFlow was imported before
    rbvae_tf, so its own per-CPU default holds) or `"rbvae_tf"` (set to 1 here).
    """
    if ONEDNN_VARIABLE in environ:
        return "rbvae_tf" if environ.get(SET_BY_RBVAE_TF) == environ[ONEDNN_VARIABLE] else "user"
    if "tensorflow" in modules:
        return "tensorflow"
    environ[ONEDNN_VARIABLE] = environ[SET_BY_RBVAE_TF] = "1"
    return "rbvae_tf"


CHOSEN_BY = choose_kernels()


def cpu_info(cpuinfo="/proc/cpuinfo"):
    """`{"cpu": model name, "cpu_flags": the KERNEL_FLAGS it has}`, as `lscpu` reports them."""
    fields = {}  # the first processor's entries
    try:
        for line in pathlib.Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    name = fields.get("model name") or platform.processor() or platform.machine()
    return {"cpu": name, "cpu_flags": [f for f in KERNEL_FLAGS if f in flags]}


def onednn_enabled():
    """Whether TensorFlow runs its oneDNN kernels in this process (imports TensorFlow)."""
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # a build without the probe: trust the variable
        return os.environ.get(ONEDNN_VARIABLE, "0").lower() in ("1", "true")


def kernel_info():
    """Which CPU kernels ran and why, and the CPU: written beside every run and timing."""
    return {"onednn": onednn_enabled(), "onednn_chosen_by": CHOSEN_BY, **cpu_info()}


BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # a CPU with one of them runs oneDNN's bfloat16 kernels natively
MIXED_PRECISION_OPTION = "auto_mixed_precision_onednn_bfloat16"  # Grappler's
# Element-wise ops that Grappler's rewrite would also run in bfloat16 after a bfloat16 input; `set_precision`
# keeps them fp32 (the rewrite reads the variable each time it runs).
KEEP_FP32_VARIABLE = "TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_INFERLIST_REMOVE"
KEEP_FP32 = (
    "Mul",
    "Square",
    "Mean",
    "AddV2",
    "Add",
    "AddN",
    "Sub",
    "Rsqrt",
    "RsqrtGrad",
    "Sqrt",
    "SqrtGrad",
    "SquaredDifference",
    "Tanh",
    "TanhGrad",
    "LeakyRelu",
    "LeakyReluGrad",
)


def has_bf16(cpu=None):
    """Whether the CPU (`cpu_info()`, default this one's) runs bfloat16 natively: AVX512_BF16 or AMX."""
    cpu = cpu or cpu_info()
    return any(flag in cpu["cpu_flags"] for flag in BF16_FLAGS)


def check_precision(precision, cpu=None, onednn=None):
    """Refuses (a UserError, a ValueError) a precision other than None (fp32) and "bf16", and bf16 where it
    would not run natively: on a CPU without AVX512_BF16 or AMX, or without oneDNN's kernels.

    Args:
        precision: str or None. `"bf16"` or None (fp32).
        cpu: dict or None. `cpu_info()` of the machine (for tests). Defaults to this one's.
        onednn: bool or None. Whether oneDNN runs (for tests). Defaults to `onednn_enabled()`.
    """
    from rbvae_tf.errors import UserError

    if precision not in (None, "bf16"):
        raise UserError(f"mixed precision must be bf16 or None (fp32), got {precision!r}")
    if precision == "bf16":
        cpu = cpu or cpu_info()
        if not has_bf16(cpu):
            raise UserError(
                f"--mixed-precision bf16 needs a CPU with AVX512_BF16 or AMX; {cpu['cpu']} has "
                f"{', '.join(cpu['cpu_flags']) or 'none of the kernel flags'}"
            )
        if not (onednn_enabled() if onednn is None else onednn):
            raise UserError("--mixed-precision bf16 needs TensorFlow's oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1)")


def set_precision(precision, cpu=None, onednn=None):
    """Runs the graphs traced from now on in fp32 (`None`) or in bfloat16 mixed precision (`"bf16"`).

    bf16 is Grappler's oneDNN auto mixed precision (`auto_mixed_precision_onednn_bfloat16`) with the
    element-wise ops of `KEEP_FP32` left in fp32: the convolutions (forward and both gradients), matrix
    products, pooling and bias additions run in bfloat16, with casts inserted by TensorFlow; variables,
    optimizer updates, losses, pixel norms and activations stay fp32, and the saved model is the same fp32
    model. Process-wide: TensorFlow applies it to every `tf.function` traced afterwards (`training.make_model`
    calls it with the run's `mixed_precision`). Opt-in: it changes the arithmetic of training. Refused where
    `check_precision` refuses it.

    Args:
        precision: str or None. `"bf16"` or None (fp32).
        cpu: dict or None. `cpu_info()` of the machine (for tests). Defaults to this one's.
        onednn: bool or None. Whether oneDNN runs (for tests). Defaults to `onednn_enabled()`.
    """
    import tensorflow as tf

    check_precision(precision, cpu, onednn)
    if precision == "bf16":
        os.environ[KEEP_FP32_VARIABLE] = ",".join(KEEP_FP32)
    if precision == "bf16" or tf.config.optimizer.get_experimental_options().get(MIXED_PRECISION_OPTION):
        tf.config.optimizer.set_experimental_options({MIXED_PRECISION_OPTION: precision == "bf16"})
