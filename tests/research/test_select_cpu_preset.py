"""research/select_cpu_preset.py on finished fake runs: it must not train, and must pick the lowest e-probe."""

import json

from research import select_cpu_preset as select


def _fake_run(runs, evals, name, width, steps_per_epoch, epoch_seconds, mae_e):
    run_dir, eval_dir = runs / name, evals / name
    run_dir.mkdir(parents=True)
    eval_dir.mkdir(parents=True)
    (run_dir / "status.json").write_text(json.dumps({"epochs_completed": 2, "finished": True}))
    (run_dir / "config.json").write_text(
        json.dumps({"fit": {"width": width, "image_size": 32, "epochs": 2, "steps_per_epoch": steps_per_epoch}})
    )
    accuracies = (
        "discriminator_acc_real,discriminator_acc_fake,reference_discriminator_acc_real,"
        "reference_discriminator_acc_fake"
    )
    (run_dir / "history.csv").write_text(
        f"epoch,seconds,{accuracies}\n1,{epoch_seconds},0.9,0.8,0.7,0.6\n2,{epoch_seconds},1.0,0.99,0.98,0.97\n"
    )
    _fake_metrics(eval_dir, mae_e)


def _fake_metrics(eval_dir, mae_e):
    probe = {k: {"mae": {"mean": v}} for k, v in dict(e=mae_e, z=0.1, all=0.05, constant=0.2).items()}
    (eval_dir / "metrics.json").write_text(json.dumps({"probe": probe, "digit_accuracy": {"e": 0.3, "z": 0.9}}))


def test_picks_lowest_e_probe_and_writes_table(tmp_path, monkeypatch):
    runs, evals = tmp_path / "runs", tmp_path / "eval"
    _fake_run(runs, evals, "narrow", 0.25, 1000, 600.0, 0.09)
    _fake_run(runs, evals, "wide", 0.5, 400, 700.0, 0.0702)
    _fake_run(runs, evals, "wide-long", 0.5, 450, 800.0, 0.0698)  # same e-probe to 3 decimals, slower
    monkeypatch.setattr(select, "CANDIDATES", {"narrow": [], "wide": [], "wide-long": []})
    monkeypatch.setattr(select, "run", lambda args: (_ for _ in ()).throw(AssertionError(f"ran {args}")))

    assert select.main(runs, evals, tmp_path) == "wide"

    results = json.loads((tmp_path / "cpu-preset-selection.json").read_text())["results"]
    assert results["wide"]["steps"] == 800
    assert results["wide"]["training_seconds"] == 1400
    assert results["wide"]["seconds_per_step"] == 1.75
    assert results["narrow"]["final_discriminator_acc"]["reference_discriminator_acc_fake"] == 0.97
    table = (tmp_path / "cpu-preset-selection.md").read_text()
    assert "| wide | 0.5 | 800 | 23.3 | 1.75 | 0.070 | 0.100 | 0.050 | 0.200 | 0.300 | 0.900 |" in table
    assert "ties go to the shorter run): **wide** (width 0.5, 800 steps)." in table


def test_unfinished_run_is_trained_then_evaluated(tmp_path, monkeypatch):
    runs, evals = tmp_path / "runs", tmp_path / "eval"
    commands = []

    def fake_run(args):
        commands.append(args[1:3] + args[-2:])
        if args[2] == "fit":
            _fake_run(runs, evals, "new", 0.5, 400, 700.0, 0.07)
            (evals / "new" / "metrics.json").unlink()
        else:
            _fake_metrics(evals / "new", 0.07)

    monkeypatch.setattr(select, "CANDIDATES", {"new": ["--width", "0.5"]})
    monkeypatch.setattr(select, "run", fake_run)
    assert select.main(runs, evals, tmp_path) == "new"
    assert commands == [
        ["cli.py", "fit", "--out-dir", str(runs / "new")],
        ["cli.py", "evaluate", "--out-dir", str(evals / "new")],
    ]
