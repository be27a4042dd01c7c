"""TensorFlow's CPU kernels, chosen before TensorFlow is imported, and the CPU they run on.

TensorFlow's x86 wheels run their oneDNN kernels by default only on CPUs with AVX-512 VNNI/BF16 or
AMX; on the others (AVX2-only EPYCs, older Xeons) they run Eigen's. oneDNN made the sRb-VAE step
1.4-1.8x faster on an AVX2 EPYC (docs/performance.md), so importing `rbvae_tf` turns it on
(`TF_ENABLE_ONEDNN_OPTS=1`) unless the user set that variable or TensorFlow was imported first
(TensorFlow reads it once, when it starts). `kernel_info()` says which kernels ran; `fit` writes it
into the run's `config.json` and `bench train` into every row.

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
