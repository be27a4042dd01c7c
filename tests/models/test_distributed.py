"""MirroredStrategy: for every model, one 2-replica step equals one 1-replica step on the same global batch."""

import json
import os
import subprocess
import sys

import pytest

from rbvae_tf.models import MODELS
from tests.conftest import REPO


@pytest.fixture(scope="module")
def replica_steps():
    # A fresh process: the CPU must be split into logical devices before TensorFlow starts. All seven
    # models in one process (one TensorFlow start-up); one JSON line each.
    out = subprocess.run([sys.executable, "-m", "tests.models.replica_step", *MODELS], cwd=REPO,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {line["model"]: line for line in lines}


@pytest.mark.parametrize("name", list(MODELS))
def test_two_replica_step_equals_one_replica_step(replica_steps, name):
    result = replica_steps[name]
    assert result["replicas"] == [1, 2]
    assert result["max_update"] > 1e-6  # the step really changed the weights
    assert result["max_weight_diff"] <= 1e-5, result
    assert result["max_optimizer_relative_diff"] <= 1e-3, result  # float32 summation order
    for term, (one, two) in result["terms"].items():  # every logged term, DIP's penalty included
        assert abs(one - two) <= 1e-4 * max(1.0, abs(one)), (term, result)


def test_cli_process_can_split_the_cpu_into_replicas():
    # `import cli` starts TensorFlow the way `python cli.py fit --replicas 2` does; the split must still work.
    code = "import cli\nfrom rbvae_tf.distribute import get_strategy\nprint(get_strategy(2).num_replicas_in_sync)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "2"
