"""Publishes a finished run as a zoo preset: config.json, model.weights.h5, metadata.json, README.md,
and copies of the run's history.csv and the evaluation's metrics.json / metrics.md.

    python zoo/make_preset.py runs/srbvae-cpu eval/srbvae-cpu zoo/srbvae-mnist-cpu
    python cli.py export srbvae-mnist-cpu --onnx --out exports/srbvae-mnist-cpu
    rm -rf zoo/srbvae-mnist-cpu/export && mkdir zoo/srbvae-mnist-cpu/export
    cp -r exports/srbvae-mnist-cpu/{metadata.json,onnx} zoo/srbvae-mnist-cpu/export/
    python zoo/make_preset.py runs/srbvae-cpu eval/srbvae-cpu zoo/srbvae-mnist-cpu   # card with the export

The card (README.md) is written from the run's history.csv and the evaluation's metrics.md, so every
number in it comes from those files.
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


def machine(run_dir):
    """The CPU a run trained on, from the cpu.json that zoo/ablations.py writes (else: unrecorded)."""
    path = run_dir / "cpu.json"
    if not path.exists():
        return "a 2-core machine (CPU not recorded)"
    cpu = json.loads(path.read_text())["start"]
    return (f"{cpu['cores']} cores of an {cpu['model_name']} ({'AVX-512' if cpu['avx512'] else 'no AVX-512'}; "
            f"load average {cpu['loadavg'][0]:.1f} at the start: other work shared the machine)")


def departures(fit):
    """Lines saying how a run's configuration departs from the paper's objective and data, and why."""
    changes = dict(fit.get("model_args") or {})
    if (fit.get("reference_width") or 1) != 1:
        changes["reference_width"] = fit["reference_width"]
    return [f"- `{key}` = {value}: " + DEPARTURES.get(key, "{value}").format(value=value)
            for key, value in sorted(changes.items())]


def main(run_dir, eval_dir, out_dir):
    run_dir, eval_dir, out_dir = map(pathlib.Path, (run_dir, eval_dir, out_dir))
    model, info = load_trained(str(run_dir))
    history = read_history(run_dir / "history.csv")
    seconds = sum(float(row["seconds"]) for row in history)
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    metadata = {
        "model": info["fit"]["model"], "preset": info["fit"]["preset"], "image_size": model.image_size,
        "target_dim": model.target_dim, "common_dim": model.common_dim, "value_range": [-1, 1],
        "epochs": len(history), "training_seconds": round(seconds), "probe_mae_mean": {
            k: v["mae"]["mean"] for k, v in metrics["probe"].items()},
        "reference_target": model.reference_target.numpy().tolist() if model.reference_based else None,
    }
    save_preset(model, out_dir, fit=info["fit"], metadata=metadata)
    last = history[-1]
    card = [
        f"# {out_dir.name}",
        "",
        f"{info['fit']['model']} trained with `python cli.py fit --model {info['fit']['model']} "
        f"--preset {info['fit']['preset']}` on the bundled MNIST-style data ({model.image_size} px, "
        f"width {model.width}, {len(history)} epochs x {info['fit']['steps_per_epoch']} steps, batch "
        f"{info['fit']['batch_size']}): {seconds / 60:.1f} min of training (the epochs' `seconds` in history.csv) "
        f"on {machine(run_dir)}.",
        "",
        "Load: `rbvae_tf.loading.from_preset(\"" + out_dir.name + "\")` or any CLI command with MODEL = "
        f"`{out_dir.name}`.",
        "",
        "Last epoch (history.csv): " + ", ".join(
            f"{k} {float(last[k]):.4g}" for k in ("image", "reference_image", "latent_e",
                                                 "discriminator_acc_real", "discriminator_acc_fake") if k in last),
        "",
        f"Evaluation (`python cli.py evaluate {run_dir} --out {eval_dir}`):",
        "",
        (eval_dir / "metrics.md").read_text().split("\n", 2)[2],
    ]
    changes = departures(info["fit"])
    if changes:
        card[4:4] = ["## Where this configuration departs from the paper", "", *changes, ""]
    accuracy_names = [n for n in model.metric_names if "_acc_" in n]  # empty unless adversarial
    card += ["", reading(metrics["probe"], last, accuracy_names)]
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
        shutil.copyfile(eval_dir / name, out_dir / name)
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
