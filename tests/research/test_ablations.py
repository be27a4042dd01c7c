"""research/ablations.py and research/cards.py on fake runs: the report's numbers come from the run files."""

import json

import pytest

from research import ablations, cards, records, train_zoo
from research.runs import Run
from tests.conftest import REPO


def _runs(**changes):
    """{name: Run} of sRb-VAE runs: name -> (parent, change)."""
    return {name: Run(name, "srbvae", change, parent) for name, (parent, change) in changes.items()}


def _fake_run(root, name, mae_e, ref_l1):
    run = root / name
    (run / "eval").mkdir(parents=True)
    (run / "status.json").write_text(json.dumps({"finished": True}))
    (run / "config.json").write_text(json.dumps({"fit": {"epochs": 2, "steps_per_epoch": 5}}))
    (run / "history.csv").write_text("epoch,seconds\n1,60\n2,90\n")
    (run / "cpu.json").write_text(
        json.dumps({"start": {"model_name": "Fake CPU", "avx512": True, "cores": 2, "loadavg": [1.5, 1, 1]}})
    )
    probe = {
        k: {"mae": {"mean": v}}
        for k, v in dict(e=mae_e, z=0.15, all=0.05, e_sampled=0.07, z_sampled=0.16, all_sampled=0.06).items()
    }
    health = {
        "reference_l1_ratio": ref_l1,
        "sampled_mass_ratio": 0.9,
        "reference_mass_ratio": 0.8,
        "e_norm": 6.0,
        "e_prior_norm": 5.6,
        "z_norm": 5.0,
        "reference_target_norm": 0.3,
        "discriminator_accuracy": {"discriminator_acc_real": 0.9, "discriminator_acc_fake": 0.8},
    }
    (run / "eval" / "metrics.json").write_text(
        json.dumps({"probe": probe, "digit_accuracy": {"e": 0.2, "z": 0.8}, "health": health})
    )
    for kind in ("generate", "transfer"):
        (run / f"{kind}.png").write_bytes(b"png")


def test_report_writes_one_row_per_evaluated_run_between_the_markers(tmp_path, monkeypatch):
    monkeypatch.setattr(ablations, "RUNS", _runs(a=(None, "first"), b=("a", "second"), missing=("a", "not run")))
    root, docs = tmp_path / "runs", tmp_path / "docs"
    _fake_run(root, "a", 0.07, 1.0)
    _fake_run(root, "b", 0.06, 0.5)
    docs.mkdir()
    (docs / "ablations.md").write_text(f"intro\n{ablations.TABLE_START}\nold\n{ablations.TABLE_END}\noutro\n")
    rows = ablations.report(root, docs, tmp_path / "no-zoo")
    assert [r["name"] for r in rows] == ["a", "b"]
    assert rows[1]["minutes"] == 2.5 and rows[1]["steps"] == 10
    text = (docs / "ablations.md").read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert "| b | second (parent a) | 10 | 2.5 | Fake CPU, AVX-512, load 1.5 | 0.060 | 0.150 |" in text
    assert "| b | 0.500 | 0.900 | 0.800 | 6.0 (5.6) | 5.0 | 0.30 | 0.90/0.80 |" in text
    assert (docs / "ablations" / "b-transfer.png").read_bytes() == b"png"


def test_preset_card_lists_departures_from_the_paper():
    fit = {"reference_width": 3, "model_args": {"weight_z_invariance": 10000}}
    lines = cards.departures(fit)
    assert len(lines) == 2
    assert lines[0].startswith("- `reference_width` = 3: reference outlines drawn 3 px wide")
    assert lines[1].startswith("- `weight_z_invariance` = 10000: 10000 x MMD(q(z|x), q(z|x_r)) added")
    assert cards.departures({"reference_width": 1, "model_args": {}}) == []


def test_card_says_whether_the_reconstruction_term_was_still_falling():
    def history(values, column="reconstruction"):
        return [{"epoch": str(i + 1), column: str(v)} for i, v in enumerate(values)]

    last, before, fall = cards.reconstruction_trend(history([200, 120, 110, 100, 90, 80, 70]))
    assert (last, before) == (70, 120) and fall == pytest.approx(100 * 50 / 120 / 5)
    # the adversarial models log the image term as `image`; a flat end is a plateau
    assert cards.reconstruction_trend(history([9, 8, 100, 100, 99.9, 99.8, 99.7, 99.6], "image"))[2] < 0.1
    assert cards.reconstruction_trend(history([3, 2, 1])) is None  # too short to say
    fit = {"model": "vae", "epochs": 7, "steps_per_epoch": 10, "image_size": 32, "width": 0.5}
    mae = {k: 0.07 for k in ("R", "G", "B", "scale", "width", "mean")}
    preset = {
        "fit": fit,
        "history": history([200, 120, 110, 100, 90, 80, 70]),
        "metrics": {"probe": {"all": {"mae": mae}}, "digit_accuracy": {"all": 0.8}},
    }
    text = "\n".join(cards.limitations(preset))
    assert (
        "ended at 70 nats, on average 8.33 % per epoch below its value five epochs earlier (120): still falling"
    ) in text
    preset["history"] = history([9, 8, 100, 100, 99.9, 99.8, 99.7, 99.6])
    preset["fit"]["epochs"] = 8
    assert "near its plateau" in "\n".join(cards.limitations(preset))


def test_seed_table_gives_mean_and_range_of_complete_groups_only(monkeypatch):
    monkeypatch.setattr(ablations, "SEED_GROUPS", {"A": ("a0", "a1", "a2"), "B": ("b0", "b1", "b2")})
    keys = ("e", "z", "all", "digit_e", "digit_z", "digit_all")
    rows = [
        {"name": f"a{i}", **{k: v for k, v in zip(keys, (0.06 + i / 100, 0.1, 0.05, None, None, 0.7 + i / 10))}}
        for i in range(3)
    ] + [{"name": "b0", **dict.fromkeys(keys, 0.1)}]  # B lacks two seeds
    lines = ablations.seed_table(rows)
    assert len(lines) == 6 and lines[-1].startswith("| A | 3 | ")
    cells = [c.strip() for c in lines[-1].split("|")[3:-1]]
    assert cells[0] == "0.070 [0.060-0.080]" and cells[3] == "-" and cells[5] == "0.800 [0.700-0.900]"
    assert ablations.seed_table(rows[3:]) == []


def scale_row(name, scale_style, z_scale, adversarial):
    style = {"R": 0.8, "G": 0.9, "B": 1.0, "scale": scale_style, "width": 0.5}
    return {
        "name": name,
        "e": 0.07,
        "z": 0.1,
        "z_factors": {"scale": z_scale},
        "transfer": {"content": 0.7, "style": style, "generation_digit": 0.7},
        "generation_spread": {"scale": 0.2},
        "discriminator_accuracy": {"d_acc_real": 0.9, "d_acc_fake": 1.0},
        "adversarial_per_epoch": adversarial,
    }


def test_scale_measures_read_the_scale_study_from_one_row():
    measures = ablations.scale_measures(scale_row("a", 0.3, 0.12, [10.0, -20.0, 30.0, 400.0]))
    assert measures["style_scale"] == 0.3 and measures["z_scale"] == 0.12
    assert measures["style_colour"] == pytest.approx(0.9)
    assert measures["max_accuracy"] == 1.0  # the highest of the discriminators' last-epoch accuracies
    assert measures["eq8_peak"] == pytest.approx(400.0 / 30.0)  # largest |Eq. 8| over the median epoch's


def test_scale_table_gives_mean_and_range_of_complete_lever_groups(monkeypatch):
    monkeypatch.setattr(ablations, "SCALE_GROUPS", {"recipe": ("r0", "r1", "r2"), "k": ("k0", "k1", "k2")})
    rows = [scale_row(f"r{i}", 0.1 + i / 10, 0.1, [1.0, 1.0, 1.0]) for i in range(3)]
    rows += [scale_row("k0", 0.6, 0.2, [1.0])]  # the lever lacks two seeds: no row
    lines = ablations.scale_table(rows)
    assert lines[-1].startswith("| recipe | ") and len(lines) == 6
    cells = [c.strip() for c in lines[-1].split("|")[2:-1]]
    assert cells[0] == "0.100 [0.100-0.100]" and cells[1] == "0.200 [0.100-0.300]"
    assert ablations.scale_table(rows[3:]) == []


def test_every_scale_lever_has_three_seeds_against_the_recipe_of_the_same_seed():
    from research.runs import fit_command

    levers = [name for name in ablations.SCALE_GROUPS if name.startswith("k")]
    assert len(levers) == 5
    root = ablations.pathlib.Path("runs")
    for lever in levers:
        names = ablations.SCALE_GROUPS[lever]
        assert [ablations.RUNS[n].parent for n in names] == ["r10-lr3e4", "s1-r10", "s2-r10"]
        lever_args = None
        for seed, name in enumerate(names):
            command = fit_command(ablations.RUNS[name], ablations.RUNS, root)
            parent = fit_command(ablations.RUNS[ablations.RUNS[name].parent], ablations.RUNS, root)
            # one change: the lever's model arguments, all else (seed, recipe) as in the parent
            extra = set(command) - set(parent) - {f"runs/{name}"}
            assert extra and all("=" in item for item in extra), (name, extra)
            assert lever_args in (None, extra), name  # the same change at every seed
            lever_args = extra
            assert ("--seed" in command) == (seed > 0)


@pytest.mark.parametrize(
    "group, parents, change",
    [
        (
            "x01-combined",
            ("c02-corner", "c02-corner-s1", "c02-corner-s2"),
            {"weight_moments=10000", "spectral_norm=true"},
        ),
        ("b01-bf16", ("r10-lr3e4", "s1-r10", "s2-r10"), {"--mixed-precision", "bf16"}),
        ("x03-corner-long", ("l0-r10", "l1-r10", "l2-r10"), {"--padding", "corner"}),
        ("DIP-VAE-I, corner", tuple(f"l{i}-dip-vae-i-lr3e4" for i in range(3)), {"--padding", "corner"}),
        ("VAE, corner, 12,000", ("l0-vae", "l1-vae", "l2-vae"), {"--padding", "corner"}),
    ],
)
def test_the_combination_and_bf16_change_one_thing_against_the_same_seeds(group, parents, change):
    from research.runs import fit_command

    groups = {**ablations.SCALE_GROUPS, **ablations.PADDING_GROUPS}
    names = next(v for k, v in groups.items() if k.startswith(group))
    assert [ablations.RUNS[n].parent for n in names] == list(parents)
    changes = []
    for name in names:
        command = fit_command(ablations.RUNS[name], ablations.RUNS, ablations.pathlib.Path("runs"))
        parent = fit_command(
            ablations.RUNS[ablations.RUNS[name].parent], ablations.RUNS, ablations.pathlib.Path("runs")
        )
        changes.append(set(command) - set(parent) - {f"runs/{name}"})
    assert change <= changes[0] and changes[1] == changes[0] == changes[2]


def test_report_links_a_published_presets_grid_instead_of_storing_it_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(ablations, "RUNS", _runs(a=(None, "first"), b=("a", "second")))
    root, docs, zoo = tmp_path / "runs", tmp_path / "docs", tmp_path / "zoo"
    _fake_run(root, "a", 0.07, 1.0)
    _fake_run(root, "b", 0.06, 0.5)
    (root / "b" / "generate.png").write_bytes(b"grid of b")  # b's generation grid was published as a preset
    (zoo / "srbvae-mnist-cpu").mkdir(parents=True)
    (zoo / "srbvae-mnist-cpu" / "generate.png").write_bytes(b"grid of b")
    (zoo / "srbvae-mnist-cpu" / "transfer.png").write_bytes(b"another grid")
    (docs / "ablations").mkdir(parents=True)
    (docs / "ablations" / "b-generate.png").write_bytes(b"grid of b")  # a copy from an earlier report
    ablations.report(root, docs, zoo)
    text = (docs / "ablations.md").read_text()
    assert "[generation](../zoo/srbvae-mnist-cpu/generate.png), [transfer](ablations/b-transfer.png)" in text
    assert "[generation](ablations/a-generate.png)" in text
    assert not (docs / "ablations" / "b-generate.png").exists()
    assert (docs / "ablations" / "b-transfer.png").read_bytes() == b"png"


def test_committed_grid_is_the_copy_or_the_published_presets_file(tmp_path):
    docs, zoo = tmp_path / "docs", tmp_path / "zoo"
    (docs / "ablations").mkdir(parents=True)
    (docs / "ablations" / "r01-ref3-generate.png").write_bytes(b"copy")
    (zoo / "srbvae-mnist-cpu").mkdir(parents=True)
    (zoo / "srbvae-mnist-cpu" / "transfer.png").write_bytes(b"preset")
    assert records.committed_grid(docs, "r01-ref3", "generate", zoo).read_bytes() == b"copy"
    published = train_zoo.PRESET_RUNS["srbvae"]
    assert records.committed_grid(docs, published, "transfer", zoo).read_bytes() == b"preset"  # published
    with pytest.raises(FileNotFoundError):
        records.committed_grid(docs, "r01-ref3", "transfer", zoo)
    assert (
        records.committed_grid(REPO / "docs", published, "generate")
        == REPO / "zoo" / "srbvae-mnist-cpu" / "generate.png"
    )


def test_seed_groups_at_the_recipe_start_with_the_preset_and_differ_only_in_the_seed():
    for label, names in {**ablations.LONG_GROUPS, **ablations.BASELINE_GROUPS}.items():
        first = ablations.RUNS[names[0]]
        assert names[0] == train_zoo.PRESET_RUNS[first.model], label  # seed 0 is the preset's own run
        assert "seed" not in first.fit
        for seed, name in enumerate(names[1:], start=1):
            run = ablations.RUNS[name]
            assert (run.model, run.fit, run.model_args) == (first.model, {**first.fit, "seed": seed}, first.model_args)


def padding_row(name, scale, untrained_scale, reference_based):
    factors = {"R": 0.03, "G": 0.04, "B": 0.05, "scale": scale, "width": 0.1, "mean": 0.06}
    return {
        "name": name,
        "factors": factors,
        "untrained_factors": {**factors, "scale": untrained_scale},
        "z_factors": {"scale": 0.11} if reference_based else None,
        "transfer": {"content": 0.7, "style": {"scale": 0.2}} if reference_based else None,
        "digit_z": 0.8 if reference_based else None,
        "digit_all": 0.6,
    }


def test_padding_measures_read_e_for_reference_based_rows_and_all_latents_otherwise():
    vae = ablations.padding_measures(padding_row("v", 0.09, 0.15, False))
    assert vae["colour"] == pytest.approx(0.04) and vae["scale"] == 0.09 and vae["untrained_scale"] == 0.15
    assert vae["z_scale"] is None and vae["style_scale"] is None and vae["digit"] == 0.6
    srbvae = ablations.padding_measures(padding_row("s", 0.12, 0.18, True))
    assert srbvae["z_scale"] == 0.11 and srbvae["style_scale"] == 0.2 and srbvae["digit"] == 0.8


def test_padding_table_gives_each_complete_reading_over_its_seeds(monkeypatch):
    monkeypatch.setattr(ablations, "PADDING_GROUPS", {"centre": ("c0", "c1", "c2"), "corner": ("k0", "k1", "k2")})
    rows = [padding_row(f"c{i}", 0.09 + i / 100, 0.15, False) for i in range(3)] + [padding_row("k0", 0.05, 0.1, False)]
    lines = ablations.padding_table(rows)
    assert len(lines) == 6 and lines[-1].startswith("| centre | ")
    cells = [c.strip() for c in lines[-1].split("|")[2:-1]]
    assert cells[1] == "0.100 [0.090-0.110]" and cells[4] == "0.150 [0.150-0.150]" and cells[5] == "-"
    assert ablations.padding_table(rows[3:]) == []


def test_restore_brings_back_the_committed_grids_and_skips_a_run_whose_grids_were_not_kept(tmp_path):
    docs, root = tmp_path / "docs", tmp_path / "runs"
    for name in ("kept", "lost"):
        source = docs / "ablations" / "runs" / name
        source.mkdir(parents=True)
        (source / "config.json").write_text(json.dumps({"fit": {"epochs": 3}}))
        (source / "metrics.json").write_text("{}")
    (docs / "ablations" / "kept-generate.png").write_bytes(b"g")
    (docs / "ablations" / "kept-transfer.png").write_bytes(b"t")
    for name in ("kept", "lost"):
        records.restore(name, root, docs, grids=True)
        assert json.loads((root / name / "status.json").read_text()) == {"epochs_completed": 3, "finished": True}
    assert (root / "kept" / "generate.png").read_bytes() == b"g"
    assert (root / "kept" / "transfer.png").read_bytes() == b"t"
    assert not (root / "lost" / "generate.png").exists() and not (root / "lost" / "transfer.png").exists()


def test_report_marks_a_reference_based_run_without_grids(tmp_path, monkeypatch):
    monkeypatch.setattr(ablations, "RUNS", _runs(a=(None, "first"), b=("a", "second")))
    root, docs = tmp_path / "runs", tmp_path / "docs"
    _fake_run(root, "a", 0.07, 1.0)
    _fake_run(root, "b", 0.06, 0.5)
    for kind in ("generate", "transfer"):
        (root / "b" / f"{kind}.png").unlink(missing_ok=True)
    ablations.report(root, docs, tmp_path / "zoo")
    lines = {line.split(" | ")[0]: line for line in (docs / "ablations.md").read_text().splitlines()}
    assert lines["| b"].endswith("| - (grids not kept) |") and "[generation]" not in lines["| b"]
    assert "[generation](ablations/a-generate.png)" in lines["| a"]
