"""The screenshots of the web page in the README: docs/web-transfer.png, docs/web-generate.png and
docs/web-grid.png, from a page folder written by `python cli.py export PRESET --web FOLDER`.

    npm ci --prefix export/web && python cli.py export srbvae-mnist-cpu --web /tmp/page
    python docs/web_screenshots.py /tmp/page docs

Serves the folder on 127.0.0.1 (a free port), opens it in headless Chromium (Debian's chromium and
chromium-driver, through Selenium, as tests/export/test_web.py), waits for each view to finish
and saves a screenshot of it, 1100 px wide and as tall as the view: the transfer view as the
page opens (the first two samples), the samples of e (seed 0) and the grid.
"""

import argparse
import functools
import http.server
import pathlib
import shutil
import threading
import time

VIEWS = (("transfer", None), ("generate", "window.rbvae.generations === 1"), ("grid", "window.rbvae.grids === 1"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def wait_for(driver, condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not driver.execute_script(f"return Boolean({condition}) || Boolean(window.rbvae && window.rbvae.error)"):
        if time.monotonic() > deadline:
            raise TimeoutError(condition)
        time.sleep(0.05)
    error = driver.execute_script("return window.rbvae.error")
    if error:
        raise RuntimeError(f"the page failed: {error}")


def fit_height(driver, width=1100):
    """The window as tall as the page's content, so the screenshot shows all of the view."""
    chrome = driver.get_window_size()["height"] - driver.execute_script("return window.innerHeight")
    bottom = "return Math.ceil(document.querySelector('footer').getBoundingClientRect().bottom + window.scrollY)"
    driver.set_window_size(width, chrome + driver.execute_script(bottom))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=pathlib.Path, help="a folder written by `cli.py export --web`")
    parser.add_argument("out", type=pathlib.Path, help="where web-<view>.png go, e.g. docs")
    args = parser.parse_args(argv)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(args.page)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,720",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        wait_for(driver, "document.body.dataset.ready === 'true'")
        for view, done in VIEWS:
            driver.find_element(By.ID, f"tab-{view}").click()
            if done:
                wait_for(driver, f"{done} && document.getElementById('status').dataset.state === 'done'")
            fit_height(driver)
            path = args.out / f"web-{view}.png"
            driver.save_screenshot(str(path))
            print(f"wrote {path}")
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
