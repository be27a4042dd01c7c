"""`python cli.py export --web`: the static page, driven in headless Chromium and compared with
ONNX Runtime in Python on the same inputs: the opening pair shown before the model has loaded,
the transfer view, the samples of e (paper Fig. 3) and the grid.

They need two optional tools, which `.ci/run` installs: the npm package ONNX Runtime Web
(`npm ci --prefix export/web --no-audit --no-fund`) and Debian's chromium and chromium-driver.
Without them the tests skip, saying which command installs them; in CI (`CI=true`) they fail.

Tolerances: the page's float outputs (WebAssembly kernels) agree with native ONNX Runtime to 1e-4
(`TOLERANCE`, as every export parity check); the 8-bit pixels read back from its canvases to 1
level of 255 (a float difference of 1e-6 can round apart). The page's preprocessing of an image
file equals `ort_common.load_image` exactly.
"""

import functools
import http.server
import json
import shutil
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import cli
from export import ort_common
from export.onnx_transfer import transfer as ort_transfer
from export.ort_common import InputError
from export.web import OPENING, RUNTIME_FILES, WASM_THREADS, runtime_dir
from rbvae_tf.models import build_model
from tests.conftest import require_tool
from tests.export import REPO, TINY, TOLERANCE, real_looking_images

S = TINY["image_size"]
SAMPLES = 4
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
PINNED = json.loads((REPO / "export" / "web" / "package.json").read_text())["dependencies"]["onnxruntime-web"]
SAMPLES_E = 8  # app.js: the samples of e in a row
NO_RUNTIME = "needs ONNX Runtime Web: run `npm ci --prefix export/web --no-audit --no-fund`"
NO_BROWSER = "needs Chromium: run `apt-get install chromium chromium-driver` (Debian; `.ci/run` does)"


def runtime_installed():
    try:
        runtime_dir()
    except InputError:
        return False
    return True


def test_a_missing_tool_skips_with_its_command_outside_ci_and_fails_in_ci(monkeypatch):
    require_tool(True, NO_RUNTIME)  # installed: nothing happens
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run `npm ci --prefix export/web"):
        require_tool(False, NO_RUNTIME)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="^CI=true and needs Chromium: run `apt-get install"):
        require_tool(False, NO_BROWSER)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A tiny sRb-VAE run exported with `cli.py export RUN --out-dir EXPORT --web PAGE --samples 4`."""
    require_tool(runtime_installed(), NO_RUNTIME)
    root = tmp_path_factory.mktemp("web")
    model = build_model("srbvae", **TINY)
    model.reference_target.assign(np.random.default_rng(1).standard_normal(TINY["target_dim"]).astype("float32"))
    run = root / "runs" / "tiny"
    run.mkdir(parents=True)
    model.save(run / "model.keras")
    (run / "config.json").write_text(json.dumps({"fit": {"model": "srbvae", "preset": "tiny", "limit": SAMPLES}}))
    (run / "status.json").write_text(json.dumps({"finished": True}))
    result = CliRunner().invoke(
        cli.cli,
        ["export", str(run), "--out-dir", str(root / "export"), "--web", str(root / "page"), "--samples", str(SAMPLES)],
    )
    assert result.exit_code == 0, result.output
    assert f"open it with `python -m http.server -d {root / 'page'}`" in result.output
    return root / "export", root / "page"


def test_page_folder_holds_page_runtime_graphs_samples_and_metadata(page):
    export_dir, folder = page
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(
        [
            "app.js",
            "index.html",
            "metadata.json",
            "style.css",
            *(f"ort/{name}" for name in RUNTIME_FILES),
            "onnx/encoder_z.onnx",
            "onnx/generator.onnx",
            "onnx/transfer.onnx",
            "opening/reference.png",
            "opening/transfer.png",
            *(f"samples/sample_{k:02d}.png" for k in range(SAMPLES)),
        ]
    )
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["preprocessing"] == ort_common.PREPROCESSING == "rgb-centre-square-area-resize-round8-v1"
    assert json.loads((export_dir / "metadata.json").read_text())["preprocessing"] == ort_common.PREPROCESSING
    assert metadata["web"]["onnxruntime_web"] == PINNED == "1.30.0"
    assert metadata["web"]["wasm_threads"] == WASM_THREADS == 1
    assert metadata["image_size"] == S and len(metadata["reference_target"]) == TINY["target_dim"]
    for name in ("transfer", "encoder_z", "generator"):
        assert (folder / "onnx" / f"{name}.onnx").read_bytes() == (export_dir / "onnx" / f"{name}.onnx").read_bytes()
    assert f'const RULE = "{ort_common.PREPROCESSING}";' in (folder / "app.js").read_text()
    sample = np.asarray(Image.open(folder / "samples" / "sample_00.png"))
    assert sample.shape == (S, S, 3) and sample.dtype == np.uint8 and sample.std() > 0
    assert metadata["web"]["opening"] == {
        "content": 0,
        "style": 1,
        "transfer": "opening/transfer.png",
        "reference": "opening/reference.png",
    } and OPENING == (0, 1)
    content, style = (ort_common.load_image(folder / "samples" / f"sample_{k:02d}.png", S)[None] for k in OPENING)
    for name, want in (
        ("transfer", ort_transfer(export_dir, content, style, provider="cpu")[0]),
        ("reference", reference_version(export_dir, content)[0]),
    ):
        np.testing.assert_array_equal(
            np.asarray(Image.open(folder / "opening" / f"{name}.png")), ort_common.to_uint8(want)
        )


def test_export_web_errors_are_one_line_with_status_2(page, tmp_path, monkeypatch):
    export_dir, _ = page
    run = export_dir.parent / "runs" / "tiny"
    monkeypatch.setenv("RBVAE_ORT_WEB", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(cli.cli, ["export", str(run), "--web", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ONNX Runtime Web is not installed (") and result.output.count("\n") == 1
    assert "npm ci --prefix" in result.output and not (tmp_path / "p").exists()
    monkeypatch.delenv("RBVAE_ORT_WEB")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(
        cli.cli,
        ["export", str(run), "--out-dir", str(tmp_path / "e"), "--web", str(tmp_path / "busy"), "--samples", "2"],
    )
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"error: refusing to replace {tmp_path / 'busy'}: it is not an earlier web page (no index.html)"
    )
    assert (tmp_path / "busy" / "notes.txt").read_text() == "keep me"
    result = CliRunner().invoke(cli.cli, ["export", str(run), "--web", str(tmp_path / "p"), "--samples", "1"])
    assert result.exit_code == 2 and "Invalid value for '--samples'" in result.output


# --- in the browser ----------------------------------------------------------------------------


class _Gated(http.server.SimpleHTTPRequestHandler):
    """Serves the page quietly; the graphs (`onnx/`) only once `gate` is set."""

    def __init__(self, *args, gate, **kwargs):
        self.gate = gate
        super().__init__(*args, **kwargs)

    def do_GET(self):
        if self.path.startswith("/onnx/"):
            self.gate.wait(timeout=120)
        super().do_GET()

    def log_message(self, *args):
        pass


OPENING_CANVASES = ("content", "style", "result", "reference")


@pytest.fixture(scope="module")
def opened(page):
    """The page served on 127.0.0.1 (a free port) and opened in headless Chromium, ready; and what it
    showed before its model had loaded (the graphs are held back until then), and right after."""
    require_tool(CHROMIUM and CHROMEDRIVER, NO_BROWSER)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    gate = threading.Event()
    handler = functools.partial(_Gated, directory=str(page[1]), gate=gate)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,720",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        wait_for(driver, "window.rbvae && window.rbvae.opened")
        before = {name: canvas_pixels(driver, name) for name in OPENING_CANVASES}
        before["status"] = driver.execute_script(
            "const s = document.getElementById('status'); return [s.dataset.state, s.textContent, "
            "window.rbvae.ready, Object.keys(window.rbvae.sessions).length, document.body.dataset.ready || null]"
        )
        gate.set()
        wait_for(driver, "document.body.dataset.ready === 'true' || window.rbvae.error !== null")
        assert driver.execute_script("return window.rbvae.error") is None
        after = {name: canvas_pixels(driver, name) for name in OPENING_CANVASES}
        yield driver, before, after
    finally:
        gate.set()
        driver.quit()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(opened):
    return opened[0]


def wait_for(driver, condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not driver.execute_script(f"return Boolean({condition})"):
        assert driver.execute_script("return window.rbvae && window.rbvae.error") is None
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)


def canvas_pixels(driver, canvas_id):
    """The RGB pixels of a canvas of the page, as uint8 (H, W, 3)."""
    width, height, data = driver.execute_script(
        "const c = document.getElementById(arguments[0]);"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];",
        canvas_id,
    )
    return np.asarray(data, np.uint8).reshape(height, width, 4)[..., :3]


def page_array(driver, name):
    return np.asarray(driver.execute_script(f"return Array.from(window.rbvae.{name})"), np.float32)


def run_in_page(driver, action):
    runs = driver.execute_script("return window.rbvae.runs")
    action()
    wait_for(driver, f"window.rbvae.runs > {runs} && document.getElementById('status').dataset.state === 'done'")


def reference_version(export_dir, images):
    """G(mean z(images), e_r) with ONNX Runtime in Python."""
    metadata = ort_common.read_metadata(export_dir)
    z = ort_common.load_session(export_dir, "encoder_z", "cpu").run(["mean"], {"images": images})[0]
    e = np.tile(np.asarray(metadata["reference_target"], np.float32), (len(images), 1))
    return ort_common.load_session(export_dir, "generator", "cpu").run(["images"], {"z": z, "e": e})[0]


def assert_matches(driver, export_dir, content, style):
    """The page's transfer and reference version equal ONNX Runtime's in Python on `content`, `style`."""
    np.testing.assert_array_equal(page_array(driver, "content").reshape(S, S, 3), content)
    np.testing.assert_array_equal(page_array(driver, "style").reshape(S, S, 3), style)
    expected = ort_transfer(export_dir, content, style, provider="cpu")[0]
    reference = reference_version(export_dir, content[None])[0]
    assert np.abs(page_array(driver, "lastResult").reshape(S, S, 3) - expected).max() <= TOLERANCE
    assert np.abs(page_array(driver, "lastReference").reshape(S, S, 3) - reference).max() <= TOLERANCE
    for canvas, want in (("result", expected), ("reference", reference)):
        shown = canvas_pixels(driver, canvas).astype(int)
        assert shown.shape == (S, S, 3) and np.abs(shown - ort_common.to_uint8(want)).max() <= 1


def test_page_opens_on_the_exported_pair_before_its_model_loads(opened, page):
    """Not black squares and "Loading the model…": the first two samples, their transfer and the
    reference version, while the graphs are still held back; then the page's own run of that pair."""
    _, before, after = opened
    export_dir, folder = page
    assert before["status"][0] == "opening" and "loading the model" in before["status"][1]
    assert before["status"][2:] == [False, 0, None]  # no session yet, not ready
    content, style = (ort_common.load_image(folder / "samples" / f"sample_{k:02d}.png", S) for k in OPENING)
    expected = {
        "content": content,
        "style": style,
        "result": ort_transfer(export_dir, content[None], style[None], provider="cpu")[0],
        "reference": reference_version(export_dir, content[None])[0],
    }
    for name in OPENING_CANVASES:
        shown = before[name].astype(int)
        assert shown.shape == (S, S, 3) and shown.std() > 0, name  # drawn, not blank
        assert np.abs(shown - ort_common.to_uint8(expected[name])).max() <= 1, name
        assert np.abs(after[name].astype(int) - shown).max() <= 1, name  # the page's own run agrees
    assert np.abs(before["result"].astype(int) - before["content"]).max() > 1  # a transfer, not a copy


def test_browser_transfer_of_two_samples_matches_onnx_runtime(browser, page, tmp_path):
    from selenium.webdriver.common.by import By

    export_dir, folder = page
    run_in_page(
        browser, lambda: browser.find_element(By.CSS_SELECTOR, "#content-samples button[data-index='2']").click()
    )
    run_in_page(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#style-samples button[data-index='3']").click())
    content = ort_common.load_image(folder / "samples" / "sample_02.png", S)
    style = ort_common.load_image(folder / "samples" / "sample_03.png", S)
    assert_matches(browser, export_dir, content, style)
    assert browser.find_element(By.ID, "status").text.startswith(
        f"transfer {browser.execute_script('return window.rbvae.runs')}: "
    )
    assert browser.execute_script("return window.rbvae.threads") == 1
    assert browser.save_screenshot(str(tmp_path / "web-transfer.png"))
    assert Image.open(tmp_path / "web-transfer.png").size[0] == 1100


def test_browser_prepares_a_chosen_file_as_load_image(browser, page, tmp_path):
    """A 64 x 48 photo-like file: centre square, area resize 48 -> 16, 8 bits, exactly as in Python."""
    from selenium.webdriver.common.by import By

    export_dir, _ = page
    big = ((real_looking_images(1, size=48, seed=7)[0] + 1) * 127.5).round().astype(np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (48, 8, 3), dtype=np.uint8)  # sides the crop drops
    Image.fromarray(np.concatenate([noise, big, noise], axis=1)).save(tmp_path / "wide.png")
    run_in_page(browser, lambda: browser.find_element(By.ID, "content-file").send_keys(str(tmp_path / "wide.png")))
    content = ort_common.load_image(tmp_path / "wide.png", S)
    style = page_array(browser, "style").reshape(S, S, 3)
    assert_matches(browser, export_dir, content, style)


def generated_row(driver, export_dir):
    """The page's row of samples of e, checked against ONNX Runtime in Python on the page's content
    and e: (tiles uint8 (SAMPLES_E + 2, S, S, 3), e float32 (SAMPLES_E, target_dim))."""
    content = page_array(driver, "content").reshape(1, S, S, 3)
    e = page_array(driver, "lastE").reshape(SAMPLES_E, TINY["target_dim"])
    z = ort_common.load_session(export_dir, "encoder_z", "cpu").run(["mean"], {"images": content})[0]
    generated = ort_common.load_session(export_dir, "generator", "cpu").run(
        ["images"], {"z": np.repeat(z, SAMPLES_E, 0), "e": e}
    )[0]
    reference = reference_version(export_dir, content)
    page_images = page_array(driver, "lastGenerated").reshape(SAMPLES_E + 1, S, S, 3)
    assert np.abs(page_images - np.concatenate([reference, generated])).max() <= TOLERANCE
    expected = ort_common.make_grid(np.concatenate([content, reference, generated]), columns=SAMPLES_E + 2)
    shown = canvas_pixels(driver, "generations").astype(int)
    assert shown.shape == expected.shape == (S + 2, (SAMPLES_E + 2) * (S + 1) + 1, 3)
    assert np.abs(shown - expected).max() <= 1
    tiles = np.stack([shown[1 : 1 + S, 1 + k * (S + 1) : 1 + k * (S + 1) + S] for k in range(SAMPLES_E + 2)])
    return tiles, e


def test_browser_samples_of_e_match_onnx_runtime_and_redraw(browser, page, tmp_path):
    """Paper Fig. 3: the z of one content with e ~ N(0, I); the button draws new e, another content
    keeps them."""
    from selenium.webdriver.common.by import By

    export_dir, _ = page
    browser.find_element(By.ID, "tab-generate").click()
    wait_for(browser, "window.rbvae.generations === 1 && document.getElementById('status').dataset.state === 'done'")
    assert browser.find_element(By.ID, "view-transfer").get_attribute("hidden") == "true"
    first, e1 = generated_row(browser, export_dir)
    assert abs(e1.mean()) < 0.7 and 0.5 < e1.std() < 1.6  # 32 draws of N(0, 1), seed 0
    samples = first[2:].astype(int)
    assert all(tile.std() > 0 for tile in first)  # content, reference version and samples: none blank
    assert min(np.abs(samples[i] - samples[j]).max() for i in range(SAMPLES_E) for j in range(i)) > 1  # e matters

    run_in_generate = "window.rbvae.generations === {} && document.getElementById('status').dataset.state === 'done'"
    browser.find_element(By.ID, "resample").click()
    wait_for(browser, run_in_generate.format(2))
    second, e2 = generated_row(browser, export_dir)
    assert np.abs(e2 - e1).min() > 0  # every e drawn anew
    np.testing.assert_array_equal(second[:2], first[:2])  # the same content and reference version ...
    assert all(np.abs(second[k].astype(int) - first[k]).max() > 1 for k in range(2, SAMPLES_E + 2))  # new row

    browser.find_element(By.CSS_SELECTOR, "#generate-samples button[data-index='3']").click()
    wait_for(browser, run_in_generate.format(3))
    third, e3 = generated_row(browser, export_dir)
    np.testing.assert_array_equal(e3, e2)  # another content, the same samples of e
    assert np.abs(third[0].astype(int) - second[0]).max() > 1
    assert browser.save_screenshot(str(tmp_path / "web-generate.png"))


def test_browser_grid_matches_onnx_runtime(browser, page, tmp_path):
    from selenium.webdriver.common.by import By

    export_dir, folder = page
    browser.find_element(By.ID, "tab-grid").click()
    wait_for(browser, "window.rbvae.grids === 1 && document.getElementById('status').dataset.state === 'done'")
    assert browser.find_element(By.ID, "view-transfer").get_attribute("hidden") == "true"
    samples = np.stack([ort_common.load_image(folder / "samples" / f"sample_{k:02d}.png", S) for k in range(SAMPLES)])
    transfers = ort_transfer(
        export_dir, np.repeat(samples, SAMPLES, 0), np.tile(samples, (SAMPLES, 1, 1, 1)), provider="cpu"
    ).reshape(SAMPLES, SAMPLES, S, S, 3)
    references = reference_version(export_dir, samples)
    blank = -np.ones((S, S, 3), np.float32)
    tiles = [blank, blank, *samples]
    for i in range(SAMPLES):
        tiles += [samples[i], references[i], *transfers[i]]
    expected = ort_common.make_grid(np.stack(tiles), columns=SAMPLES + 2).astype(int)
    shown = canvas_pixels(browser, "grid").astype(int)
    assert shown.shape == expected.shape == ((SAMPLES + 1) * (S + 1) + 1, (SAMPLES + 2) * (S + 1) + 1, 3)
    assert np.abs(shown - expected).max() <= 1
    assert browser.save_screenshot(str(tmp_path / "web-grid.png"))
