"""`pip install .`: the wheel installs into a fresh virtual environment and works outside the
checkout (console script `rbvae`, `rbvae_tf.from_preset`, a transfer with the bundled preset);
the pins of requirements.txt, requirements-gpu.txt, requirements-dev.txt and pyproject agree; the
README's test command is the one `.ci/run` runs; the zoo folder and `python cli.py zoo`.

The virtual environment sees the packages of the environment running the tests (a system
interpreter or a user's venv: a `.pth` file adds its site directories) and the wheel is installed
with `--no-deps`, so no TensorFlow is downloaded; the wheel itself is built without build
isolation from a copy of the files it ships.
"""

import csv
import importlib.util
import json
import os
import pathlib
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from export import ort_common
from export.onnx_transfer import transfer as ort_transfer
from rbvae_tf import presets

REPO = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PRESET = "srbvae-mnist-cpu"
PRESET_EXPORT = REPO / "zoo" / PRESET / "export"
TOLERANCE = 1e-4  # float images, as the export parity checks; 8-bit files: 1 level


TEST_PINS = ("pytest==", "pytest-xdist==", "execnet==", "selenium==", "ruff==")
# requirements-gpu.txt = requirements.txt with these two packages swapped for their CUDA builds.
GPU_NAMES = {"tensorflow": "tensorflow[and-cuda]", "onnxruntime": "onnxruntime-gpu"}


def requirement_pins(path):
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def test_runtime_test_and_gpu_pins_agree():
    runtime, gpu, dev = (
        requirement_pins(REPO / name) for name in ("requirements.txt", "requirements-gpu.txt", "requirements-dev.txt")
    )
    assert all(pin.count("==") == 1 for pin in runtime + gpu + dev)
    assert PYPROJECT["project"]["dependencies"] == runtime
    assert PYPROJECT["project"]["optional-dependencies"] == {"test": dev}
    assert sorted(pin.split("==")[0] for pin in dev) == sorted(pin[:-2] for pin in TEST_PINS)
    assert not [pin for pin in runtime + gpu if pin.startswith(TEST_PINS)]  # tests only: not at run time
    swapped = [GPU_NAMES.get(name, name) + "==" + version for name, version in (pin.split("==") for pin in runtime)]
    assert gpu == swapped
    assert "-n 2" in (REPO / "pytest.ini").read_text() and any(pin.startswith("pytest-xdist==") for pin in dev)
    import rbvae_tf

    assert PYPROJECT["project"]["version"] == rbvae_tf.__version__
    assert PYPROJECT["project"]["scripts"] == {"rbvae": "cli:cli"}


def code_lines(path):
    """The lines of the ``` blocks of a Markdown file (all lines of a script), stripped of
    indentation and of a trailing `# comment`; comment lines dropped."""
    lines, inside = [], path.suffix != ".md"
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside and not line.lstrip().startswith("#") and line.strip():
            lines.append(line.split("  #")[0].strip())
    return lines


def test_readme_test_command_is_the_one_ci_runs():
    """`.ci/run` runs the README's test command verbatim (found by what it installs, so the README
    can be rewritten around it); a GPU variant of it in the README differs only by
    requirements-gpu.txt; every requirements file a README `pip install` names exists."""
    ci = [line for line in code_lines(REPO / ".ci" / "run") if "requirements-dev.txt" in line]
    assert len(ci) == 1, ci
    command = ci[0]
    assert command.startswith("pip install -r requirements.txt -r requirements-dev.txt && ")
    assert "npm ci --prefix export/web" in command and command.endswith(" && python -m pytest -q")
    readme = [line for line in code_lines(REPO / "README.md") if "requirements-dev.txt" in line and "pytest" in line]
    assert command in readme
    gpu = command.replace("-r requirements.txt ", "-r requirements-gpu.txt ")
    assert set(readme) <= {command, gpu}, readme  # no other test command
    named = {
        word
        for line in code_lines(REPO / "README.md")
        if "pip install" in line
        for word in line.split()
        if word.startswith("requirements")
    }
    assert all((REPO / name).is_file() for name in named), named


def test_zoo_dir_follows_rbvae_zoo(tmp_path, monkeypatch):
    assert presets.zoo_dir() == REPO / "zoo"
    (tmp_path / "mine").mkdir()
    shutil.copyfile(REPO / "zoo" / PRESET / "config.json", tmp_path / "mine" / "config.json")
    monkeypatch.setenv("RBVAE_ZOO", str(tmp_path))
    assert presets.zoo_dir() == tmp_path and presets.available_presets() == ["mine"]
    row = presets.preset_rows()[0]
    fit = json.loads((REPO / "zoo" / PRESET / "config.json").read_text())["fit"]
    assert row["model"] == "srbvae" and row["probe_e"] is None
    budget = f"{fit['epochs']} x {fit['steps_per_epoch']} steps, batch {fit['batch_size']}"
    assert row["budget"] == budget == "30 x 400 steps, batch 36"
    monkeypatch.setenv("RBVAE_ZOO", str(tmp_path / "mine"))
    assert presets.preset_table() == f"no presets in {tmp_path / 'mine'}"


def test_cli_zoo_lists_every_preset_with_its_probe_numbers():
    import cli

    result = CliRunner().invoke(cli.cli, ["zoo"])
    assert result.exit_code == 0, result.output
    names = presets.available_presets()
    assert PRESET in names
    for name in names:
        folder = REPO / "zoo" / name
        metrics = json.loads((folder / "metrics.json").read_text())
        fit = json.loads((folder / "config.json").read_text())["fit"]
        model = fit["model"]
        row = next(line for line in result.output.splitlines() if line.startswith(f"| {name} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        with open(folder / "history.csv", newline="") as f:
            minutes = sum(float(row["seconds"]) for row in csv.DictReader(f)) / 60
        steps = f"{fit['epochs']} x {fit['steps_per_epoch']} x {fit['batch_size']}"
        assert cells[:5] == [name, model, "32 px", steps, f"{minutes:.1f}"]
        probe, digits, transfer = metrics["probe"], metrics["digit_accuracy"], metrics["transfer"]
        short = lambda value: f"{value:.3f}".replace("0.", ".", 1)  # noqa: E731
        assert cells[5:11] == [short(probe[k]["mae"]["mean"]) if k in probe else "–" for k in ("e", "z", "all")] + [
            short(digits[k]) if k in digits else "–" for k in ("e", "z", "all")
        ]
        scores = transfer.get("transfer")  # attribute transfer: content kept, style taken (mean of five factors)
        assert cells[11:] == (
            [short(scores["content_kept"]), short(scores["style_taken"]["mean"])] if scores else ["–", "–"]
        )
        assert (scores is not None) == (model in ("rbvae", "srbvae"))
    assert max(len(line) for line in result.output.splitlines()) <= 120


# --- the wheel, outside the checkout -------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Builds the wheel from a copy of the shipped files and installs it into a fresh venv."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "cli.py"):
        shutil.copyfile(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for name in ("rbvae_tf", "export", "zoo"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    # The installed setuptools and wheel build it offline; without them pip fetches its build backend.
    offline = all(importlib.util.find_spec(name) for name in ("setuptools", "wheel"))
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(root / "dist"),
            *(["--no-build-isolation"] if offline else []),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((root / "dist").glob("*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    see_this_environment(venv)
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return wheel, venv, elsewhere


def site_directories():
    """The site directories of the interpreter running the tests: the system's, or a venv's (with
    the system's too if it was made with `--system-site-packages`), and the user's if enabled."""
    directories = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and site.getusersitepackages() in sys.path:
        directories.append(site.getusersitepackages())
    return directories


def see_this_environment(venv):
    """Makes `venv` see the packages installed here, after its own: a `.pth` file that adds our site
    directories (with their own .pth files). `venv --system-site-packages` would not do: from a venv
    its "system" is the base interpreter, which lacks the packages installed into that venv."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = "".join(f"import site; site.addsitedir({directory!r})\n" for directory in site_directories())
    (pathlib.Path(done.stdout.strip()) / "_rbvae_test_parent.pth").write_text(lines)


def run_installed(installed, *command):
    _, venv, elsewhere = installed
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "RBVAE_ZOO")}
    return subprocess.run(
        [str(venv / "bin" / command[0]), *map(str, command[1:])],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_wheel_ships_code_page_presets_and_data(installed):
    names = set(zipfile.ZipFile(installed[0]).namelist())
    packages = sorted(
        str(p.relative_to(REPO))
        for root in ("rbvae_tf", "export")
        for p in (REPO / root).rglob("*.py")
        if "node_modules" not in p.parts and "__pycache__" not in p.parts
    )
    assert [name for name in packages if name not in names] == []  # every module of the library ships
    for name in (
        "cli.py",
        "rbvae_tf/loading.py",
        "rbvae_tf/models/srbvae.py",
        "export/web.py",
        "export/web/app.js",
        "export/web/package-lock.json",
        f"zoo/{PRESET}/model.weights.h5",
        f"zoo/{PRESET}/export/onnx/transfer.onnx",
        "zoo/data/mnist.npz",
    ):
        assert name in names, name
    assert not [name for name in names if "__pycache__" in name or "node_modules" in name]
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "rbvae = cli:cli" in zipfile.ZipFile(installed[0]).read(entry_points).decode()


def test_installed_rbvae_help(installed):
    done = run_installed(installed, "rbvae", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: rbvae [OPTIONS] COMMAND [ARGS]...")
    import cli

    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(cli.cli.commands) and {"zoo", "export", "transfer"} <= listed


def pictures(folder, size=32):
    """Two MNIST-style PNGs at the preset's size (content, style)."""
    from tests.export import real_looking_images

    images = ((real_looking_images(2, size=size, seed=5) + 1) * 127.5).round().astype(np.uint8)
    paths = [folder / "content.png", folder / "style.png"]
    for image, path in zip(images, paths):
        Image.fromarray(image).save(path)
    return paths


def test_installed_from_preset_and_transfer_outside_the_checkout(installed):
    _, venv, elsewhere = installed
    content, style = pictures(elsewhere)
    script = (  # from_preset and a transfer, then the installed `rbvae transfer` (in the same process:
        # one TensorFlow start-up less; `rbvae --help` above runs the console script itself)
        "import json, sys, numpy as np, rbvae_tf\n"
        "from rbvae_tf.data import load_images\n"
        f"model, info = rbvae_tf.from_preset({PRESET!r})\n"
        "images = [load_images([path], model.image_size) for path in sys.argv[1:3]]\n"
        "np.save(sys.argv[3], np.asarray(model.transfer(*[i.astype('float32') / 127.5 - 1 for i in images])))\n"
        "import cli\n"
        "import keras, tensorflow\n"
        "print(json.dumps({'package': rbvae_tf.__file__, 'preset': info['path'], 'cli': cli.__file__,\n"
        "                  'tensorflow': tensorflow.__file__, 'keras': keras.__file__}))\n"
        f"cli.cli(['transfer', {PRESET!r}, '--content', sys.argv[1], '--style', sys.argv[2], '--out', sys.argv[4]])\n"
    )
    done = run_installed(
        installed, "python", "-c", script, content, style, elsewhere / "keras.npy", elsewhere / "out.png"
    )
    assert done.returncode == 0, done.stderr
    where = json.loads(done.stdout.splitlines()[0])
    installed_lib = str(venv / "lib")
    assert all(where[key].startswith(installed_lib) for key in ("package", "preset", "cli"))  # not the checkout
    import keras
    import tensorflow

    # ... and its dependencies from the environment running the tests (a system interpreter or a venv)
    assert (where["tensorflow"], where["keras"]) == (tensorflow.__file__, keras.__file__)
    expected = ort_transfer(
        PRESET_EXPORT, ort_common.load_image(content, 32), ort_common.load_image(style, 32), provider="cpu"
    )
    assert np.abs(np.load(elsewhere / "keras.npy") - expected).max() <= TOLERANCE
    assert done.stdout.splitlines()[-1] == f"wrote {elsewhere / 'out.png'} (1 image)"
    written = np.asarray(Image.open(elsewhere / "out.png")).astype(int)
    assert written.shape == (32, 32, 3) and np.abs(written - ort_common.to_uint8(expected[0])).max() <= 1
