"""The transfer and generation scores on constructed readings: output = A keeps the content and takes no
style, output = B the reverse, and halfway readings score one half."""

import numpy as np
import pytest

from rbvae_tf.metrics.transfer import generation_scores, normalised_score, reading_errors, transfer_scores

N = 400


@pytest.fixture(scope="module")
def pairs():
    """A and B readings as a perfect reader would give them: labels and factors, with B = A shifted."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, N)
    factors = rng.uniform(size=(N, 5))
    style = np.roll(np.arange(N), -1)
    return {
        "a_digits": labels,
        "a_factors": factors,
        "b_digits": labels[style],
        "b_factors": factors[style],
        "labels": labels,
        "targets": factors[style],
    }


def score(pairs, out_digits, out_factors):
    p = pairs
    return transfer_scores(
        out_digits, out_factors, p["a_digits"], p["a_factors"], p["b_digits"], p["b_factors"], p["labels"], p["targets"]
    )


def test_output_a_keeps_the_content_and_takes_no_style(pairs):
    scores = score(pairs, pairs["a_digits"], pairs["a_factors"])
    assert scores["content_kept"] == pytest.approx(1.0)
    assert all(scores["style_taken"][name] == pytest.approx(0.0) for name in ("R", "G", "B", "scale", "width"))
    assert scores["style_taken"]["mean"] == pytest.approx(0.0)


def test_output_b_takes_the_style_and_keeps_no_content(pairs):
    scores = score(pairs, pairs["b_digits"], pairs["b_factors"])
    assert scores["content_kept"] == pytest.approx(0.0)
    assert scores["style_taken"]["mean"] == pytest.approx(1.0) and scores["style_taken"]["min"] == pytest.approx(1.0)
    assert scores["digit_accuracy"]["copy"] < 0.2 and scores["digit_accuracy"]["identity"] == 1.0


def test_the_perfect_transfer_scores_one_and_halfway_scores_a_half(pairs):
    perfect = score(pairs, pairs["a_digits"], pairs["b_factors"])
    assert perfect["content_kept"] == pytest.approx(1.0) and perfect["style_taken"]["mean"] == pytest.approx(1.0)
    # colour moved halfway from A to B, scale and width not at all: the error is half the identity's for colour
    halfway = pairs["a_factors"].copy()
    halfway[:, :3] = (pairs["a_factors"][:, :3] + pairs["b_factors"][:, :3]) / 2
    scores = score(pairs, pairs["a_digits"], halfway)
    assert [round(scores["style_taken"][n], 6) for n in ("R", "G", "B", "scale", "width")] == [0.5, 0.5, 0.5, 0, 0]
    assert scores["style_taken"]["mean"] == pytest.approx(0.3) and scores["style_taken"]["min"] == pytest.approx(0.0)


def test_reader_errors_on_the_references_count_against_them(pairs):
    """A reader that misreads every fourth image: A itself is then 0.75 accurate, and an output read
    as well as A scores 1, not 0.75."""
    misread = pairs["a_digits"].copy()
    misread[::4] = (misread[::4] + 1) % 10
    p = dict(pairs, a_digits=misread)
    scores = transfer_scores(
        misread, p["a_factors"], misread, p["a_factors"], p["b_digits"], p["b_factors"], p["labels"], p["targets"]
    )
    assert scores["digit_accuracy"]["identity"] == pytest.approx(0.75)
    assert scores["content_kept"] == pytest.approx(1.0)


def test_normalised_score_is_nan_when_the_references_coincide():
    assert np.isnan(normalised_score(0.3, 0.2, 0.2))
    assert normalised_score(0.1, 0.2, 0.0) == pytest.approx(0.5)


def test_shapes_are_checked(pairs):
    with pytest.raises(ValueError, match="output factors"):
        score(pairs, pairs["a_digits"], pairs["a_factors"][:, :4])
    with pytest.raises(ValueError, match="digits"):
        score(pairs, pairs["a_digits"][:-1], pairs["a_factors"])


def test_reading_errors_against_the_truth():
    result = reading_errors(
        [1, 2, 3, 4],
        np.full((4, 2), 0.5),
        [1, 2, 0, 0],
        [[0.5, 0], [0.5, 1], [1, 0], [0, 1]],
        factor_names=("R", "scale"),
    )
    assert result == {"digit_accuracy": 0.5, "factor_error": {"R": 0.25, "scale": 0.5, "mean": 0.375}}


def test_generation_spread_is_one_when_samples_vary_as_the_data_and_zero_when_constant():
    rng = np.random.default_rng(1)
    data = rng.uniform(size=(20000, 5))
    labels = rng.integers(0, 10, 50)
    varying = rng.uniform(size=(50, 400, 5))  # each image's samples spread like the data
    constant = np.repeat(rng.uniform(size=(50, 1, 5)), 400, axis=1)  # e moves nothing
    digits = np.repeat(labels[:, None], 400, axis=1)
    digits[:, :100] = (digits[:, :100] + 3) % 10  # a quarter of the samples change digit
    moving = generation_scores(digits, varying, labels, data)
    assert moving["digit_accuracy"] == pytest.approx(0.75)
    assert moving["spread_ratio"]["mean"] == pytest.approx(1.0, abs=0.03)
    assert moving["data_spread"]["R"] == pytest.approx(np.sqrt(1 / 12), abs=0.01)
    still = generation_scores(digits, constant, labels, data)
    assert still["spread_ratio"]["mean"] == pytest.approx(0.0, abs=1e-9)
    half = generation_scores(digits, constant + (varying - 0.5) / 2, labels, data)
    assert half["spread_ratio"]["scale"] == pytest.approx(0.5, abs=0.02)


def test_generation_shapes_are_checked():
    with pytest.raises(ValueError, match="sample_factors"):
        generation_scores(np.zeros((3, 2), int), np.zeros((3, 2, 4)), np.zeros(3, int), np.zeros((5, 5)))
