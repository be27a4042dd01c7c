"""rbvae_tf.runtime: oneDNN on by default unless the user chose, and the record of which kernels ran."""

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
