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
    # Fresh processes: the CPU must be split into logical devices before TensorFlow starts. One JSON
    # line per model. The time goes to tracing (Python, one core), so the seven models are split over
    # two processes that run side by side on the two cores (back to back here: 125 s in one process, 82 s in two).
    halves = [list(MODELS)[0::2], list(MODELS)[1::2]]
    processes = [subprocess.Popen([sys.executable, "-m", "tests.models.replica_step", *names], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}) for names in halves]
    results = {}
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
        results.update({line["model"]: line for line in map(json.loads, (
            text for text in stdout.splitlines() if text.startswith("{")))})
    return results


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
