"""rbvae_tf.runtime: oneDNN on by default unless the user chose, the record of which kernels ran, and the opt-in
bfloat16 mixed precision (refused where the CPU would emulate it)."""

import json
import os
import subprocess
import sys

import pytest

from rbvae_tf import runtime


def test_the_users_setting_wins():
    environ = {"TF_ENABLE_ONEDNN_OPTS": "0"}
    assert runtime.choose_kernels(environ, {}) == "user"
    assert environ == {"TF_ENABLE_ONEDNN_OPTS": "0"}


def test_tensorflow_imported_first_keeps_its_own_default():
    environ = {}
    assert runtime.choose_kernels(environ, {"tensorflow": object()}) == "tensorflow"
    assert environ == {}


def test_otherwise_onednn_is_turned_on():
    environ = {}
    assert runtime.choose_kernels(environ, {}) == "rbvae_tf"
    assert environ == {"TF_ENABLE_ONEDNN_OPTS": "1", "RBVAE_TF_SET_ONEDNN_OPTS": "1"}
    # a child process inherits the variable: still rbvae_tf's choice, unless the user changed it since
    assert runtime.choose_kernels(dict(environ), {}) == "rbvae_tf"
    assert runtime.choose_kernels({**environ, "TF_ENABLE_ONEDNN_OPTS": "0"}, {}) == "user"


def test_cpu_info_reads_the_model_name_and_the_kernel_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse avx avx2 fma bmi2\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse avx avx2 fma bmi2\n"
    )
    assert runtime.cpu_info(str(cpuinfo)) == {"cpu": "AMD EPYC 7B13", "cpu_flags": ["avx2", "fma"]}


def kernels_in_a_fresh_process(onednn):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", runtime.SET_BY_RBVAE_TF)}
    if onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = onednn
    code = "import json, rbvae_tf.runtime as r; print(json.dumps(r.kernel_info()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "setting, onednn, chosen_by", [(None, True, "rbvae_tf"), ("0", False, "user"), ("1", True, "user")]
)
def test_importing_rbvae_tf_decides_what_tensorflow_runs(setting, onednn, chosen_by):
    info = kernels_in_a_fresh_process(setting)
    assert (info["onednn"], info["onednn_chosen_by"]) == (onednn, chosen_by)


EPYC_BF16 = {"cpu": "AMD EPYC", "cpu_flags": ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"]}
AVX2_ONLY = {"cpu": "AMD EPYC 7B12", "cpu_flags": ["avx2", "fma"]}


def test_bf16_is_refused_where_it_would_be_emulated():
    from rbvae_tf.errors import UserError

    with pytest.raises(ValueError, match="needs a CPU with AVX512_BF16 or AMX; AMD EPYC 7B12 has avx2, fma"):
        runtime.set_precision("bf16", cpu=AVX2_ONLY, onednn=True)
    with pytest.raises(UserError, match=r"needs TensorFlow's oneDNN kernels \(TF_ENABLE_ONEDNN_OPTS=1\)"):
        runtime.check_precision("bf16", cpu=EPYC_BF16, onednn=False)
    with pytest.raises(UserError, match="must be bf16 or None"):
        runtime.set_precision("fp16")
    runtime.check_precision(None, cpu=AVX2_ONLY, onednn=False)  # fp32 runs everywhere
    assert runtime.has_bf16(EPYC_BF16) and runtime.has_bf16({"cpu": "Xeon", "cpu_flags": ["amx_bf16"]})
    assert not runtime.has_bf16(AVX2_ONLY)


def test_bf16_turns_graphs_mixed_with_the_element_wise_ops_kept_fp32(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv(runtime.KEEP_FP32_VARIABLE, raising=False)
    try:
        runtime.set_precision("bf16", cpu=EPYC_BF16, onednn=True)
        assert tf.config.optimizer.get_experimental_options()[runtime.MIXED_PRECISION_OPTION] is True
        assert set(os.environ[runtime.KEEP_FP32_VARIABLE].split(",")) >= {"Mul", "Rsqrt", "Tanh", "LeakyReluGrad"}
    finally:
        runtime.set_precision(None)
    assert not tf.config.optimizer.get_experimental_options().get(runtime.MIXED_PRECISION_OPTION)


def first_step_loss(mixed_precision):
    """The loss of the tiny sRb-VAE's first training step (fixed seed and batch) at this precision."""
    import numpy as np
    import tensorflow as tf

    from rbvae_tf.config import FitConfig
    from rbvae_tf.distribute import get_strategy
    from rbvae_tf.training import make_model

    try:
        model = make_model(FitConfig(preset="tiny", mixed_precision=mixed_precision), get_strategy(1))
        rng = np.random.default_rng(0)
        batch = tuple(tf.constant(rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32)) for _ in range(2))
        history = model.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1, steps_per_epoch=1, verbose=0)
    finally:
        runtime.set_precision(None)
    assert all(v.dtype == "float32" for v in model.trainable_variables)  # weights stay fp32
    return history.history["loss"][0]


@pytest.mark.skipif(not runtime.has_bf16(), reason="this CPU has neither AVX512_BF16 nor AMX")
def test_a_bf16_step_computes_in_bfloat16():
    """bf16 changes the step's arithmetic (the rewrite ran) by about bfloat16's precision, not more."""
    fp32, again, bf16 = first_step_loss(None), first_step_loss(None), first_step_loss("bf16")
    assert abs(again - fp32) <= 1e-6 * abs(fp32)
    assert 1e-5 * abs(fp32) < abs(bf16 - fp32) < 3e-2 * abs(fp32)
