"""Publishes a finished run as a zoo preset: config.json, model.weights.h5, metadata.json, README.md,
and copies of the run's history.csv and the evaluation's metrics.json / metrics.md.

    python zoo/make_preset.py runs/srbvae-cpu eval/srbvae-cpu zoo/srbvae-mnist-cpu
    python cli.py export srbvae-mnist-cpu --onnx --out-dir exports/srbvae-mnist-cpu
    rm -rf zoo/srbvae-mnist-cpu/export && mkdir zoo/srbvae-mnist-cpu/export
    cp -r exports/srbvae-mnist-cpu/{metadata.json,onnx} zoo/srbvae-mnist-cpu/export/
    python zoo/make_preset.py runs/srbvae-cpu eval/srbvae-cpu zoo/srbvae-mnist-cpu   # card with the export

The card (README.md) is written from the run's history.csv and the evaluation's metrics.md, so every
number in it comes from those files. A new evaluation of a published preset (e.g. after a new score was
added to `evaluate`) goes into it without the run folder:

    python cli.py evaluate srbvae-mnist-cpu --out eval/srbvae-mnist-cpu
    python zoo/make_preset.py --refresh zoo/srbvae-mnist-cpu eval/srbvae-mnist-cpu
"""

import json
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from rbvae_tf.callbacks import read_history  # noqa: E402
from rbvae_tf.loading import load_trained, save_preset  # noqa: E402


def reading(probe, last, accuracy_names):
    """A plain-words paragraph on the e/z split and the discriminators, from the numbers only."""
    if "e" not in probe:
        return ""
    e, z = probe["e"]["mae"]["mean"], probe["z"]["mae"]["mean"]
    text = f"**Reading.** Mean MAE on the target factors: e {e:.3f}, z {z:.3f} (the paper: e .060, z .189). "
    if z <= e:
        text += "z predicts them at least as well as e: this run has not separated target from common factors."
    else:
        text += (f"e predicts them better than z, the intended direction, but z is still far below the constant "
                 f"floor ({probe['constant']['mae']['mean']:.3f}): the split is partial.")
    if accuracy_names:
        accuracies = [float(last[k]) for k in accuracy_names]
        text += (" Last-epoch discriminator accuracies (real / fake, d then d'): "
                 + " / ".join(f"{a:.3f}" for a in accuracies))
        if min(accuracies) > 0.98:
            text += ": saturated, so the adversarial signal of Eq. 8 is weak next to the reconstruction terms"
        text += "."
    return text + " Use it to try the pipeline, not as a reproduction of Table 1."


# Why each departure from the paper is there (docs/ablations.md has the measurements).
DEPARTURES = {
    "reference_width": "reference outlines drawn {value} px wide at 64 px instead of 1 px: at 32 px a 1 px outline "
                       "is a faint half-intensity line and the L1-optimal reconstruction is black, which killed "
                       "the reference branch (docs/ablations.md, r00 vs r01)",
    "weight_z_invariance": "{value} x MMD(q(z|x), q(z|x_r)) added: z of unlabelled and of reference images should "
                           "have one distribution when z holds no target factor (beyond the paper)",
    "weight_reference_target": "{value} x -log q(e_r | x_r) added: e of reference images pulled to e_r "
                               "(beyond the paper)",
    "weight_kl": "{value} x the KL terms of Eq. 3 added to the sRb-VAE objective",
    "laplace_scale": "Laplace scale {value} instead of 0.01 (the image terms weigh less against the others)",
    "discriminator_dropout_mode": "discriminator dropout zeroes whole inputs ({value}) instead of single features",
    "beta_z": "KL on z weighted {value} (the paper: 1)",
    "beta_e": "KL on e weighted {value} (the paper: 1)",
}


# Regularisation weights the paper tuned in [1, 50] for beta-VAE and DIP-VAE-I/II (zoo/train_zoo.py sweeps them).
TUNED = {"beta_kl", "lambda_od"}


def machine(run_dir):
    """The CPU a run trained on, from the cpu.json that zoo/ablations.py and zoo/train_zoo.py write."""
    path = run_dir / "cpu.json"
    if not path.exists():
        return "a 2-core machine (CPU not recorded)"
    recorded = json.loads(path.read_text())
    cpu = recorded["start"]
    load = cpu["loadavg"][0]  # before the run started: other work, not the run itself
    shared = "other work was running" if load >= 0.5 else "the machine was idle"
    return (f"{cpu['cores']} cores of an {cpu['model_name']} ({'AVX-512' if cpu['avx512'] else 'no AVX-512'}; "
            f"load average {load:.1f} at the start: {shared})")


def departures(fit):
    """Lines saying how a run's configuration departs from the paper's objective and data, and why.

    The reference outline width only matters to the reference-based models; the regularisation weights
    of the tuned baselines (`TUNED`) are the paper's own search, not departures."""
    changes = {k: v for k, v in (fit.get("model_args") or {}).items() if k not in TUNED}
    if (fit.get("reference_width") or 1) != 1 and fit.get("model", "srbvae") in ("rbvae", "srbvae"):
        changes["reference_width"] = fit["reference_width"]
    return [f"- `{key}` = {value}: " + DEPARTURES.get(key, "{value}").format(value=value)
            for key, value in sorted(changes.items())]


def fit_command(fit, out):
    """The `cli.py fit` command that trains the configuration `fit` (a run's config.json "fit"): the
    preset plus the `--model-arg`s that differ from it. Raises ValueError if the command would not
    reproduce `fit` exactly (a setting this function does not spell out)."""
    from rbvae_tf.config import PRESET_MODEL_ARGS, FitConfig

    preset_args = PRESET_MODEL_ARGS[fit["preset"]].get(fit["model"], {})
    extra = {k: v for k, v in sorted((fit.get("model_args") or {}).items()) if preset_args.get(k) != v}
    rebuilt = json.loads(FitConfig(model=fit["model"], preset=fit["preset"], model_args=dict(extra)).to_json())
    differ = sorted(k for k in set(rebuilt) | set(fit) if rebuilt.get(k) != fit.get(k))
    if differ:
        raise ValueError(f"the preset command does not reproduce this run: {', '.join(differ)} differ")
    args = ["python", "cli.py", "fit", "--model", fit["model"], "--budget", fit["preset"]]
    for key, value in extra.items():
        args += ["--model-arg", f"{key}={value}"]
    return " ".join([*args, "--out-dir", str(out)])


def write_grids(model, info, run_dir, out_dir):
    """The preset's figures, as card lines. Rb models: conditional generation (Fig. 3) and attribute
    transfer (Fig. 4) from the probe_test split; the others: the last epoch's sample grid of `fit`
    (inputs, reconstructions, samples of the prior)."""
    if model.reference_based:
        from rbvae_tf.applications import write_conditional_grid, write_transfer

        write_conditional_grid(model, out_dir / "generate.png", info=info)
        write_transfer(model, out_dir / "transfer.png", grid=6, info=info)
        return ["![conditional generation](generate.png)", "",
                "Conditional generation (`python cli.py generate " + out_dir.name + " --out generate.png`): "
                "each row a probe image, its reference version G(z, e_r), then G(z, e_j) for e_j ~ N(0, I), "
                "the same e_j down each column.", "",
                "![attribute transfer](transfer.png)", "",
                "Attribute transfer (`python cli.py transfer " + out_dir.name + " --grid 6 --out transfer.png`): "
                "z from the image at the left of each row, e from the image at the top of each column."]
    last = sorted((run_dir / "samples").glob("epoch_*.png"))[-1]
    shutil.copyfile(last, out_dir / "samples.png")
    return ["![samples](samples.png)", "",
            f"`samples.png` (the last epoch's `samples/{last.name}` of the run): top row, training images; "
            "middle, their reconstructions; bottom, images generated from latents drawn from the prior."]


def portable(text, run_dir, source):
    """`text` without this machine's paths: the run folder as `source`, the home folder as `~`."""
    text = text.replace(str(run_dir.resolve()), source).replace(str(run_dir), source)
    return text.replace(str(pathlib.Path.home()), "~")


TRANSFER_HEADING = "## Attribute transfer and generation as numbers"
EVALUATION_LINE = "Evaluation (`python cli.py evaluate`):"


def transfer_section(metrics):
    """The card's short section on the transfer/generation scores of metrics.json (`evaluation.transfer`);
    the full tables are in the evaluation part of the card."""
    entry = metrics.get("transfer")
    if not (entry or {}).get("available"):  # no e/z split: the evaluation part says n/a and why
        return []
    scores, generation = entry["transfer"], entry["generation"]
    style = scores["style_taken"]
    return [TRANSFER_HEADING, "",
            f"Read by independent readers (trained on real probe_train images; tables in the evaluation below): "
            f"transfer G(z(A), e(B)) on {scores['pairs']} probe_test pairs keeps the content with "
            f"{scores['content_kept']:.2f} and takes the style with R {style['R']:.2f}, G {style['G']:.2f}, "
            f"B {style['B']:.2f}, scale {style['scale']:.2f}, width {style['width']:.2f} (mean {style['mean']:.2f}); "
            f"1 = as well as the real images, 0 = no better than a trivial output (issue 20's targets: content "
            f">= .90, style >= .80 each). Conditional generation G(z(A), e ~ N(0, I)): "
            f"{generation['digit_accuracy']:.2f} of the samples are read as A's digit; the read factors vary over "
            f"the sampled e {generation['spread_ratio']['mean']:.2f} times as much as in the data (scale "
            f"{generation['spread_ratio']['scale']:.2f}, width {generation['spread_ratio']['width']:.2f}).", ""]


def refresh(out_dir, eval_dir):
    """Puts a new evaluation of preset `out_dir` (`python cli.py evaluate <preset> --out eval_dir`) into it:
    metrics.json (keeping its `model` entry, which names the run the preset was published from), metrics.md
    written again from it, and in the card the transfer section and the evaluation part; the rest of the
    card is kept as written."""
    from rbvae_tf.evaluation.report import metrics_markdown

    out_dir, eval_dir = pathlib.Path(out_dir), pathlib.Path(eval_dir)
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    metrics["model"] = json.loads((out_dir / "metrics.json").read_text())["model"]
    metrics = json.loads(json.dumps(metrics).replace(str(pathlib.Path.home()), "~"))
    text = (out_dir / "README.md").read_text()
    head, found, rest = text.partition(EVALUATION_LINE)
    if not found:
        raise SystemExit(f"{out_dir / 'README.md'} has no line {EVALUATION_LINE!r}")
    head = head.split(TRANSFER_HEADING)[0]
    ends = [i for i in (rest.find("\n**Reading.**"), rest.find("\n## Exported artifacts")) if i >= 0]
    tail = rest[min(ends):] if ends else "\n"
    markdown = metrics_markdown(metrics)
    section = "".join(line + "\n" for line in transfer_section(metrics))
    card = (head + section + EVALUATION_LINE + "\n\n"
            + markdown.split("\n", 2)[2] + tail)
    (out_dir / "README.md").write_text(card)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    (out_dir / "metrics.md").write_text(markdown)
    print(f"refreshed {out_dir}")


def main(run_dir, eval_dir, out_dir, note=None, source=None):
    """Publishes run `run_dir` (evaluated into `eval_dir`) as preset `out_dir`; `note` goes on the card,
    `source` is how the card and metrics name the run folder (default: `runs/<its name>`)."""
    run_dir, eval_dir, out_dir = map(pathlib.Path, (run_dir, eval_dir, out_dir))
    source = source or f"runs/{run_dir.name}"
    model, info = load_trained(str(run_dir))
    history = read_history(run_dir / "history.csv")
    seconds = sum(float(row["seconds"]) for row in history)
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    fit = info["fit"]
    metadata = {
        "model": fit["model"], "preset": fit["preset"], "image_size": model.image_size,
        "target_dim": model.target_dim, "common_dim": model.common_dim, "value_range": [-1, 1],
        "epochs": len(history), "training_seconds": round(seconds), "probe_mae_mean": {
            k: v["mae"]["mean"] for k, v in metrics["probe"].items()},
        "digit_accuracy": metrics["digit_accuracy"],
        "reference_target": model.reference_target.numpy().tolist() if model.reference_based else None,
    }
    save_preset(model, out_dir, fit=fit, metadata=metadata)
    last = history[-1]
    arguments = ", ".join(f"`{k}` = {v}" for k, v in sorted((fit.get("model_args") or {}).items()))
    arguments = arguments or "the paper's objective"
    card = [
        f"# {out_dir.name}",
        "",
        f"{fit['model']} ({arguments}) trained on the bundled MNIST-style data "
        f"({model.image_size} px, width {model.width}, {len(history)} epochs x {fit['steps_per_epoch']} steps = "
        f"{len(history) * fit['steps_per_epoch']:,} steps, batch {fit['batch_size']}, seed {fit['seed']}): "
        f"{seconds / 60:.1f} min of training (the epochs' `seconds` in history.csv) on {machine(run_dir)}.",
        "",
        "Train and evaluate (the run folder's name is free):",
        "",
        f"    {fit_command(fit, 'runs/' + out_dir.name)}",
        f"    python cli.py evaluate runs/{out_dir.name} --out-dir runs/{out_dir.name}/eval",
        "",
        "Load: `rbvae_tf.from_preset(\"" + out_dir.name + "\")` or any CLI command with MODEL = "
        f"`{out_dir.name}` (`python cli.py evaluate {out_dir.name} --out-dir DIR` gives the numbers below).",
        "",
        "Last epoch (history.csv): " + ", ".join(
            f"{k} {float(v):.4g}" for k, v in last.items() if k not in ("epoch", "seconds")
            and not k.startswith("health_")),
        "",
        *write_grids(model, info, run_dir, out_dir),
        "",
        *transfer_section(metrics),
        EVALUATION_LINE,
        "",
        (eval_dir / "metrics.md").read_text().split("\n", 2)[2],
    ]
    changes = departures(fit)
    if changes:
        card[4:4] = ["## Where this configuration departs from the paper", "", *changes, ""]
    if note:
        card[4:4] = [note, ""]
    accuracy_names = [n for n in model.metric_names if "_acc_" in n]  # empty unless adversarial
    reading_text = reading(metrics["probe"], last, accuracy_names)
    if reading_text:
        card += ["", reading_text]
    exported = out_dir / "export" / "metadata.json"
    if exported.exists():  # written by `python cli.py export <preset> --onnx`, copied here (see __doc__)
        parity = max(v for k, v in json.loads(exported.read_text())["parity"].items() if k.startswith("onnx/"))
        card += ["", "## Exported artifacts", "",
                 f"`export/` holds the ONNX graphs and `metadata.json` of `python cli.py export {out_dir.name} "
                 f"--onnx` (largest difference of an ONNX graph to the Keras model {parity:.1e}, recorded in "
                 "`metadata.json` under `parity`). Attribute transfer with ONNX Runtime only:", "",
                 f"    python export/onnx_transfer.py zoo/{out_dir.name}/export --content a.png --style b.png "
                 "--out c.png"]
    (out_dir / "README.md").write_text("\n".join(card) + "\n")
    shutil.copyfile(run_dir / "history.csv", out_dir / "history.csv")
    for name in ("metrics.json", "metrics.md"):
        (out_dir / name).write_text(portable((eval_dir / name).read_text(), run_dir, source))
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--refresh"]:  # python zoo/make_preset.py --refresh zoo/<preset> EVAL_DIR
        refresh(*sys.argv[2:4])
    else:
        main(*sys.argv[1:5])
