"""research/report.py and research/train_zoo.py on fake presets and runs: REPORT.md's numbers come from the files."""

import json

import pytest

from research import cards, make_preset, report, train_zoo
from research.layout import REPO
from research.tables import MODELS

FACTORS = ("R", "G", "B", "scale", "width")


def _mae(mean):
    return {"mae": {**{f: mean for f in FACTORS}, "mean": mean}}


def _fake_preset(zoo, model, mean, args=None):
    folder = zoo / f"{model}-mnist-cpu"
    folder.mkdir(parents=True)
    rb = model in ("rbvae", "srbvae")
    probe = {
        "constant": _mae(0.193),
        "untrained": _mae(0.1),
        **({"e": _mae(mean), "z": _mae(0.123), "all": _mae(0.05)} if rb else {"all": _mae(mean)}),
    }
    metrics = {
        "probe": probe,
        "digit_accuracy": {"e": 0.31, "z": 0.82} if rb else {"all": 0.77},
        "metrics": {
            k: {"sap": 0.1, "mig": 0.2, "dci_disentanglement": 0.3, "dci_completeness": 0.4, "dci_informativeness": 0.5}
            for k in (("e", "z") if rb else ("all",))
        },
    }
    if rb:
        metrics["health"] = {
            "reference_l1_ratio": 0.444,
            "sampled_mass_ratio": 1.0,
            "reference_mass_ratio": 1.0,
            "e_norm": 5.0,
            "e_prior_norm": 5.6,
            "z_norm": 6.0,
            "z_prior_norm": 5.6,
            "reference_target_norm": 0.1,
        }
    if rb:
        style = {"R": 0.7, "G": 0.8, "B": 0.9, "scale": 0.2, "width": 0.5, "mean": 0.62, "min": 0.2}
        real = {"images": 5000, "digit_accuracy": 0.925, "factor_mae": _mae(0.037)["mae"]}
        metrics["transfer"] = {
            "available": True,
            "readers": {"path": "zoo/readers/x", "train_images": 5000, "probe_test": real},
            "transfer": {"pairs": 1000, "content_kept": 0.66, "style_taken": style},
            "generation": {
                "images": 200,
                "samples": 10,
                "digit_accuracy": 0.51,
                "spread_ratio": {"scale": 0.37, "mean": 0.68},
            },
        }
    else:
        metrics["transfer"] = {"available": False, "reason": "no e/z split"}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "metadata.json").write_text("{}")
    fit = {
        "model": model,
        "model_args": args or {},
        "image_size": 32,
        "width": 0.5,
        "batch_size": 36,
        "epochs": 2,
        "steps_per_epoch": 10,
    }
    (folder / "config.json").write_text(json.dumps({"fit": fit}))
    (folder / "history.csv").write_text("epoch,seconds,loss\n1,30,2\n2,60,1\n")


def test_report_tables_come_from_the_preset_files_and_keep_the_written_text(tmp_path):
    zoo = tmp_path / "zoo"
    _fake_preset(zoo, "vae", 0.0711)
    _fake_preset(zoo, "beta-vae", 0.0722, {"beta_kl": 16})
    _fake_preset(zoo, "srbvae", 0.0644)
    sweeps = [
        {
            "model": "beta-vae",
            "run": f"beta-vae-{v}",
            "weight": "beta_kl",
            "value": v,
            "all": 0.07 + v / 1000,
            "factors": _mae(0.07 + v / 1000)["mae"],
            "digits": 0.7,
            "minutes": 2.0,
            "load": 0.3,
            "cpu": "Fake CPU, AVX-512",
            "steps": 2400,
            "learning_rate": 1e-4,
        }
        for v in (1, 16)
    ]
    out, readme = tmp_path / "REPORT.md", tmp_path / "README.md"
    out.write_text(f"# Report\n\nwritten before\n\n{report.START}\nold\n{report.END}\n\nwritten after\n")
    readme.write_text(f"intro\n{report.README_START}\n{report.README_END}\nrest\n")
    report.write_report(zoo, sweeps, out, readme)
    text = out.read_text()
    assert "written before" in text and "written after" in text and "\nold\n" not in text
    assert "| VAE | all | paper | 0.099 | 0.104 | 0.101 | 0.034 | 0.085 | 0.085 |" in text
    assert "|  |  | ours (vae-mnist-cpu) | 0.071 | 0.071 | 0.071 | 0.071 | 0.071 | 0.071 |" in text
    assert "| sRb-VAE | 0.189 | 0.123 | 0.064 | 0.059 |" in text  # z row: paper z, ours z, e, z - e
    assert (
        "| beta-VAE | beta_kl=16 | 0.086 | 0.086 | 0.086 | 0.086 | 0.086 | 0.086 | 0.700 | 2.0 | 0.3 "
        "| Fake CPU, AVX-512 | **chosen** |" in text
    )
    assert "| beta-VAE | beta_kl=1 | 0.071 |" in text and "Missing: dip-vae-i, dip-vae-ii, svae, rbvae." in text
    assert "| sRb-VAE | 0.444 |" in text  # branch health
    assert "All of them trained for 20 steps at 0.0001: one recipe." in text
    assert "Each run at 2,400 steps, learning rate 0.0001 with one regularisation weight" in text
    assert "| sRb-VAE | 0.050 | 0.050 | 0.050 | 0.050 | 0.050 | 0.050 |" in text  # all latents of every model
    assert "| sRb-VAE | 0.660 | 0.700 | 0.800 | 0.900 | 0.200 | 0.500 | 0.620 | 0.510 | 0.370 | 0.680 |" in text
    assert "| VAE | n/a |" in text and "1000 probe_test pairs" in text and "200 images x 10 samples" in text
    assert "digit accuracy 0.925" in text  # the readers' accuracy on real probe_test images
    head = readme.read_text()
    assert "| sRb-VAE | e | 0.060 | 0.064 | 0.189 | 0.123 | 0.310 | 0.820 |" in head and head.endswith("rest\n")


def test_recipe_note_names_the_presets_of_each_recipe(tmp_path):
    _fake_preset(tmp_path, "vae", 0.07)
    _fake_preset(tmp_path, "srbvae", 0.06)
    presets = {m: report.load_preset(tmp_path, m) for m in ("vae", "srbvae")}
    assert report.recipe_note(presets) == " All of them trained for 20 steps at 0.0001: one recipe."
    presets["srbvae"]["fit"]["learning_rate"] = 3e-4
    note = report.recipe_note(presets)
    assert "(20 steps at 0.0001: VAE; 20 steps at 0.0003: sRb-VAE)" in note and "one data budget only" in note


def test_a_tuned_baselines_preset_must_train_the_weight_its_sweep_chose(tmp_path, monkeypatch):
    rows = [
        {"model": m, "run": f"{m}-{v}", "all": 0.07 - (v == best) * 0.01, "value": v}
        for m, best in (("beta-vae", 16), ("dip-vae-i", 4), ("dip-vae-ii", 16))
        for v in train_zoo.SWEEP_VALUES
    ]
    sources = train_zoo.preset_sources(rows, tmp_path)
    assert sources["beta-vae"][0] == tmp_path / train_zoo.PRESET_RUNS["beta-vae"]
    assert "`beta_kl` = 16 had the lowest" in sources["beta-vae"][1]
    assert f"python -m research.ablations run {train_zoo.PRESET_RUNS['srbvae']}" in sources["srbvae"][1]
    monkeypatch.setitem(train_zoo.PRESET_RUNS, "beta-vae", "l0-vae")  # a run without the chosen weight
    with pytest.raises(SystemExit, match="does not train beta_kl=16"):
        train_zoo.preset_sources(rows, tmp_path)


def test_best_of_sweep_is_the_lowest_all_latents_mae():
    rows = [
        {"model": "dip-vae-i", "run": f"dip-vae-i-{v}", "all": a, "value": v}
        for v, a in zip(train_zoo.SWEEP_VALUES, (0.07, 0.061, 0.065, 0.09))
    ]
    assert train_zoo.best_of_sweep(rows, "dip-vae-i")["value"] == 4


def test_refresh_puts_a_new_evaluation_into_the_preset_and_its_card(tmp_path):
    """`python -m research.make_preset --refresh` writes the new metrics.json (keeping the `model` entry that
    names the run the preset came from) and metrics.md; the card written from the files shows the new transfer
    scores."""
    source = REPO / "zoo" / "srbvae-mnist-cpu"
    preset, evaluation = tmp_path / "srbvae-mnist-cpu", tmp_path / "eval"
    evaluation.mkdir()
    preset.mkdir()
    for name in ("config.json", "history.csv", "metadata.json", "metrics.json", "metrics.md", "generate.png"):
        (preset / name).write_bytes((source / name).read_bytes())
    metrics = json.loads((source / "metrics.json").read_text())
    metrics["transfer"]["transfer"]["content_kept"] = 0.1234
    metrics["model"] = {**metrics["model"], "name": "elsewhere", "path": "/somewhere/else"}
    (evaluation / "metrics.json").write_text(json.dumps(metrics))
    make_preset.refresh(preset, evaluation)
    written = json.loads((preset / "metrics.json").read_text())
    # the run the preset was published from
    assert written["model"]["path"] == f"runs/ablations/{train_zoo.PRESET_RUNS['srbvae']}"
    assert written["transfer"]["transfer"]["content_kept"] == 0.1234
    assert "content kept 0.123" in (preset / "metrics.md").read_text()
    cards.write_card(preset)
    text = (preset / "README.md").read_text()
    assert text.count(cards.TRANSFER_HEADING) == 1 and "keeps the content with 0.12 and takes the style" in text


def _fake_record(records, name, model, mean, digit_z=0.8):
    rb = model in ("rbvae", "srbvae")
    probe = {"e": _mae(mean), "z": _mae(0.1), "all": _mae(0.05)} if rb else {"all": _mae(mean)}
    digits = {"e": 0.3, "z": digit_z, "all": 0.8} if rb else {"all": 0.78}
    (records / name).mkdir(parents=True)
    (records / name / "metrics.json").write_text(json.dumps({"probe": probe, "digit_accuracy": digits}))


def test_seed_tables_give_mean_and_range_and_say_which_orderings_are_resolved(tmp_path):
    records = tmp_path / "runs"
    for i, mean in enumerate((0.060, 0.070, 0.065)):
        _fake_record(records, f"s{i}-srb", "srbvae", mean, digit_z=0.7 + i / 10)
    for i, mean in enumerate((0.050, 0.061, 0.052)):
        _fake_record(records, f"s{i}-dip", "dip-vae-i", mean)
    for i, mean in enumerate((0.080, 0.090, 0.085)):
        _fake_record(records, f"s{i}-rb", "rbvae", mean)
    groups = {
        "sRb": ("srbvae", ("s0-srb", "s1-srb", "s2-srb")),
        "DIP": ("dip-vae-i", ("s0-dip", "s1-dip", "s2-dip")),
        "Rb": ("rbvae", ("s0-rb", "s1-rb", "s2-rb")),
        "absent": ("vae", ("s0-vae",)),
        "part": ("dip-vae-i", ("s0-dip", "s1-dip", "s9-dip")),
    }
    summary = report.seed_summary(records, groups)
    assert list(summary) == ["sRb", "DIP", "Rb", "part"]  # a group with no record is left out
    assert summary["part"]["names"] == ("s0-dip", "s1-dip") and summary["part"]["all"][0] == pytest.approx(0.0555)
    assert "| part | 2 of 3 | all | 0.064 | 0.056 [0.050-0.061] |" in "\n".join(report.seed_rows(summary))
    del summary["part"]
    rows = "\n".join(report.seed_rows(summary))
    assert (
        "| sRb | 3 | e | 0.060 | 0.065 [0.060-0.070] | 0.189 | 0.100 [0.100-0.100] | 0.300 [0.300-0.300] "
        "| 0.800 [0.700-0.900] |" in rows
    )
    assert "| DIP | 3 | all | 0.064 | 0.054 [0.050-0.061] | - | - | 0.780 [0.780-0.780] | - |" in rows
    lines = report.orderings(summary)
    assert lines == [
        "- DIP below sRb by 0.011: not resolved (the seed ranges overlap).",
        "- sRb below Rb by 0.020: **resolved** (the seed ranges do not overlap).",
        "- DIP below Rb by 0.031: **resolved** (the seed ranges do not overlap).",
    ]
    one = report.seed_summary(records, {"sRb": ("srbvae", ("s0-srb",)), "Rb": ("rbvae", ("s0-rb",))})
    assert report.orderings(one) == ["- sRb below Rb by 0.020: one training seed, no range: not resolved."]


def test_card_states_the_spread_over_training_seeds_of_its_configuration(tmp_path):
    records = tmp_path / "runs"
    for i, (e, z) in enumerate(((0.064, 0.109), (0.065, 0.073), (0.081, 0.070))):
        (records / f"s{i}").mkdir(parents=True)
        (records / f"s{i}" / "metrics.json").write_text(
            json.dumps(
                {"probe": {"e": _mae(e), "z": _mae(z), "all": _mae(0.05)}, "digit_accuracy": {"e": 0.3, "z": 0.8}}
            )
        )
    row = report.seed_summary(records, {"sRb": ("srbvae", ("s0", "s1", "s2"))})["sRb"]
    line = cards.seed_limitation({"model": "srbvae", "seed": 0}, row)
    assert line.startswith("One training seed (0) of 3 trained at this recipe (s0, s1, s2); ")
    assert "is 0.070 [0.064-0.081] on e and 0.084 [0.070-0.109] on z: a retrain" in line
    baseline = {**row, "model": "dip-vae-i"}
    assert "is 0.050 [0.050-0.050] on all latents: " in cards.seed_limitation({"model": "dip-vae-i"}, baseline)
    unmeasured = "One training seed (0); how much this configuration's numbers move with the seed was not measured."
    assert cards.seed_limitation({"model": "vae", "seed": 0}, None) == unmeasured
    assert cards.seed_limitation({"model": "srbvae"}, {**row, "names": ("s0",)}) == unmeasured  # no range


def test_the_committed_cards_state_the_committed_seed_ranges():
    seeds = train_zoo.preset_seeds()
    assert {"srbvae", "rbvae", "dip-vae-i"} <= set(seeds) <= set(MODELS)  # LONG_GROUPS, BASELINE_GROUPS
    for model in MODELS:
        card = (REPO / "zoo" / f"{model}-mnist-cpu" / "README.md").read_text()
        fit = json.loads((REPO / "zoo" / f"{model}-mnist-cpu" / "config.json").read_text())["fit"]
        assert f"- {cards.seed_limitation(fit, seeds.get(model))}\n" in card, model  # `train_zoo cards`
