"""FitConfig: presets fill what is left None, per-model preset arguments, and the config.json round trip."""

import json

import pytest

from rbvae_tf import config as config_lib
from rbvae_tf.config import PRESETS, FitConfig


def test_saved_fit_config_rebuilds_the_same_config():
    original = FitConfig(model="rbvae", preset="tiny", epochs=3, model_args={"beta_e": 2.0})
    assert FitConfig(**json.loads(original.to_json())) == original


def test_preset_model_arguments_apply_to_their_model_only_and_yield_to_the_user(monkeypatch):
    monkeypatch.setitem(
        config_lib.PRESET_MODEL_ARGS, "cpu", {"srbvae": {"weight_reference_target": 2.0, "laplace_scale": 0.01}}
    )
    assert FitConfig(model="srbvae").model_args == {"weight_reference_target": 2.0, "laplace_scale": 0.01}
    assert FitConfig(model="srbvae", model_args={"weight_reference_target": 0.0}).model_args == {
        "weight_reference_target": 0.0,
        "laplace_scale": 0.01,
    }
    assert FitConfig(model="vae").model_args == {}


def test_every_preset_sets_every_field_it_names():
    for name, values in PRESETS.items():
        config = FitConfig(preset=name)
        assert {key: getattr(config, key) for key in values} == values
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        FitConfig(preset="huge")


def test_xla_auto_is_on_only_with_a_gpu(monkeypatch):
    import tensorflow as tf

    from rbvae_tf.training import use_xla

    one, two = tf.distribute.get_strategy(), type("Two", (), {"num_replicas_in_sync": 2})()
    assert FitConfig(preset="paper").jit == "auto"
    assert use_xla(FitConfig(preset="paper"), one) is False  # this machine has no GPU
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["gpu0"] if kind == "GPU" else [])
    assert use_xla(FitConfig(preset="paper"), one) is True
    assert use_xla(FitConfig(preset="paper"), two) is False  # XLA fails under MirroredStrategy
    assert use_xla(FitConfig(preset="cpu"), one) is False and use_xla(FitConfig(preset="cpu", jit=True), one) is True


def test_learning_rates_constant_cosine_and_the_discriminators_own():
    import tensorflow as tf

    from rbvae_tf.training import learning_rates, make_model

    assert learning_rates(FitConfig(learning_rate=3e-4), 100) == (3e-4, 3e-4)
    assert learning_rates(FitConfig(learning_rate=3e-4, discriminator_learning_rate=3e-5), 100) == (3e-4, 3e-5)
    model_rate, discriminator_rate = learning_rates(
        FitConfig(learning_rate=3e-4, discriminator_learning_rate=1e-4, lr_schedule="cosine"), 100
    )
    # cosine decay: the full rate at step 0, half of it half-way, 0 at the end of the run
    assert [float(model_rate(step)) for step in (0, 50, 100)] == pytest.approx([3e-4, 1.5e-4, 0.0], rel=1e-6, abs=1e-12)
    assert float(discriminator_rate(50)) == pytest.approx(5e-5)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'step'"):
        FitConfig(lr_schedule="step")

    config = FitConfig(
        model="srbvae", preset="tiny", learning_rate=2e-4, discriminator_learning_rate=2e-5, lr_schedule="cosine"
    )
    model = make_model(config, tf.distribute.get_strategy(), total_steps=10)
    model.optimizer.iterations.assign(5)  # as a backup restores it: the run continues on the same curve
    model.discriminator_optimizer.iterations.assign(5)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(model.discriminator_optimizer.learning_rate) == pytest.approx(1e-5)


def test_mixed_precision_is_fp32_unless_asked(tmp_path):
    from rbvae_tf.training import resolve_run_dir

    assert FitConfig().mixed_precision is None and FitConfig(mixed_precision="bf16").mixed_precision == "bf16"
    with pytest.raises(ValueError, match="unknown mixed precision 'fp16'; choose bf16 or None"):
        FitConfig(mixed_precision="fp16")
    # an unfinished run recorded before the field existed resumes: the absent field is its default
    run = tmp_path / "run"
    run.mkdir()
    fit = json.loads(FitConfig(preset="tiny").to_json())
    del fit["mixed_precision"]
    (run / "config.json").write_text(json.dumps({"fit": fit}))
    assert resolve_run_dir(run, FitConfig(preset="tiny")) == (run, True)
    with pytest.raises(ValueError, match=r"other settings \(mixed_precision\)"):
        resolve_run_dir(run, FitConfig(preset="tiny", mixed_precision="bf16"))
