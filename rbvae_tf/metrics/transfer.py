"""Attribute transfer (Fig. 4) and conditional generation (Fig. 3) of Ruiz et al. (arXiv 1901.08534) as
numbers, from what independent readers (a digit classifier and factor regressors trained on real
images) read out of the model's outputs.

Transfer G(z(A), e(B)) should keep the digit of the content image A and take the target factors
(colour, scale, stroke width) of the style image B. Two trivial outputs bound what a score can say:
*identity* (output A itself: all content kept, no style taken) and *copy* (output B itself: all style
taken, no content kept). Both are read by the same readers on the same pairs, so a reader's own
errors count against the references as much as against the model:

- content kept = (acc - acc_copy) / (acc_identity - acc_copy), acc the fraction of outputs whose read
  digit is A's label: 1 = as well as A itself, 0 = no better than B;
- style taken, per factor = (err_identity - err) / (err_identity - err_copy), err the mean absolute
  error of the read factor against B's (normalised) factor: 1 = as close as B itself, 0 = as far as A.

Both can leave [0, 1] (an output worse than the trivial one is below 0).

Nothing here imports a model or TensorFlow: the caller reads the images and passes arrays.
"""

import numpy as np

from rbvae_tf.metrics._arrays import as_labels, as_matrix
from rbvae_tf.metrics.probe import FACTOR_NAMES

# Below this gap between the two references a normalised score is undefined (NaN).
_MIN_GAP = 1e-9


def normalised_score(value, nothing, perfect):
    """Where `value` lies from `nothing` (0) to `perfect` (1): (value - nothing) / (perfect - nothing).

    NaN when the two references coincide (within 1e-9).

    Example:
    >>> normalised_score(0.3, nothing=0.5, perfect=0.1)  # an error: lower is better
    0.5
    """
    gap = perfect - nothing
    return float((value - nothing) / gap) if abs(gap) > _MIN_GAP else float("nan")


def _accuracy(read_digits, labels):
    return float(np.mean(read_digits == labels))


def _errors(read_factors, factors, names):
    errors = np.mean(np.abs(read_factors - factors), axis=0)
    result = {name: float(error) for name, error in zip(names, errors)}
    result["mean"] = float(np.mean(errors))
    return result


def reading_errors(read_digits, read_factors, labels, factors, factor_names=FACTOR_NAMES):
    """How well what was read matches the truth: digit accuracy and mean absolute error per factor.

    Args:
        read_digits: int array (N,). Digits read from images.
        read_factors: array (N, K). Factors read from the same images (normalised).
        labels: int array (N,). True digits.
        factors: array (N, K). True normalised factors.
        factor_names: sequence of K strings. Defaults to `FACTOR_NAMES`.

    Returns:
        `{"digit_accuracy": float, "factor_error": {name: float, "mean": float}}`.

    Example:
    >>> reading_errors([1, 2], [[0.5], [0.5]], [1, 3], [[0.5], [1.0]], factor_names=["R"])
    {'digit_accuracy': 0.5, 'factor_error': {'R': 0.25, 'mean': 0.25}}
    """
    names = [str(name) for name in factor_names]
    read_factors, factors = as_matrix(read_factors, "read_factors"), as_matrix(factors, "factors")
    if read_factors.shape != factors.shape or factors.shape[1] != len(names):
        raise ValueError(
            f"read_factors {read_factors.shape} and factors {factors.shape} must both have shape (N, {len(names)})"
        )
    digits = as_labels(read_digits, "read_digits", factors.shape[0])
    labels = as_labels(labels, "labels", factors.shape[0])
    return {"digit_accuracy": _accuracy(digits, labels), "factor_error": _errors(read_factors, factors, names)}


def transfer_scores(
    output_digits,
    output_factors,
    content_digits,
    content_factors,
    style_digits,
    style_factors,
    content_labels,
    style_targets,
    factor_names=FACTOR_NAMES,
):
    """Content kept and style taken of a transfer, against the identity and copy references.

    Args:
        output_digits: int array (N,). Digits read from the outputs G(z(A_i), e(B_i)).
        output_factors: array (N, K). Factors read from the outputs (normalised, see `normalise_factors`).
        content_digits, content_factors: the same read from the content images A_i (the identity output).
        style_digits, style_factors: the same read from the style images B_i (the copy output).
        content_labels: int array (N,). True digits of A_i.
        style_targets: array (N, K). True normalised factors of B_i.
        factor_names: sequence of K strings. Defaults to `FACTOR_NAMES`.

    Returns:
        dict with `digit_accuracy` and `factor_error` (each `{"output", "identity", "copy"}`; the errors
        per factor and their `mean`), `content_kept` (float) and `style_taken` (per factor, their `mean`
        over the K factors and their `min`).

    Example:
    >>> labels, factors = np.array([1, 2]), np.array([[0.2], [0.8]])
    >>> scores = transfer_scores(labels, factors[::-1], labels, factors, labels[::-1], factors[::-1],
    ...                          labels, factors[::-1], factor_names=["R"])  # output: A's digit, B's factor
    >>> scores["content_kept"], scores["style_taken"]["R"]
    (1.0, 1.0)
    """
    names = [str(name) for name in factor_names]
    labels = np.asarray(content_labels)
    n = labels.shape[0]
    targets = as_matrix(style_targets, "style_targets")
    if targets.shape != (n, len(names)):
        raise ValueError(f"style_targets must have shape ({n}, {len(names)}), got {targets.shape}")
    read = {}
    for which, digits, factors in (
        ("output", output_digits, output_factors),
        ("identity", content_digits, content_factors),
        ("copy", style_digits, style_factors),
    ):
        factors = as_matrix(factors, f"{which} factors")
        if factors.shape != targets.shape:
            raise ValueError(f"{which} factors must have shape {targets.shape}, got {factors.shape}")
        read[which] = (as_labels(digits, f"{which} digits", n), factors)
    accuracy = {which: _accuracy(digits, labels) for which, (digits, _) in read.items()}
    error = {which: _errors(factors, targets, names) for which, (_, factors) in read.items()}
    style = {
        name: normalised_score(error["output"][name], error["identity"][name], error["copy"][name]) for name in names
    }
    style["mean"] = float(np.mean([style[name] for name in names]))
    style["min"] = float(np.min([style[name] for name in names]))
    return {
        "pairs": int(n),
        "digit_accuracy": accuracy,
        "factor_error": error,
        "content_kept": normalised_score(accuracy["output"], accuracy["copy"], accuracy["identity"]),
        "style_taken": style,
    }


def generation_scores(sample_digits, sample_factors, content_labels, data_factors, factor_names=FACTOR_NAMES):
    """The digit kept and the spread of the target factors in conditional generation G(z(A_i), e_j).

    Args:
        sample_digits: int array (N, M). Digits read from G(z(A_i), e_j), M sampled e_j per image.
        sample_factors: array (N, M, K). Factors read from the same images (normalised).
        content_labels: int array (N,). True digits of A_i.
        data_factors: array (P, K). Normalised factors of real images: their spread is the reference.
        factor_names: sequence of K strings. Defaults to `FACTOR_NAMES`.

    Returns:
        dict with `images` (N), `samples` (M), `digit_accuracy` (fraction of samples read as the digit
        of their A_i), `spread` (per factor: the standard deviation of the read factor over the M samples
        of one image, averaged over the N images), `data_spread` (per factor: the standard deviation in
        `data_factors`) and `spread_ratio` (spread / data spread per factor, and their `mean`): 1 = the
        sampled e vary the factor as much as the data do, 0 = they do not move it.

    Example:
    >>> factors = np.array([[[0.0], [1.0]], [[0.0], [1.0]]])  # two images, each sampled at 0 and 1
    >>> scores = generation_scores(np.array([[3, 3], [4, 0]]), factors, np.array([3, 4]),
    ...                            np.array([[0.0], [1.0]]), factor_names=["R"])
    >>> scores["digit_accuracy"], scores["spread_ratio"]["R"]
    (0.75, 1.0)
    """
    names = [str(name) for name in factor_names]
    labels = np.asarray(content_labels)
    digits = np.asarray(sample_digits)
    factors = np.asarray(sample_factors, dtype=np.float64)
    if labels.ndim != 1 or digits.ndim != 2 or digits.shape[0] != labels.shape[0]:
        raise ValueError(f"sample_digits must have shape ({labels.shape[0]}, M), got {digits.shape}")
    if factors.shape != digits.shape + (len(names),) or not np.all(np.isfinite(factors)):
        raise ValueError(
            f"sample_factors must be finite with shape {digits.shape + (len(names),)}, got {factors.shape}"
        )
    data_factors = as_matrix(data_factors, "data_factors")
    if data_factors.shape[1] != len(names):
        raise ValueError(f"data_factors must have {len(names)} columns, got {data_factors.shape[1]}")
    spread = factors.std(axis=1).mean(axis=0)
    data_spread = data_factors.std(axis=0)
    ratio = {name: normalised_score(s, 0.0, d) for name, s, d in zip(names, spread, data_spread)}
    ratio["mean"] = float(np.mean([ratio[name] for name in names]))
    return {
        "images": int(digits.shape[0]),
        "samples": int(digits.shape[1]),
        "digit_accuracy": _accuracy(digits, labels[:, None]),
        "spread": {name: float(value) for name, value in zip(names, spread)},
        "data_spread": {name: float(value) for name, value in zip(names, data_spread)},
        "spread_ratio": ratio,
    }
