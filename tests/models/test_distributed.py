"""MirroredStrategy: for every model (two opt-in), one 2-replica step equals one 1-replica step on one batch."""

import json
import os
import subprocess
import sys

import pytest

from rbvae_tf.models import MODELS
from tests.conftest import REPO

# Seconds per model of `python -m tests.models.replica_step` (both strategies, tracing included), one
# process, measured 2026-11-29: vae 12.5, beta-vae 12.3, dip-vae-i 13.1, dip-vae-ii 12.7, svae 27.2,
# rbvae 30.6, srbvae 47.0. beta-vae runs VAE's train step with another weight and dip-vae-ii DIP-VAE-I's
# gathered covariance plus its diagonal, so those two are opt-in (`-m large`) to keep the suite short.
SECONDS = {
    "vae": 12.5,
    "beta-vae": 12.3,
    "dip-vae-i": 13.1,
    "dip-vae-ii": 12.7,
    "svae": 27.2,
    "rbvae": 30.6,
    "srbvae": 47.0,
}
DEFAULT = ["vae", "dip-vae-i", "rbvae", "svae", "srbvae"]
LARGE = [name for name in MODELS if name not in DEFAULT]


def two_halves(names):
    """The models split into two lists of about equal time (longest first, each to the shorter list)."""
    halves = ([], [])
    for name in sorted(names, key=lambda n: -SECONDS.get(n, 60.0)):
        min(halves, key=lambda h: sum(SECONDS.get(n, 60.0) for n in h)).append(name)
    return [half for half in halves if half]


def run_replica_steps(names):
    # Fresh processes: the CPU must be split into logical devices before TensorFlow starts. One JSON
    # line per model. The time goes to tracing (Python, one core), so the models are split over two
    # processes of about equal time that run side by side on the two cores.
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.models.replica_step", *half],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        for half in two_halves(names)
    ]
    results = {}
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
        results.update(
            {
                line["model"]: line
                for line in map(json.loads, (text for text in stdout.splitlines() if text.startswith("{")))
            }
        )
    return results


@pytest.fixture(scope="module")
def replica_steps():
    return run_replica_steps(DEFAULT)


def check_parity(result):
    assert result["replicas"] == [1, 2]
    assert result["max_update"] > 1e-6  # the step really changed the weights
    assert result["max_weight_diff"] <= 1e-5, result
    assert result["max_optimizer_relative_diff"] <= 1e-3, result  # float32 summation order
    for term, (one, two) in result["terms"].items():  # every logged term, DIP's penalty included
        assert abs(one - two) <= 1e-4 * max(1.0, abs(one)), (term, result)


def test_the_default_and_opt_in_lists_cover_every_model_and_split_evenly():
    assert sorted(DEFAULT + LARGE) == sorted(MODELS) and set(SECONDS) == set(MODELS)
    assert two_halves(DEFAULT) == [["srbvae", "dip-vae-i"], ["rbvae", "svae", "vae"]]  # 60.1 s and 70.3 s


@pytest.mark.parametrize("name", DEFAULT)
def test_two_replica_step_equals_one_replica_step(replica_steps, name):
    check_parity(replica_steps[name])


def test_two_replica_step_equals_one_replica_step_with_the_bounded_game_and_clipped_gradients():
    """sRb-VAE with the bounded logit and both clips on (`replica_step.VARIANTS`): the clips sum over the replicas."""
    result = run_replica_steps(["srbvae-bounded"])["srbvae-bounded"]
    check_parity(result)
    # the logged norms are the global batch's, so they agree too; the discriminators' clip (0.1) acted
    assert result["terms"]["discriminator_grad_norm"][0] > 0.1


@pytest.mark.large
def test_two_replica_step_equals_one_replica_step_for_the_opt_in_models():
    results = run_replica_steps(LARGE)
    assert sorted(results) == sorted(LARGE)
    for result in results.values():
        check_parity(result)


def test_cli_process_can_split_the_cpu_into_replicas():
    # `import cli` starts TensorFlow the way `python cli.py fit --replicas 2` does; the split must still work.
    code = "import cli\nfrom rbvae_tf.distribute import get_strategy\nprint(get_strategy(2).num_replicas_in_sync)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "2"
