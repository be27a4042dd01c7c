"""`fused_backward`: one backward pass through each discriminator (`AdversarialBase.game_gradients`) gives
both players' gradients, equal to the default's two backward passes (one per player) from the same forward pass.

The two are `AdversarialBase.player_gradients` with `fused_backward` True and False on the same persistent
tape: the default is `tape.gradient(model_loss, model_variables)` and
`tape.gradient(discriminator_loss, discriminator_variables)`, so dropout masks and sampling noise are shared.
The rescaling is checked where it is delicate too: logits of |d| up to 40,
where the logistic loss's gradient at a logit is 1e-7 to 1e-18 and the model's is 1/M.
"""

import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf.models import build_model
from rbvae_tf.models.adversarial_base import MIN_UPSTREAM, DiscriminatorCall

BATCH = 6
TINY = dict(image_size=16, width=0.125, target_dim=2, common_dim=3, seed=5)


def both_ways(model, x, x_reference, saturate_to=None):
    """(fused gradients, plain gradients, logits) from one forward pass: `player_gradients` both ways.

    `saturate_to`: the discriminators' logits are multiplied by a constant so that the largest |d|
    is this (a steeper discriminator, without touching its weights)."""
    model.start_step()
    with tf.GradientTape(persistent=True) as tape:
        terms, pairs = model.objective(x, x_reference)
        if saturate_to is not None:
            pairs = {
                name: DiscriminatorCall(
                    call.inputs,
                    call.logits * tf.stop_gradient(saturate_to / tf.reduce_max(tf.abs(call.logits))),
                )
                for name, call in pairs.items()
            }
            terms = {**terms, **model.game_terms(pairs)}  # the game's terms of the steeper logits
        losses = model.player_losses(terms, pairs)
    gradients = {}
    try:
        for fused in (True, False):
            model.fused_backward = fused
            gradients[fused] = model.player_gradients(tape, pairs, *losses)
    finally:
        model.fused_backward = False
    single, double = gradients[True], gradients[False]
    logits = np.concatenate([np.asarray(call.logits) for call in pairs.values()])
    return single, double, logits


def assert_equal_gradients(single, double, variables):
    for new, old, variable in zip(single, double, variables):
        new, old = np.asarray(new), np.asarray(old)
        scale = float(np.abs(old).max())
        assert scale > 0, variable.path  # every variable gets a gradient
        np.testing.assert_allclose(new / scale, old / scale, atol=1e-5, err_msg=variable.path)


@pytest.fixture(scope="module", params=["srbvae", "svae", "srbvae-bounded"])
def model_and_batch(request):
    kwargs, name = dict(TINY), request.param
    if name == "srbvae-bounded":  # the bounded game: the bounded Eq. 8 logit and both players' clips
        kwargs.update(adversarial_bound=10.0, gradient_clip=1000.0, discriminator_gradient_clip=0.1)
        name = "srbvae"
    elif name == "srbvae":
        kwargs["weight_reference_target"] = 1.0  # every term of the step, also those beyond the paper
    model = build_model(name, **kwargs)
    model.compile(jit_compile=False)
    rng = np.random.default_rng(0)
    x, x_reference = (tf.constant(rng.uniform(-1, 1, (BATCH, 16, 16, 3)).astype(np.float32)) for _ in range(2))
    return model, x, x_reference


@pytest.mark.parametrize("saturate_to", [None, 40.0])
def test_single_backward_equals_one_backward_per_player(model_and_batch, saturate_to):
    model, x, x_reference = model_and_batch
    (model_grads, disc_grads), (model_ref, disc_ref), logits = both_ways(model, x, x_reference, saturate_to)
    if saturate_to is None:
        assert np.abs(logits).max() < 5  # an untrained discriminator
    else:
        # the case the rescaling must survive: saturated discriminators (|d| past float32's
        # 1 - sigmoid resolution, ~17), yet below the floor's onset (~55)
        np.testing.assert_allclose(np.abs(logits).max(), saturate_to, rtol=1e-5)
    assert len(model_grads) == len(model.model_variables) and len(disc_grads) == len(model.discriminator_variables)
    assert_equal_gradients(model_grads, model_ref, model.model_variables)
    assert_equal_gradients(disc_grads, disc_ref, model.discriminator_variables)
    # the comparison has teeth: 1 % more on one variable's gradient fails it
    for grads, ref, variables in (
        (model_grads, model_ref, model.model_variables),
        (disc_grads, disc_ref, model.discriminator_variables),
    ):
        with pytest.raises(AssertionError):
            assert_equal_gradients([grads[0] * 1.01, *grads[1:]], ref, variables)


def test_the_adversarial_weight_reaches_the_model_through_the_rescaling(model_and_batch):
    """With the Eq. 10 terms all 0 the model's gradient is the Eq. 8 term's alone, through the rescaling only."""
    model, x, x_reference = model_and_batch
    saved = {name: getattr(model, f"weight_{name}") for name in type(model).recon_names}
    try:
        for name in saved:
            setattr(model, f"weight_{name}", 0.0)
        model.weight_adversarial = 3.0
        (model_grads, _), (model_ref, _), _ = both_ways(model, x, x_reference)
    finally:
        model.weight_adversarial = 1.0
        for name, value in saved.items():
            setattr(model, f"weight_{name}", value)
    assert_equal_gradients(model_grads, model_ref, model.model_variables)


def test_floor_keeps_saturated_rows_finite():
    """Past the floor (|d| > ~55) the rescaled gradient stays finite: no inf or NaN reaches the model."""
    assert MIN_UPSTREAM == 1e-24
    model = build_model("svae", **TINY)
    model.compile(jit_compile=False)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.uniform(-1, 1, (BATCH, 16, 16, 3)).astype(np.float32))
    (model_grads, disc_grads), _, logits = both_ways(model, x, x, saturate_to=1000.0)
    assert np.abs(logits).max() > 100
    assert all(np.isfinite(np.asarray(g)).all() for g in model_grads + disc_grads)


@pytest.mark.parametrize("fused", [False, True])
def test_the_train_step_takes_the_fused_backward_only_when_asked(fused, monkeypatch):
    model = build_model("svae", **TINY, fused_backward=fused)
    model.compile(jit_compile=False)
    assert ("fused_backward" in model.get_config()) == fused  # written only when on
    assert type(model).from_config(model.get_config()).fused_backward is fused
    calls = []
    original = type(model).game_gradients

    def counted(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(type(model), "game_gradients", counted)
    rng = np.random.default_rng(2)
    x = tf.constant(rng.uniform(-1, 1, (BATCH, 16, 16, 3)).astype(np.float32))
    logs = model.train_step((x, x))
    assert len(calls) == int(fused) and np.isfinite(float(logs["loss"]))
