"""The reference-branch ablations of issue 9: train, evaluate and report, one run at a time.

    python zoo/ablations.py run r01-ref3 r02-mmd     # train + evaluate + grids (skips what is done)
    python zoo/ablations.py report                   # docs/ablations.md table and docs/ablations/*.png
    python zoo/ablations.py restore                  # a fresh checkout: runs/ablations from the committed records

Every run is the cpu preset (32 px, width 1/2, 6 x 400 steps, batch 36) with ONE change against its
parent, trained by exactly the `cli.py fit` command printed in the report. Runs live in
`--root` (default runs/ablations/NAME); each records the CPU it trained on in `cpu.json`.
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rbvae_tf.callbacks import read_history  # noqa: E402

# The arguments of r07-er100 (the cpu recipe's sRb-VAE objective) and of r10-lr3e4 (the same at 3e-4),
# which most later runs change by one argument.
R07 = ["--reference-width", "3", "--model-arg", "weight_z_invariance=10000", "--model-arg", "weight_reference_target=100"]
R10 = [*R07, "--lr", "3e-4"]
# Three baselines' presets at the recipe (issue 23), run l0-NAME, and their training seeds l1-NAME, l2-NAME:
# NAME -> (model, `cli.py fit` arguments); the weights are the zoo's sweep's (docs/zoo/runs).
LONG_BASELINES = {
    "vae": ("vae", ["--reference-width", "3", "--lr", "3e-4", "--epochs", "30"]),
    "beta-vae-16": ("beta-vae", ["--reference-width", "3", "--model-arg", "beta_kl=16", "--lr", "3e-4",
                                 "--epochs", "30"]),
    "dip-vae-ii-16": ("dip-vae-ii", ["--reference-width", "3", "--model-arg", "lambda_od=16", "--lr", "3e-4",
                                     "--epochs", "30"]),
}

# The scale levers: (name, model arguments, what changes against the recipe)
SCALE_LEVERS = (
    ("01-domain", ["weight_domain=1000", "ramp_steps=800"],
     "a domain adversary on z: an MLP tells mean z(x_r) from mean z(x); the encoders make it unsure "
     "(1000 x confusion, ramped from 0 over 800 steps)"),
    ("02-swap", ["weight_swap=1000", "ramp_steps=800"],
     "a swap discriminator: reconstructions G(z, e) against transfers G(z_r, e); the model fools it "
     "(1000 x softplus(-d), ramped from 0 over 800 steps)"),
    ("03-bounded", ["adversarial_bound=10", "spectral_norm=true", "gradient_clip=1000000",
                    "discriminator_gradient_clip=10"],
     "a bounded game: 10 tanh(d / 10) in Eq. 8, spectrally normalised discriminators, gradient norms clipped "
     "(model 1e6, discriminators 10)"),
    ("04-cycle", ["weight_latent_cycle=100"],
     "latent cycles on posterior samples: 100 x (-log q(z | G(z, e_r)) - log q(e | G(z_r, e)))"),
    ("05-moments", ["weight_moments=10000"],
     "the mean and covariance of mean z(x) and mean z(x_r) matched: 10000 x their squared gaps"),
)

# name -> (model, extra `cli.py fit` arguments, parent run, what changes against the parent)
RUNS = {
    "r00-paper": ("srbvae", [], None,
                  "the paper's objective, 1 px references"),
    "r01-ref3": ("srbvae", ["--reference-width", "3"], "r00-paper",
                 "reference outlines 3 px wide at 64 px (1.5 px at 32 px)"),
    "r02-mmd": ("srbvae", ["--reference-width", "3", "--model-arg", "weight_z_invariance=1000"], "r01-ref3",
                "z-invariance: 1000 x MMD(q(z|x), q(z|x_r))"),
    "r02b-mmd1e4": ("srbvae", ["--reference-width", "3", "--model-arg", "weight_z_invariance=10000"], "r01-ref3",
                    "z-invariance: 10000 x MMD(q(z|x), q(z|x_r))"),
    "r03-er": ("srbvae", ["--reference-width", "3", "--model-arg", "weight_z_invariance=10000",
                          "--model-arg", "weight_reference_target=10"], "r02b-mmd1e4",
               "e(x_r) pulled to e_r: 10 x -log q(e_r | x_r)"),
    "r04-scale01": ("srbvae", ["--reference-width", "3", "--model-arg", "weight_z_invariance=10000",
                               "--model-arg", "weight_reference_target=10", "--model-arg", "laplace_scale=0.1"],
                    "r03-er", "Laplace scale 0.1 instead of 0.01: image terms 10x lighter against the game, "
                              "latent and extra terms"),
    "r05-kl10": ("srbvae", ["--reference-width", "3", "--model-arg", "weight_z_invariance=10000",
                            "--model-arg", "weight_reference_target=10", "--model-arg", "weight_kl=10"],
                 "r03-er", "10 x the KL terms of Eq. 3 (keeps q near the prior)"),
    "r06-dropin": ("srbvae", ["--reference-width", "3", "--model-arg", "weight_z_invariance=10000",
                              "--model-arg", "weight_reference_target=10",
                              "--model-arg", "discriminator_dropout_mode=input"],
                   "r03-er", "discriminator dropout zeroes whole inputs (image, z, e features) of the last block"),
    "r07-er100": ("srbvae", R07,
                  "r03-er", "e(x_r) pulled to e_r 10x harder: 100 x -log q(e_r | x_r)"),
    # The game's levers (issue 20), each against the cpu preset's sRb-VAE (r07-er100) unless its parent says.
    "r08-dropin": ("srbvae", [*R07, "--model-arg", "discriminator_dropout_mode=input"],
                   "r07-er100", "Appendix D's dropout read as whole inputs: each of the image's, z's and e's "
                                "feature vectors zeroed with p=0.25 before the last block"),
    "r09-adv100": ("srbvae", [*R07, "--model-arg", "weight_adversarial=100"],
                   "r07-er100", "the Eq. 8 term weighted 100 (it was ~0.1 % of the model player's loss)"),
    "r10-lr3e4": ("srbvae", R10,
                  "r07-er100", "learning rate 3e-4 for both players (the VAE's best at 2,400 steps)"),
    "r11-noise": ("srbvae", [*R07, "--model-arg", "discriminator_noise=0.2"],
                  "r07-er100", "instance noise: N(0, 0.2^2) added to every image the discriminators see"),
    "r12-xref": ("srbvae", [*R07, "--model-arg", "reference_transfer_fakes=true"],
                 "r07-er100", "the reference versions G(z(x), e_r) of the unlabelled images judged by d' among its "
                              "fakes, against real references"),
    # The discriminators' learning rate and a decaying learning rate (issue 20, items 2 and 3), against r10-lr3e4.
    "r13-dlr3e5": ("srbvae", [*R10, "--discriminator-lr", "3e-5"],
                   "r10-lr3e4", "the discriminators' Adam at 3e-5, 10x slower than the model player's 3e-4"),
    "r14-cosine": ("srbvae", [*R10, "--lr-schedule", "cosine"],
                   "r10-lr3e4", "both learning rates decay from 3e-4 to 0 over the run (cosine)"),
    "r15-r1": ("srbvae", [*R10, "--model-arg", "weight_r1=10"],
               "r10-lr3e4", "R1 penalty on the discriminators' real rows, gamma 10 (their gradient at the inputs)"),
    "v0-vae-lr3e4": ("vae", ["--reference-width", "3", "--lr", "3e-4"], None,
                     "the VAE at learning rate 3e-4 (the recipe's rate)"),
    "v1-vae-cosine": ("vae", ["--reference-width", "3", "--lr", "3e-4", "--lr-schedule", "cosine"], "v0-vae-lr3e4",
                      "the learning rate decays from 3e-4 to 0 over the run (cosine)"),
    # The recipe at equal budget: learning rate 3e-4 (r10-lr3e4 beat 1e-4) for Rb-VAE and the best baseline,
    # DIP-VAE-I (lambda_od = 4, the zoo preset), then training seeds 1 and 2 of the three: the spread of every number.
    **{f"s{seed}-rb02-lr3e4": ("rbvae", ["--reference-width", "3", "--model-arg", "beta_e=10", "--lr", "3e-4",
                                         "--seed", str(seed)],
                               "rb02-betae10", f"learning rate 3e-4, training seed {seed}") for seed in (0, 1, 2)},
    **{f"s{seed}-dip-vae-i-lr3e4": ("dip-vae-i", ["--reference-width", "3", "--model-arg", "lambda_od=4",
                                                  "--lr", "3e-4", "--seed", str(seed)],
                                    None, f"DIP-VAE-I, lambda_od 4 (the zoo preset), learning rate 3e-4, "
                                          f"training seed {seed}") for seed in (0, 1, 2)},
    **{f"s{seed}-r10": ("srbvae", [*R10, "--seed", str(seed)],
                        "r10-lr3e4", f"training seed {seed}") for seed in (1, 2)},
    # The longer budget (issue 20, item 5): the three configurations above at 30 x 400 = 12,000 steps, seed 0.
    "l0-dip-vae-i-lr3e4": ("dip-vae-i", ["--reference-width", "3", "--model-arg", "lambda_od=4", "--lr", "3e-4",
                                         "--epochs", "30"],
                           "s0-dip-vae-i-lr3e4", "30 epochs (12,000 steps) instead of 6"),
    "l0-r10": ("srbvae", [*R10, "--epochs", "30"],
               "r10-lr3e4", "30 epochs (12,000 steps) instead of 6"),
    "l0-rb02-lr3e4": ("rbvae", ["--reference-width", "3", "--model-arg", "beta_e=10", "--lr", "3e-4", "--epochs", "30"],
                      "s0-rb02-lr3e4", "30 epochs (12,000 steps) instead of 6"),
    # The zoo at the recipe (issue 23): the other four baselines at 12,000 steps and 3e-4, their weights chosen by
    # the zoo's sweep at 2,400 steps (docs/zoo/runs), then training seeds 1 and 2 of the three headline models.
    "l0-vae": (*LONG_BASELINES["vae"], "v0-vae-lr3e4", "30 epochs (12,000 steps) instead of 6"),
    "l0-beta-vae-16": (*LONG_BASELINES["beta-vae-16"], None,
                       "beta-VAE, beta_kl 16 (the zoo's sweep at 2,400 steps), learning rate 3e-4, 12,000 steps"),
    "l0-dip-vae-ii-16": (*LONG_BASELINES["dip-vae-ii-16"], None,
                         "DIP-VAE-II, lambda_od 16 (the zoo's sweep at 2,400 steps), learning rate 3e-4, 12,000 steps"),
    "l0-svae": ("svae", ["--reference-width", "3", "--lr", "3e-4", "--epochs", "30"],
                None, "sVAE (the symmetric KL with one discriminator d(x, z), no references), learning rate 3e-4, "
                "12,000 steps"),
    **{f"l{seed}-r10": ("srbvae", [*R10, "--epochs", "30", "--seed", str(seed)],
                        "l0-r10", f"training seed {seed}") for seed in (1, 2)},
    **{f"l{seed}-rb02-lr3e4": ("rbvae", ["--reference-width", "3", "--model-arg", "beta_e=10", "--lr", "3e-4",
                                         "--epochs", "30", "--seed", str(seed)],
                               "l0-rb02-lr3e4", f"training seed {seed}") for seed in (1, 2)},
    **{f"l{seed}-dip-vae-i-lr3e4": ("dip-vae-i", ["--reference-width", "3", "--model-arg", "lambda_od=4", "--lr",
                                                  "3e-4", "--epochs", "30", "--seed", str(seed)],
                                    "l0-dip-vae-i-lr3e4", f"training seed {seed}") for seed in (1, 2)},
    # seeds of the other fast baselines' presets, so that the baselines' order is read over seeds too
    **{f"l{seed}-{name}": (model, [*args, "--seed", str(seed)], f"l0-{name}", f"training seed {seed}")
       for name, (model, args) in LONG_BASELINES.items() for seed in (1, 2)},
    # The scale levers: each one change against the recipe (r10-lr3e4 and its seeds s1-r10, s2-r10) at 2,400 steps,
    # training seeds 0, 1, 2; they compare codes with codes or transfers with reconstructions, or bound the game.
    **{f"k{lever}{'' if seed == 0 else f'-s{seed}'}": (
        "srbvae", [*R10, *[item for arg in args for item in ("--model-arg", arg)], *(["--seed", str(seed)] if seed else [])],
        "r10-lr3e4" if seed == 0 else f"s{seed}-r10", change + ("" if seed == 0 else f", training seed {seed}"))
       for lever, args, change in SCALE_LEVERS for seed in (0, 1, 2)},
    "rb01-ref3": ("rbvae", ["--reference-width", "3"], None,
                  "Rb-VAE (Eq. 3), 3 px references: the Rb-VAE baseline of the ablations"),
    "rb02-betae10": ("rbvae", ["--reference-width", "3", "--model-arg", "beta_e=10"], "rb01-ref3",
                     "KL on e weighted 10 (an information bottleneck on e, so the digit has to go through z)"),
}
TABLE_START, TABLE_END = "<!-- table: python zoo/ablations.py report -->", "<!-- end of table -->"
# Trained before this study: the former bundled preset (commit 3370be7); its config.json and history.csv
# were copied into ROOT/r00-paper with a finished status.json, so `run` only evaluates it.
FORMER = {"r00-paper"}


def cpu_info():
    """Model name, AVX-512 or not, and the load average: recorded beside every timing."""
    name, avx512 = platform.processor(), False
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
        name = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        avx512 = "avx512f" in text
    except (OSError, StopIteration):
        pass
    return {"model_name": name, "avx512": avx512, "cores": os.cpu_count(), "loadavg": os.getloadavg()}


def paper_arguments(model, args):
    """`--model-arg KEY=DEFAULT` for each argument the cpu preset sets for `model` and `args` do not, so a
    run's command keeps meaning the same run after the preset changed (the preset took the winners)."""
    import inspect

    from rbvae_tf.config import PRESET_MODEL_ARGS
    from rbvae_tf.models import MODELS

    defaults = {}
    for cls in MODELS[model][0].__mro__:
        if "__init__" in vars(cls):
            defaults.update({k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                             if p.default is not inspect.Parameter.empty and k not in defaults})
    given = {a.split("=", 1)[0] for a in args if "=" in a}
    return [item for key in sorted(PRESET_MODEL_ARGS["cpu"].get(model, {})) if key not in given
            for item in ("--model-arg", f"{key}={defaults[key]}")]


def fit_command(name, root):
    model, args, _, _ = RUNS[name]
    # the runs that set no learning rate trained at the paper's 1e-4, the cpu budget's before it took 3e-4
    rate = [] if "--lr" in args else ["--lr", "1e-4"]
    return ["python", "cli.py", "fit", "--model", model, "--budget", "cpu", *args, *rate,
            *paper_arguments(model, args), "--out-dir", str(root / name)]


def run(name, root):
    """Trains (unless finished), evaluates and draws the grids of one run."""
    run_dir = root / name
    status = run_dir / "status.json"
    finished = status.exists() and json.loads(status.read_text()).get("finished")
    if not finished:
        run_dir.mkdir(parents=True, exist_ok=True)
        start = cpu_info()
        # --backup-every: a killed run resumes mid-epoch with the same command (exact, tests/test_crash_safety.py)
        subprocess.run([*fit_command(name, root), "--backup-every", "200"], cwd=REPO, check=True)
        (run_dir / "cpu.json").write_text(json.dumps({"start": start, "end": cpu_info()}, indent=1))
    out = run_dir
    cli = ["python", "cli.py"]
    if not (out / "eval" / "metrics.json").exists():
        subprocess.run([*cli, "evaluate", str(run_dir), "--out-dir", str(out / "eval")], cwd=REPO, check=True)
    for kind, extra in (("generate", []), ("transfer", ["--grid", "6"])):
        if RUNS[name][0] not in REFERENCE_BASED:
            break  # the baselines have no e/z split to generate from or transfer (their samples are in samples/)
        if not (out / f"{kind}.png").exists():
            subprocess.run([*cli, kind, str(run_dir), *extra, "--out", str(out / f"{kind}.png")], cwd=REPO,
                           check=True)


REFERENCE_BASED = ("rbvae", "srbvae")
RECORDS = ("config.json", "history.csv", "cpu.json", "eval/metrics.json", "eval/metrics.md")


def record(name, root, docs):
    """Copies a finished run's record (config, history, CPU, metrics) to docs/ablations/runs/NAME (committed)."""
    target = docs / "ablations" / "runs" / name
    target.mkdir(parents=True, exist_ok=True)
    for file in RECORDS:
        if (root / name / file).exists():
            shutil.copyfile(root / name / file, target / pathlib.Path(file).name)


def restore(name, root, docs):
    """The inverse of `record` plus the grids, so that `report` runs in a fresh checkout without retraining."""
    source, run_dir = docs / "ablations" / "runs" / name, root / name
    if not (source / "metrics.json").exists() or (run_dir / "eval" / "metrics.json").exists():
        return
    (run_dir / "eval").mkdir(parents=True, exist_ok=True)
    for file in RECORDS:
        if (source / pathlib.Path(file).name).exists():
            shutil.copyfile(source / pathlib.Path(file).name, run_dir / file)
    for kind in ("generate", "transfer"):
        if RUNS[name][0] in REFERENCE_BASED:
            shutil.copyfile(committed_grid(docs, name, kind), run_dir / f"{kind}.png")
    epochs = json.loads((run_dir / "config.json").read_text())["fit"]["epochs"]
    (run_dir / "status.json").write_text(json.dumps({"epochs_completed": epochs, "finished": True}))


def transfer_scores(metrics):
    """(content kept, style taken per factor, generation digit kept) of `evaluate`'s transfer scores, or None
    (a baseline, or a run evaluated before the scores existed: `rm -r RUN/eval` and `run` evaluates again)."""
    entry = metrics.get("transfer") or {}
    if not entry.get("available"):
        return None
    return {"content": entry["transfer"]["content_kept"], "style": entry["transfer"]["style_taken"],
            "generation_digit": entry["generation"]["digit_accuracy"]}


def mae(probe, key):
    """The mean MAE over the target factors of one probe, or None where the model has no such latents."""
    return probe[key]["mae"]["mean"] if key in probe else None


def _f(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def row(name, root):
    """One table row of a finished, evaluated run, or None."""
    metrics_path = root / name / "eval" / "metrics.json"
    if not metrics_path.exists():
        return None
    metrics = json.loads(metrics_path.read_text())
    run_dir = root / name
    history = read_history(run_dir / "history.csv")
    minutes = sum(float(r["seconds"]) for r in history) / 60
    fit = json.loads((run_dir / "config.json").read_text())["fit"]
    steps = fit["epochs"] * fit["steps_per_epoch"]
    cpu_path = run_dir / "cpu.json"
    cpu = json.loads(cpu_path.read_text())["start"] if cpu_path.exists() else None
    probe, digits, health = metrics["probe"], metrics["digit_accuracy"], metrics.get("health", {})
    accuracy = health.get("discriminator_accuracy", {})
    acc = "/".join(_f(accuracy.get(k), 2) for k in ("discriminator_acc_real", "discriminator_acc_fake",
                                                      "reference_discriminator_acc_real",
                                                      "reference_discriminator_acc_fake") if k in accuracy)
    model, args, parent, change = RUNS[name]
    return {
        "name": name, "parent": parent or "-", "change": change, "model": model,
        "command": " ".join(fit_command(name, pathlib.Path("runs/ablations"))) if name not in FORMER else
        "python cli.py fit --preset cpu at commit 3370be7 (trained before this study; with today's code: "
        "python cli.py fit --reference-width 1 --lr 1e-4 " + " ".join(paper_arguments("srbvae", [])) + ")",
"steps": steps, "minutes": minutes,
        "cpu": (f"{cpu['model_name']}, {'AVX-512' if cpu['avx512'] else 'no AVX-512'}, load {cpu['loadavg'][0]:.1f}"
                if cpu else "not recorded"),
        # the unsupervised baselines (seed runs) have one latent space: only "all" and its digit accuracy
        "e": mae(probe, "e"), "z": mae(probe, "z"), "all": mae(probe, "all"),
        "e_s": mae(probe, "e_sampled"), "z_s": mae(probe, "z_sampled"), "all_s": mae(probe, "all_sampled"),
        "digit_e": digits.get("e"), "digit_z": digits.get("z"), "digit_all": digits.get("all"),
        "ref_l1": health.get("reference_l1_ratio"), "sampled_mass": health.get("sampled_mass_ratio"),
        "ref_mass": health.get("reference_mass_ratio"), "e_norm": health.get("e_norm"),
        "e_prior": health.get("e_prior_norm"), "z_norm": health.get("z_norm"),
        "er_norm": health.get("reference_target_norm"), "disc_acc": acc or "-",
        "transfer": transfer_scores(metrics),
        "factors": dict(probe.get("e", probe["all"])["mae"]),
        "z_factors": dict(probe["z"]["mae"]) if "z" in probe else None,
        "generation_spread": (metrics.get("transfer") or {}).get("generation", {}).get("spread_ratio"),
        "discriminator_accuracy": accuracy,
        "adversarial_per_epoch": [float(r["adversarial"]) for r in history if r.get("adversarial") not in (None, "")],
    }


SEED_GROUPS = {"sRb-VAE (r10-lr3e4)": ("r10-lr3e4", "s1-r10", "s2-r10"),
               "Rb-VAE (rb02-betae10, lr 3e-4)": ("s0-rb02-lr3e4", "s1-rb02-lr3e4", "s2-rb02-lr3e4"),
               "DIP-VAE-I (lambda_od 4, lr 3e-4)": ("s0-dip-vae-i-lr3e4", "s1-dip-vae-i-lr3e4", "s2-dip-vae-i-lr3e4")}


# The same three configurations at 30 x 400 = 12,000 steps, the presets' recipe (issue 20, item 5; issue 23),
# training seeds 0, 1, 2 (seed 0 is the preset).
LONG_GROUPS = {"sRb-VAE": ("l0-r10", "l1-r10", "l2-r10"),
               "Rb-VAE": ("l0-rb02-lr3e4", "l1-rb02-lr3e4", "l2-rb02-lr3e4"),
               "DIP-VAE-I": ("l0-dip-vae-i-lr3e4", "l1-dip-vae-i-lr3e4", "l2-dip-vae-i-lr3e4")}
# The baselines' presets over the same seeds, for their order among themselves (sVAE, 19 min a seed, has one).
BASELINE_GROUPS = {"VAE": ("l0-vae", "l1-vae", "l2-vae"),
                   "beta-VAE (beta_kl 16)": ("l0-beta-vae-16", "l1-beta-vae-16", "l2-beta-vae-16"),
                   "DIP-VAE-I (lambda_od 4)": LONG_GROUPS["DIP-VAE-I"],
                   "DIP-VAE-II (lambda_od 16)": ("l0-dip-vae-ii-16", "l1-dip-vae-ii-16", "l2-dip-vae-ii-16")}


# The scale levers over training seeds 0, 1, 2, beside the recipe's own three seeds.
SCALE_GROUPS = {"recipe (r10-lr3e4)": ("r10-lr3e4", "s1-r10", "s2-r10"),
                **{f"k{lever}": (f"k{lever}", f"k{lever}-s1", f"k{lever}-s2") for lever, _, _ in SCALE_LEVERS}}


def scale_measures(r):
    """The measures of the scale study for one row: what each lever is judged on (None where missing)."""
    t, z = r["transfer"], r["z_factors"] or {}
    adversarial = [abs(v) for v in r["adversarial_per_epoch"]]
    median = sorted(adversarial)[len(adversarial) // 2] if adversarial else None
    return {
        "z_scale": z.get("scale"), "style_scale": t["style"]["scale"] if t else None,
        "style_width": t["style"]["width"] if t else None,
        "style_colour": sum(t["style"][k] for k in "RGB") / 3 if t else None,
        "content": t["content"] if t else None,
        "generation_scale": (r["generation_spread"] or {}).get("scale"),
        "e": r["e"], "z": r["z"],
        "max_accuracy": max(r["discriminator_accuracy"].values(), default=None),
        "eq8_peak": max(adversarial) / median if adversarial and median else None,
    }


SCALE_COLUMNS = (("z_scale", "z probe: scale (high wanted, floor .252)"), ("style_scale", "style taken: scale"),
                 ("style_width", "style: width"), ("style_colour", "style: colour (mean R, G, B)"),
                 ("content", "content kept"), ("generation_scale", "generation spread: scale"),
                 ("e", "e probe (low wanted)"), ("z", "z probe (high wanted)"),
                 ("max_accuracy", "highest last-epoch disc. accuracy"), ("eq8_peak", "largest Eq. 8 term / median"))


def scale_table(rows):
    """Mean [min-max] over the seeds of each complete group of SCALE_GROUPS, on the scale measures."""
    by_name = {r["name"]: r for r in rows}
    lines = ["", "The scale levers over training seeds 0, 1, 2 (mean [min-max]; a lever helps only where its range "
             "clears the recipe's; targets: z scale >= .20, style scale >= .60, width and colour >= .80, content "
             ">= .90, accuracy <= .95, Eq. 8 peak <= 10):", "",
             "| configuration | " + " | ".join(label for _, label in SCALE_COLUMNS) + " |",
             "|" + "---|" * (len(SCALE_COLUMNS) + 1)]
    for label, names in SCALE_GROUPS.items():
        if not all(n in by_name for n in names):
            continue
        measures = [scale_measures(by_name[n]) for n in names]
        cells = []
        for key, _ in SCALE_COLUMNS:
            values = [m[key] for m in measures if m[key] is not None]
            digits = 1 if key == "eq8_peak" else (2 if key == "max_accuracy" else 3)
            cells.append(f"{sum(values) / len(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"
                         if values else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines if len(lines) > 5 else []


def seed_table(rows):
    """Mean [min-max] over training seeds 0-2 of each configuration of SEED_GROUPS whose runs are all done."""
    by_name = {r["name"]: r for r in rows}
    keys = ("e", "z", "all", "digit_e", "digit_z", "digit_all")
    lines = ["", "Training seeds 0, 1, 2 (mean [min-max]; an ordering is resolved only where the gap exceeds "
             "both ranges):", "", "| configuration | seeds | e | z | all | digit e | digit z | digit all |",
             "|" + "---|" * 8]
    for label, names in SEED_GROUPS.items():
        if not all(n in by_name for n in names):
            continue
        cells = []
        for key in keys:
            values = [by_name[n][key] for n in names if by_name[n][key] is not None]
            cells.append(f"{sum(values) / len(values):.3f} [{min(values):.3f}-{max(values):.3f}]" if values else "-")
        lines.append(f"| {label} | {len(names)} | " + " | ".join(cells) + " |")
    return lines if len(lines) > 5 else []


def grid_link(grid, copy, zoo):
    """The page's link to a run's grid: a preset's own file under `zoo` when it is byte-identical (the run
    published as that preset), so one image is stored once; else `copy`, written from `grid`."""
    data = grid.read_bytes()
    for published in sorted(pathlib.Path(zoo).glob(f"*/{grid.name}")):
        if published.read_bytes() == data:
            copy.unlink(missing_ok=True)
            return f"../zoo/{published.parent.name}/{grid.name}"
    shutil.copyfile(grid, copy)
    return f"ablations/{copy.name}"


def committed_grid(docs, name, kind, zoo=REPO / "zoo"):
    """The committed file of run `name`'s `kind` grid: its copy docs/ablations/NAME-KIND.png, or, for a run
    published as a zoo preset, the preset's own file (which `report` links instead of storing it twice)."""
    copy = pathlib.Path(docs) / "ablations" / f"{name}-{kind}.png"
    if copy.exists():
        return copy
    from zoo.train_zoo import PRESET_RUNS

    published = [pathlib.Path(zoo) / f"{model}-mnist-cpu" / f"{kind}.png" for model, run in PRESET_RUNS.items()
                 if run == name]
    if not published or not published[0].exists():
        raise FileNotFoundError(f"no committed {kind} grid of {name}: {copy}")
    return published[0]


def report(root, docs, zoo=REPO / "zoo"):
    rows = [r for r in (row(name, root) for name in RUNS) if r]
    images = docs / "ablations"
    images.mkdir(parents=True, exist_ok=True)
    for r in rows:
        r["grids"] = ({kind: grid_link(root / r["name"] / f"{kind}.png", images / f"{r['name']}-{kind}.png", zoo)
                       for kind in ("generate", "transfer")} if r["model"] in REFERENCE_BASED else None)
    lines = [
        "Probes (MAE of linear regressors of the five target factors, mean over factors: e low and z high are "
        "wanted) and digit accuracy (z high, e low are wanted):", "",
        "| run | change (against parent) | steps | train min | CPU at start | e | z | all | e (sample) | z (sample) "
        "| all (sample) | digit e | digit z | digit all |",
        "|" + "---|" * 14,
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['change']} (parent {r['parent']}) | {r['steps']} | {r['minutes']:.1f} | {r['cpu']} "
            f"| {_f(r['e'])} | {_f(r['z'])} | {_f(r['all'])} | {_f(r['e_s'])} | {_f(r['z_s'])} | {_f(r['all_s'])} "
            f"| {_f(r['digit_e'])} | {_f(r['digit_z'])} | {_f(r['digit_all'])} |")
    lines += [
        "", "Attribute transfer G(z(A), e(B)) and conditional generation G(z(A), e ~ N(0, I)) read by independent "
        "readers ([transfer-scores.md](transfer-scores.md)): content kept and style taken, 1 = perfect, 0 = nothing "
        "moved (targets: content >= .90, style >= .80 for colour, scale and width):", "",
        "| run | content kept | style R | style G | style B | style scale | style width | generation: digit kept |",
        "|" + "---|" * 8,
    ]
    for r in rows:
        t = r["transfer"]
        if t:
            lines.append(f"| {r['name']} | {_f(t['content'], 2)} | " + " | ".join(
                _f(t["style"][k], 2) for k in ("R", "G", "B", "scale", "width")) + f" | {_f(t['generation_digit'], 2)} |")
    lines += [
        "", "Branch health (`rbvae_tf/health.py`) and grids:", "",
        "| run | ref L1 / all-black | mass G(z, e~N) / data | mass G(z, e_r) / refs | mean norm e (prior) "
        "| mean norm z | norm e_r | last-epoch disc. acc. real/fake, ref. real/fake | grids |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {_f(r['ref_l1'])} | {_f(r['sampled_mass'])} | {_f(r['ref_mass'])} "
            f"| {_f(r['e_norm'], 1)} ({_f(r['e_prior'], 1)}) | {_f(r['z_norm'], 1)} | {_f(r['er_norm'], 2)} "
            f"| {r['disc_acc']} "
            + (f"| [generation]({r['grids']['generate']}), [transfer]({r['grids']['transfer']}) |"
               if r["grids"] else "| - (no e/z split) |"))
    lines += seed_table(rows)
    lines += scale_table(rows)
    commands = [f"- `{r['name']}`: `{r['command']}`" for r in rows]
    table = "\n".join(lines) + "\n\nThe `cli.py fit` command of each run:\n\n" + "\n".join(commands) + "\n"
    page = docs / "ablations.md"
    text = page.read_text() if page.exists() else f"{TABLE_START}\n{TABLE_END}\n"
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    page.write_text(f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}")
    (root / "ablations.json").write_text(json.dumps([{k: v for k, v in r.items() if k != "grids"} for r in rows],
                                                    indent=1))
    return rows


def run_named(parser, names, runs, run_one, root):
    """`run_one(name, root)` for each of `names` (default: every run of `runs`), one at a time; an
    unknown name is a usage error of `parser`."""
    for name in names or list(runs):
        if name not in runs:
            parser.error(f"unknown run {name!r}; choose from {', '.join(runs)}")
    for name in names or list(runs):
        run_one(name, root)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["run", "report", "restore"])
    parser.add_argument("names", nargs="*", help="Runs to train and evaluate (default: all).")
    parser.add_argument("--root", default="runs/ablations", help="Folder of the runs.")
    parser.add_argument("--docs", default=str(REPO / "docs"), help="Where the report and grids go.")
    args = parser.parse_args()
    root = pathlib.Path(args.root).resolve()
    docs = pathlib.Path(args.docs)
    if args.action == "run":
        run_named(parser, args.names, RUNS, lambda name, root: (run(name, root), record(name, root, docs)), root)
    elif args.action == "restore":
        run_named(parser, args.names, RUNS, lambda name, root: restore(name, root, docs), root)
    else:
        for r in report(root, docs):
            print(f"{r['name']}: e {_f(r['e'])} z {_f(r['z'])} all {_f(r['all'])} "
                  f"digit e/z/all {_f(r['digit_e'], 2)}/{_f(r['digit_z'], 2)}/{_f(r['digit_all'], 2)} "
                  f"ref L1 {_f(r['ref_l1'])} ({r['minutes']:.1f} min)")


if __name__ == "__main__":
    main()
