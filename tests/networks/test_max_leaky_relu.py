"""The discriminator's LeakyReLU as max(x, 0.2 x): the same maths and weights, no Grappler remapper error."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbvae_tf.loading import ZOO, load_trained
from rbvae_tf.networks import build_discriminator, build_encoder, build_generator
from rbvae_tf.networks.blocks import MaxLeakyReLU


def test_values_and_gradients_equal_leaky_relu():
    x = tf.constant(np.random.default_rng(0).normal(size=(1000,)).astype(np.float32) * 3)
    outputs, grads = [], []
    for layer in (MaxLeakyReLU(0.2), keras.layers.LeakyReLU(0.2)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        outputs.append(y.numpy())
        grads.append(tape.gradient(y, x, output_gradients=tf.ones_like(x) * 1.5).numpy())
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_allclose(np.unique(grads[0]), [0.3, 1.5])


def test_only_the_discriminator_uses_it_and_every_layer_keeps_its_name():
    d = build_discriminator(16, 0.125, [4, 2])
    activations = [l for l in d.layers if isinstance(l, keras.layers.LeakyReLU)]
    assert activations and all(type(l) is MaxLeakyReLU and l.negative_slope == 0.2 for l in activations)
    assert {l.name for l in activations} == {f"disc_{i}_lrelu" for i in (0, 2, 3, 5, 6, 8, 9, 11)} | {
        "image_lrelu",
        "z_lrelu",
        "e_lrelu",
        "fc_lrelu",
    }
    for network in (build_encoder(16, 0.125, 4), build_generator(16, 0.125, [4, 2])):
        assert not any(isinstance(l, MaxLeakyReLU) for l in network.layers)  # exported graphs unchanged


def _with_stock_leaky_relu(network):
    def clone(layer):
        if isinstance(layer, MaxLeakyReLU):
            return keras.layers.LeakyReLU(layer.negative_slope, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(network, clone_function=clone)
    copy.set_weights(network.get_weights())
    return copy


def test_bundled_preset_loads_and_its_discriminators_give_the_same_logits():
    name = "srbvae-mnist-cpu"
    if not (ZOO / name / "config.json").exists():
        pytest.skip("preset not bundled")
    model, _ = load_trained(name)
    rng = np.random.default_rng(0)
    size = model.image_size
    x = rng.uniform(-1, 1, (4, size, size, 3)).astype(np.float32)
    z, e = rng.normal(size=(4, model.common_dim)), rng.normal(size=(4, model.target_dim))
    for network, inputs in ((model.discriminator, [x, z, e]), (model.reference_discriminator, [x, z])):
        inputs = [tf.constant(np.asarray(t, np.float32)) for t in inputs]
        expected = np.asarray(_with_stock_leaky_relu(network)(inputs, training=False))
        np.testing.assert_allclose(np.asarray(network(inputs, training=False)), expected, rtol=1e-5, atol=1e-5)
        assert np.abs(expected).max() > 0.1  # trained weights, not an empty network
