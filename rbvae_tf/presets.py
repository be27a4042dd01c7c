"""Where the trained presets live, and the `python cli.py zoo` table that lists them.

The zoo folder is `$RBVAE_ZOO` when set, else the `zoo/` beside the `rbvae_tf` package: the
checkout's `zoo/` when running from the repository, and the copy that `pip install .` puts next
to the installed package otherwise (the wheel mirrors the checkout's layout).

Example:
>>> rows = preset_rows()
>>> rows[0]["preset"], rows[0]["model"]  # doctest: +SKIP
('srbvae-mnist-cpu', 'srbvae')
"""

import json
import os
import pathlib


def zoo_dir():
    """The folder of the presets: `$RBVAE_ZOO`, else `zoo/` next to the `rbvae_tf` package."""
    return pathlib.Path(os.environ.get("RBVAE_ZOO") or pathlib.Path(__file__).resolve().parents[1] / "zoo")


def available_presets(zoo=None):
    """Names of the preset folders (those with a config.json), sorted."""
    return sorted(path.parent.name for path in pathlib.Path(zoo or zoo_dir()).glob("*/config.json"))


def _read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def preset_rows(zoo=None):
    """One dict per preset: model, data, budget and the headline probe numbers of its metrics.json.

    `probe_e`, `probe_z`, `probe_all`: mean absolute error of a linear probe of the target factors
    (R, G, B, scale, width) from e, z or all latents on the held-out probe split; for a good split
    e should be *good* (low) at it and z *bad* (high). `digits_e`, `digits_z`, `digits_all`: digit
    accuracy of a probe on e, z and all latents; the digit is a common factor, so z should be good at
    it and e bad (the unsupervised models have only `probe_all` and `digits_all`). `content_kept`,
    `style_taken`: see `transfer_columns`. A number the preset's metrics.json lacks is None.
    """
    rows = []
    for name in available_presets(zoo):
        folder = pathlib.Path(zoo or zoo_dir()) / name
        fit = _read(folder / "config.json").get("fit") or {}
        metrics, metadata = _read(folder / "metrics.json"), _read(folder / "metadata.json")
        data = metrics.get("data") or {}
        probe, digits = metrics.get("probe") or {}, metrics.get("digit_accuracy") or {}
        rows.append(
            {
                "preset": name,
                "model": fit.get("model") or metadata.get("model"),
                "data": f"{data.get('source', 'mnist-style')} {data.get('size', fit.get('image_size'))} px",
                "budget": (
                    f"{fit.get('epochs')} x {fit.get('steps_per_epoch')} steps, batch {fit.get('batch_size')}"
                    if fit.get("epochs")
                    else None
                ),
                "training_minutes": round(metadata["training_seconds"] / 60, 1)
                if "training_seconds" in metadata
                else None,
                **{f"probe_{key}": (probe.get(key) or {}).get("mae", {}).get("mean") for key in ("e", "z", "all")},
                **{f"digits_{key}": digits.get(key) for key in ("e", "z", "all")},
                **transfer_columns(metrics.get("transfer") or {}),
            }
        )
    return rows


def transfer_columns(transfer):
    """`content_kept` and `style_taken` (mean over the five factors) of a metrics.json `transfer` entry:
    attribute transfer read by independent readers, 1 = as well as the real images, 0 = no better than a
    trivial output (rbvae_tf/evaluation/transfer.py). None when missing or not applicable (no e/z split)."""
    scores = transfer.get("transfer") if transfer.get("available") else None
    return {
        "content_kept": scores["content_kept"] if scores else None,
        "style_taken": scores["style_taken"]["mean"] if scores else None,
    }


def preset_table(zoo=None):
    """`preset_rows` as a Markdown table (the output of `python cli.py zoo`)."""
    rows = preset_rows(zoo)
    if not rows:
        return f"no presets in {zoo or zoo_dir()}"

    def cell(value):
        if isinstance(value, float):
            return f"{value:.3f}".replace("0.", ".", 1) if abs(value) < 1 else f"{value:.1f}"  # .076, -.050
        return "–" if value is None else str(value)

    lines = [
        "| preset | model | data | budget | min | MAE e ↓ | z ↑ | all | digits e ↓ | z ↑ | all | kept ↑ | style ↑ |",
        "|---|---|---|---|" + "---:|" * 9,
    ]
    for r in rows:
        budget = r["budget"] and r["budget"].replace(" steps, batch ", " x ")
        r = {**r, "data": r["data"].replace("mnist-style ", "")}  # the footer names the default source
        lines.append(
            "| "
            + " | ".join(cell(r[key]) for key in ("preset", "model", "data"))
            + f" | {cell(budget)} | "
            + " | ".join(
                cell(r[key])
                for key in (
                    "training_minutes",
                    "probe_e",
                    "probe_z",
                    "probe_all",
                    "digits_e",
                    "digits_z",
                    "digits_all",
                    "content_kept",
                    "style_taken",
                )
            )
            + " |"
        )
    lines += [
        "data: image size (MNIST-style data unless named); budget: epochs x steps x batch; min: training minutes.",
        "MAE: linear probe of the target factors (R, G, B, scale, width), lower is better from e and should",
        "be worse from z. digits: the digit is a common factor, z should hold it, e not. kept, style: transfer",
        "G(z(A), e(B)) read by independent readers, content kept from A and style taken from B (mean of the",
        "five factors): 1 = as well as the real images, 0 = no better than a trivial output; – : no e/z split.",
    ]
    return "\n".join(lines)
