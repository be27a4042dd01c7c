"""Attribute transfer (Fig. 4) and conditional generation (Fig. 3) as numbers: a model's outputs on
MNIST-style probe_test images, read by the independent readers of `evaluation.readers`, scored by
`metrics.transfer`.

- Transfer: `pairs` content images A_i (the first `pairs` of probe_test, in an order drawn with
  `pair_seed`) each paired with the next one in that order as style image B_i (so A_i != B_i);
  outputs G(z(A_i), e(B_i)) (posterior means, as `cli.py transfer`), rounded to uint8 as a user
  sees them. Also read: the reconstructions G(z(A_i), e(A_i)), which show how much of the readers'
  error on outputs comes from the generator's blur rather than from the split.
- Generation: the first `generation_images` content images, each with the same `samples` target
  vectors e_j ~ N(0, I) drawn with `seed` (as `cli.py generate`).

The unsupervised baselines have no e/z split, so neither is defined for them (`cli.py transfer` and
`generate` refuse them too): `not_applicable(model)` says so in metrics.json.
"""

import numpy as np

from rbvae_tf.applications import conditional_generation, transfer
from rbvae_tf.data import from_unit_range
from rbvae_tf.metrics import normalise_factors
from rbvae_tf.metrics.transfer import generation_scores, normalised_score, reading_errors, transfer_scores

PAIRS = 1000
PAIR_SEED = 0
GENERATION_IMAGES = 200
SAMPLES = 10


def transfer_pairs(count, pairs=PAIRS, pair_seed=PAIR_SEED):
    """(content, style) index arrays: the first min(pairs, count) images in an order drawn with
    `pair_seed`, each paired with the next in that order (the last with the first).

    Example:
    >>> content, style = transfer_pairs(5, pairs=4)
    >>> sorted(content.tolist()) == sorted(style.tolist()) == [0, 1, 2, 3], bool((content != style).all())
    (True, True)
    """
    n = min(int(pairs), int(count))
    if n < 2:
        raise ValueError(f"transfer needs at least 2 images, got {n}")
    order = np.random.default_rng(pair_seed).permutation(n)
    return order, np.roll(order, -1)


def not_applicable(model):
    """metrics.json's `transfer` entry for a model without an e/z split."""
    return {
        "available": False,
        "reason": f"{type(model).__name__} is unsupervised: it has no e/z split, so there is no z(A) to keep "
        "and no e(B) to take (cli.py transfer and generate refuse it)",
    }


def evaluate_transfer(
    model,
    split,
    readers,
    pairs=PAIRS,
    pair_seed=PAIR_SEED,
    generation_images=GENERATION_IMAGES,
    samples=SAMPLES,
    seed=0,
):
    """Transfer and conditional-generation scores of a reference-based model on a real split.

    Args:
        model: a reference-based LatentModel.
        split: dict with `images` uint8, `factors` raw and `labels` (e.g. probe_test).
        readers: evaluation.readers.Readers for images of the model's size.
        pairs: int. Transfer pairs (at most the split's size). Defaults to 1000.
        pair_seed: int. Seed of the pairing. Defaults to 0.
        generation_images: int. Content images of the generation. Defaults to 200.
        samples: int. Sampled e per content image. Defaults to 10.
        seed: int. Seed of the sampled e. Defaults to 0.

    Returns:
        dict: `available` (True), `readers` (their training set and scores on real probe_test images),
        `pair_seed`, `transfer` (`metrics.transfer.transfer_scores`), `reconstruction`
        (`reading_errors` of G(z(A), e(A)) against A, and `content_kept_of_reconstruction`: the digit
        accuracy of transfer normalised with the reconstructions' in place of A's) and `generation`
        (`generation_scores`).
    """
    images, labels = split["images"], np.asarray(split["labels"])
    factors = normalise_factors(split["factors"])
    content, style = transfer_pairs(len(images), pairs, pair_seed)

    def read_outputs(outputs):
        return readers.read(from_unit_range(np.asarray(outputs, np.float32)))

    out_digits, out_factors = read_outputs(transfer(model, images[content], images[style]))
    a_digits, a_factors = readers.read(images[content])
    b_digits, b_factors = readers.read(images[style])
    scores = transfer_scores(
        out_digits, out_factors, a_digits, a_factors, b_digits, b_factors, labels[content], factors[style]
    )
    recon_digits, recon_factors = read_outputs(transfer(model, images[content], images[content]))
    reconstruction = reading_errors(recon_digits, recon_factors, labels[content], factors[content])
    # The digit kept by transfer as a share of what the model's own reconstructions keep (readers misread
    # blurry outputs too): 1 = transfer loses no more of the digit than reconstruction does.
    reconstruction["content_kept_of_reconstruction"] = normalised_score(
        scores["digit_accuracy"]["output"], scores["digit_accuracy"]["copy"], reconstruction["digit_accuracy"]
    )

    chosen = content[:generation_images]
    generated = conditional_generation(model, images[chosen], samples, seed)["samples"]
    gen_digits, gen_factors = read_outputs(generated.reshape((-1,) + generated.shape[2:]))
    generation = generation_scores(
        gen_digits.reshape(len(chosen), samples), gen_factors.reshape(len(chosen), samples, -1), labels[chosen], factors
    )
    generation["seed"] = seed
    reader_info = {key: readers.info.get(key) for key in ("path", "train_images", "epochs", "seed", "probe_test")}
    return {
        "available": True,
        "readers": reader_info,
        "pair_seed": pair_seed,
        "transfer": scores,
        "reconstruction": reconstruction,
        "generation": generation,
    }
