"""Publishes a finished run as a zoo preset: config.json, model.weights.h5, metadata.json, README.md (the
card, research/cards.py), and copies of the run's history.csv and the evaluation's metrics.json / metrics.md.

    python -m research.make_preset runs/srbvae-cpu eval/srbvae-cpu zoo/srbvae-mnist-cpu
    python cli.py export srbvae-mnist-cpu --onnx --out-dir exports/srbvae-mnist-cpu
    rm -rf zoo/srbvae-mnist-cpu/export && mkdir zoo/srbvae-mnist-cpu/export
    cp -r exports/srbvae-mnist-cpu/{metadata.json,onnx} zoo/srbvae-mnist-cpu/export/
    python -m research.train_zoo cards                                          # the cards, with the export

`python -m research.train_zoo publish` does this for the seven presets. A new evaluation of a published preset
goes into it without the run folder:

    python cli.py evaluate srbvae-mnist-cpu --out-dir eval/srbvae-mnist-cpu
    python -m research.make_preset --refresh zoo/srbvae-mnist-cpu eval/srbvae-mnist-cpu
    python -m research.train_zoo cards
"""

import argparse
import json
import pathlib
import shutil

from rbvae_tf.callbacks import read_history
from research.cards import write_card
from research.records import portable


def refresh(out_dir, eval_dir):
    """Puts a new evaluation of preset `out_dir` (`python cli.py evaluate <preset> --out-dir eval_dir`) into
    it: metrics.json (keeping its `model` entry, which names the run the preset was published from) and
    metrics.md written again from it. The cards follow with `python -m research.train_zoo cards`."""
    from rbvae_tf.evaluation.report import metrics_markdown

    out_dir, eval_dir = pathlib.Path(out_dir), pathlib.Path(eval_dir)
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    metrics["model"] = json.loads((out_dir / "metrics.json").read_text())["model"]
    metrics = json.loads(json.dumps(metrics).replace(str(pathlib.Path.home()), "~"))
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    (out_dir / "metrics.md").write_text(metrics_markdown(metrics))
    print(f"refreshed {out_dir}/metrics.json and metrics.md; the cards: python -m research.train_zoo cards")


def draw_grids(model, info, run_dir, out_dir):
    """The preset's figures. Rb models: conditional generation (Fig. 3) and attribute transfer (Fig. 4)
    from the probe_test split; the others: the last epoch's sample grid of `fit`."""
    if model.reference_based:
        from rbvae_tf.applications import write_conditional_grid, write_transfer

        write_conditional_grid(model, out_dir / "generate.png", info=info)
        write_transfer(model, out_dir / "transfer.png", grid=6, info=info)
    else:
        shutil.copyfile(sorted((run_dir / "samples").glob("epoch_*.png"))[-1], out_dir / "samples.png")


def publish(run_dir, eval_dir, out_dir, note=None, source=None, seeds=None):
    """Publishes run `run_dir` (evaluated into `eval_dir`) as preset `out_dir`; `note` goes on the card,
    `source` is how the card and metrics name the run folder (default: `runs/<its name>`), `seeds` the
    configuration over training seeds (`seed_limitation`)."""
    from rbvae_tf.loading import load_trained, save_preset

    run_dir, eval_dir, out_dir = map(pathlib.Path, (run_dir, eval_dir, out_dir))
    source = source or f"runs/{run_dir.name}"
    model, info = load_trained(str(run_dir))
    history = read_history(run_dir / "history.csv")
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    fit = info["fit"]
    metadata = {
        "model": fit["model"],
        "preset": fit["preset"],
        "image_size": model.image_size,
        "target_dim": model.target_dim,
        "common_dim": model.common_dim,
        "value_range": [-1, 1],
        "epochs": len(history),
        "training_seconds": round(sum(float(row["seconds"]) for row in history)),
        "probe_mae_mean": {k: v["mae"]["mean"] for k, v in metrics["probe"].items()},
        "digit_accuracy": metrics["digit_accuracy"],
        "reference_target": model.reference_target.numpy().tolist() if model.reference_based else None,
    }
    kernels = json.loads((run_dir / "config.json").read_text()).get("kernels")  # which CPU kernels trained it
    save_preset(model, out_dir, fit=fit, metadata=metadata, kernels=kernels)
    draw_grids(model, info, run_dir, out_dir)
    shutil.copyfile(run_dir / "history.csv", out_dir / "history.csv")
    for name in ("metrics.json", "metrics.md"):
        (out_dir / name).write_text(portable((eval_dir / name).read_text(), run_dir, source))
    write_card(out_dir, run_dir, note, seeds)
    print(f"wrote {out_dir}")


def main():
    parser = argparse.ArgumentParser(
        prog="python -m research.make_preset", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", help="A finished run (or, with --refresh, a preset folder).")
    parser.add_argument("eval_dir", help="Its evaluation (`python cli.py evaluate ... --out-dir EVAL_DIR`).")
    parser.add_argument("out_dir", nargs="?", help="The preset folder to write (not with --refresh).")
    parser.add_argument("--refresh", action="store_true", help="Put a new evaluation into the preset RUN_DIR.")
    args = parser.parse_args()
    if args.refresh:
        refresh(args.run_dir, args.eval_dir)
    elif args.out_dir is None:
        parser.error("give OUT_DIR, the preset folder to write")
    else:
        publish(args.run_dir, args.eval_dir, args.out_dir)


if __name__ == "__main__":
    main()
