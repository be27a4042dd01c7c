"""zoo/report.py and zoo/train_zoo.py on fake presets and runs: REPORT.md's numbers come from the files."""

import json

from tests.zoo.test_ablations import _load

report, train_zoo = _load("report"), _load("train_zoo")
FACTORS = ("R", "G", "B", "scale", "width")


def _mae(mean):
    return {"mae": {**{f: mean for f in FACTORS}, "mean": mean}}


def _fake_preset(zoo, model, mean, args=None):
    folder = zoo / f"{model}-mnist-cpu"
    folder.mkdir(parents=True)
    rb = model in ("rbvae", "srbvae")
    probe = {"constant": _mae(0.193), "untrained": _mae(0.1), **({"e": _mae(mean), "z": _mae(0.123), "all": _mae(0.05)} if rb else
                                                                 {"all": _mae(mean)})}
    metrics = {"probe": probe, "digit_accuracy": {"e": 0.31, "z": 0.82} if rb else {"all": 0.77},
               "metrics": {k: {"sap": 0.1, "mig": 0.2, "dci_disentanglement": 0.3, "dci_completeness": 0.4,
                               "dci_informativeness": 0.5} for k in (("e", "z") if rb else ("all",))}}
    if rb:
        metrics["health"] = {"reference_l1_ratio": 0.444, "sampled_mass_ratio": 1.0, "reference_mass_ratio": 1.0,
                             "e_norm": 5.0, "e_prior_norm": 5.6, "z_norm": 6.0, "z_prior_norm": 5.6,
                             "reference_target_norm": 0.1}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "metadata.json").write_text("{}")
    fit = {"model": model, "model_args": args or {}, "image_size": 32, "width": 0.5, "batch_size": 36, "epochs": 2,
           "steps_per_epoch": 10}
    (folder / "config.json").write_text(json.dumps({"fit": fit}))
    (folder / "history.csv").write_text("epoch,seconds,loss\n1,30,2\n2,60,1\n")


def test_report_tables_come_from_the_preset_files_and_keep_the_written_text(tmp_path):
    zoo = tmp_path / "zoo"
    _fake_preset(zoo, "vae", 0.0711)
    _fake_preset(zoo, "beta-vae", 0.0722, {"beta_kl": 16})
    _fake_preset(zoo, "srbvae", 0.0644)
    sweeps = [{"model": "beta-vae", "run": f"beta-vae-{v}", "weight": "beta_kl", "value": v,
               "all": 0.07 + v / 1000, "factors": _mae(0.07 + v / 1000)["mae"], "digits": 0.7, "minutes": 2.0,
               "load": 0.3, "cpu": "Fake CPU, AVX-512"} for v in (1, 16)]
    out, readme = tmp_path / "REPORT.md", tmp_path / "README.md"
    out.write_text(f"# Report\n\nwritten before\n\n{report.START}\nold\n{report.END}\n\nwritten after\n")
    readme.write_text(f"intro\n{report.README_START}\n{report.README_END}\nrest\n")
    report.write_report(zoo, sweeps, out, readme)
    text = out.read_text()
    assert "written before" in text and "written after" in text and "\nold\n" not in text
    assert "| VAE | all | paper | 0.099 | 0.104 | 0.101 | 0.034 | 0.085 | 0.085 |" in text
    assert "|  |  | ours (vae-mnist-cpu) | 0.071 | 0.071 | 0.071 | 0.071 | 0.071 | 0.071 |" in text
    assert "| sRb-VAE | 0.189 | 0.123 | 0.064 | 0.059 |" in text  # z row: paper z, ours z, e, z - e
    assert "| beta-VAE | beta_kl=16 | 0.086 | 0.086 | 0.086 | 0.086 | 0.086 | 0.086 | 0.700 | 2.0 | 0.3 | Fake CPU, AVX-512 | **chosen** |" in text
    assert "| beta-VAE | beta_kl=1 | 0.071 |" in text and "Missing: dip-vae-i, dip-vae-ii, svae, rbvae." in text
    assert "| sRb-VAE | 0.444 |" in text  # branch health
    assert "| sRb-VAE | 0.050 | 0.050 | 0.050 | 0.050 | 0.050 | 0.050 |" in text  # all latents of every model
    head = readme.read_text()
    assert "| sRb-VAE | e | 0.060 | 0.064 | 0.189 | 0.123 | 0.310 | 0.820 |" in head and head.endswith("rest\n")


def test_best_of_sweep_is_the_lowest_all_latents_mae():
    rows = [{"model": "dip-vae-i", "run": f"dip-vae-i-{v}", "all": a, "value": v}
            for v, a in zip(train_zoo.SWEEP_VALUES, (0.07, 0.061, 0.065, 0.09))]
    assert train_zoo.best_of_sweep(rows, "dip-vae-i")["value"] == 4
