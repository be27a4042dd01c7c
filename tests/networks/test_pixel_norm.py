"""PixelNorm's hand-written gradient: the forward of the plain formula, and the gradient autodiff gives it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf import runtime
from rbvae_tf.loading import ZOO, load_trained
from rbvae_tf.networks import PixelNorm, build_encoder, build_generator
from rbvae_tf.networks.pixel_norm import pixel_norm

EPSILON = 1e-8
# (channels, scale of x): one channel (y = sign(x) up to epsilon, so its gradient cancels to ~epsilon / x^3),
# a few, and the generator's widths; x^2 near epsilon (1e-4), where epsilon matters, and large inputs.
CASES = [(c, s) for c in (1, 3, 64) for s in (1.0, 1e-4, 30.0)]


def reference(x, epsilon=EPSILON):
    """The plain formula, differentiated by autodiff."""
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + epsilon)


def inputs(channels, scale, dtype=tf.float32, seed=0):
    """(x, upstream gradient g): random, with pixel (0, 0, 0) of x all zeros (there r = 1/sqrt(epsilon))."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 5, 5, channels)) * scale
    x[0, 0, 0] = 0.0
    return tf.constant(x, dtype), tf.constant(rng.normal(size=x.shape), dtype)


def gradient(f, x, g):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x, output_gradients=g)


graph_gradient = tf.function(gradient, reduce_retracing=False)


def assert_gradients_close(actual, expected, x, g, rtol):
    """Per pixel, |actual - expected| <= rtol * r |g| (the size of the gradient's terms r g and x r^3 mean(g x),
    which may cancel: with one channel the exact gradient is g r epsilon / (x^2 + epsilon)), and
    |actual - expected| <= rtol |expected| over the whole tensor."""
    actual, expected, x, g = (np.asarray(t, np.float64) for t in (actual, expected, x, g))
    r = 1.0 / np.sqrt((x**2).mean(-1) + EPSILON)
    per_pixel = np.linalg.norm(actual - expected, axis=-1) / (r * np.linalg.norm(g, axis=-1))
    assert per_pixel.max() <= rtol, per_pixel.max()
    assert np.linalg.norm(actual - expected) <= rtol * np.linalg.norm(expected)


@pytest.mark.parametrize("channels, scale", CASES)
def test_forward_is_the_plain_formula(channels, scale):
    x, _ = inputs(channels, scale)
    y = PixelNorm()(x)
    np.testing.assert_array_equal(y, reference(x))  # the same ops
    x64 = np.asarray(x, np.float64)
    np.testing.assert_allclose(y, x64 / np.sqrt((x64**2).mean(-1, keepdims=True) + EPSILON), rtol=1e-6, atol=1e-30)
    assert np.all(np.asarray(y)[0, 0, 0] == 0.0)
    np.testing.assert_array_equal(PixelNorm(epsilon=1e-3)(x), reference(x, 1e-3))


@pytest.mark.parametrize("channels, scale", CASES)
@pytest.mark.parametrize("mode", ["eager", "graph"])  # tf.custom_gradient has one code path for each
def test_gradient_equals_autodiff_of_the_formula(channels, scale, mode):
    x, g = inputs(channels, scale)
    run = gradient if mode == "eager" else graph_gradient
    actual = run(PixelNorm(), x, g)
    autodiff = run(reference, x, g)
    assert actual.dtype == tf.float32
    assert_gradients_close(actual, autodiff, x, g, rtol=1e-6)
    # and both to the exact gradient (autodiff in float64 at the same inputs)
    exact = gradient(reference, tf.cast(x, tf.float64), tf.cast(g, tf.float64))
    assert_gradients_close(actual, exact, x, g, rtol=1e-6)
    # at the zero pixel the gradient is r g = g / sqrt(epsilon)
    np.testing.assert_allclose(actual[0, 0, 0], g[0, 0, 0] / np.sqrt(EPSILON), rtol=1e-6)


def with_stock_pixel_norm(network):
    """A copy of `network` with the same weights, each PixelNorm replaced by the plain formula (`reference`)."""

    def clone(layer):
        if isinstance(layer, PixelNorm):
            return keras.layers.Lambda(lambda x, eps=layer.epsilon: reference(x, eps), name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(network, clone_function=clone)
    copy.set_weights(network.get_weights())
    assert not any(isinstance(l, PixelNorm) for l in copy.layers)
    return copy


def test_gradient_through_a_network_and_a_persistent_tape():
    """Inside the generator (9 pixel norms), taken twice from one persistent tape as the adversarial step does."""
    network = build_generator(16, 0.125, [4, 2])
    rng = np.random.default_rng(1)
    latents = [tf.constant(rng.normal(size=(3, d)), tf.float32) for d in (4, 2)]
    weights = tf.constant(rng.normal(size=(3, 16, 16, 3)), tf.float32)
    grads = []
    for model in (network, with_stock_pixel_norm(network)):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(latents)
            loss = tf.reduce_sum(model(latents) * weights)
        grads.append(tape.gradient(loss, model.trainable_weights) + tape.gradient(loss, latents))
    for new, old in zip(*grads):
        np.testing.assert_allclose(new, old, rtol=1e-4, atol=1e-5 * float(np.abs(old).max()))


@pytest.mark.parametrize("mode", ["eager", "graph"])
def test_second_order_gradient_equals_autodiff(mode):
    """No model differentiates a gradient through a pixel norm (the discriminators have none, and the R1
    penalty was removed), but the gradient is built from differentiable ops, so a nested tape still works."""
    x, g = inputs(5, 1.0)
    v = tf.constant(np.random.default_rng(2).normal(size=x.shape), tf.float32)

    def hessian_vector(f, x, g, v):
        with tf.GradientTape() as outer:
            outer.watch([x, g])
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = f(x)
            dx = inner.gradient(y, x, output_gradients=g)
            s = tf.reduce_sum(dx * v)
        return outer.gradient(s, [x, g])

    run = hessian_vector if mode == "eager" else tf.function(hessian_vector)
    actual = run(PixelNorm(), x, g, v)
    expected = run(reference, x, g, v)
    for a, e in zip(actual, expected):
        assert a is not None
        scale = float(np.abs(e).max())
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-6 * scale)


def test_bfloat16_inputs():
    """The layer's dtype policy is float32: bfloat16 inputs are cast and it computes in float32 (as before);
    computing in bfloat16 (a mixed_bfloat16 policy, which no model uses) gives bfloat16's precision."""
    x, g = inputs(16, 1.0)
    x16 = tf.cast(x, tf.bfloat16)
    with tf.GradientTape() as tape:
        tape.watch(x16)
        y = PixelNorm()(x16)
    assert y.dtype == tf.float32
    np.testing.assert_array_equal(y, reference(tf.cast(x16, tf.float32)))
    dx = tape.gradient(y, x16, output_gradients=g)
    assert dx.dtype == tf.bfloat16
    expected = gradient(reference, tf.cast(x16, tf.float32), g)
    np.testing.assert_array_equal(dx, tf.cast(expected, tf.bfloat16))

    layer = PixelNorm(dtype="mixed_bfloat16")
    g16 = tf.cast(g, tf.bfloat16)
    y16 = layer(x16)
    assert y16.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(y16, tf.float32), reference(tf.cast(x16, tf.float32)), rtol=2e-2, atol=2e-2)
    dx16 = gradient(layer, x16, g16)
    assert dx16.dtype == tf.bfloat16
    exact = gradient(reference, tf.cast(x16, tf.float64), tf.cast(g16, tf.float64))
    assert_gradients_close(dx16, exact, x16, g16, rtol=3e-2)


@pytest.mark.skipif(not runtime.has_bf16(), reason="this CPU has neither AVX512_BF16 nor AMX")
def test_bf16_mixed_precision_keeps_the_gradient_fp32():
    """Under `--mixed-precision bf16` the convolution before a pixel norm runs in bfloat16, and the pixel norm,
    forward and backward, stays float32 (its ops are all in `runtime.KEEP_FP32`): at the convolution's
    (bfloat16-rounded) output, the gradient is the float32 one, not bfloat16's ~1e-2."""
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(2, 8, 8, 4)), tf.float32)
    kernel = tf.constant(rng.normal(size=(3, 3, 4, 16)), tf.float32)
    g = tf.constant(rng.normal(size=(2, 8, 8, 16)), tf.float32)

    @tf.function
    def step(x, g):
        h = tf.nn.conv2d(x, kernel, 1, "SAME")
        with tf.GradientTape() as tape:
            tape.watch(h)
            y = PixelNorm()(h)
        return h, y, tape.gradient(y, h, output_gradients=g)

    runtime.set_precision("bf16")
    try:
        h, y, dh = step(x, g)
    finally:
        runtime.set_precision(None)
    fp32_h = tf.nn.conv2d(x, kernel, 1, "SAME")
    assert 1e-4 < float(tf.reduce_max(tf.abs(h - fp32_h)) / tf.reduce_max(tf.abs(fp32_h))) < 3e-2  # bf16 ran
    h64 = tf.cast(h, tf.float64)
    np.testing.assert_allclose(y, reference(h64), rtol=1e-5, atol=1e-6)
    assert_gradients_close(dh, gradient(reference, h64, tf.cast(g, tf.float64)), h, g, rtol=1e-5)


def test_bundled_preset_loads_and_gives_the_plain_formulas_outputs():
    name = "srbvae-mnist-cpu"
    if not (ZOO / name / "config.json").exists():
        pytest.skip("preset not bundled")
    model, _ = load_trained(name)
    rng = np.random.default_rng(0)
    size = model.image_size
    x = tf.constant(rng.uniform(-1, 1, (2, size, size, 3)), tf.float32)
    z, e = (tf.constant(rng.normal(size=(2, d)), tf.float32) for d in (model.common_dim, model.target_dim))
    networks = [(model.target_encoder, x), (model.common_encoder, x), (model.generator, [z, e])]
    for network, args in networks:
        layers = [l for l in network.layers if isinstance(l, PixelNorm)]
        assert layers and all(l.epsilon == EPSILON for l in layers)
        outputs = keras.tree.flatten(network(args))
        for new, old in zip(outputs, keras.tree.flatten(with_stock_pixel_norm(network)(args))):
            np.testing.assert_array_equal(new, old)
            assert np.abs(np.asarray(old)).max() > 1e-3  # trained weights, not an empty network


def test_config_round_trip():
    layer = PixelNorm(epsilon=1e-3, name="pn")
    config = layer.get_config()
    assert config["epsilon"] == 1e-3 and config["name"] == "pn"
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(copy) is PixelNorm and copy.get_config() == config
    assert build_encoder(16, 0.125, 4).get_layer("enc_0_pn").get_config()["epsilon"] == EPSILON
    assert pixel_norm(tf.zeros((1, 2)), 1.0).numpy().tolist() == [[0.0, 0.0]]
