"""The two screenshots of docs/web.md, taken in headless Chromium as tests/export/test_web.py drives the page.

    python cli.py export srbvae-mnist-cpu --out /tmp/shots/export --web /tmp/shots/web
    python docs/web_screenshots.py /tmp/shots/web docs

Serves WEB_FOLDER on a free port of 127.0.0.1, clicks content sample 2 and style sample 3 and saves
`web-transfer.png`, then opens the grid view and saves `web-grid.png`, both into OUT_FOLDER. Needs Debian's
`chromium` and `chromium-driver` (Selenium is a test requirement).
"""

import functools
import http.server
import shutil
import sys
import threading
import time


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(folder, out):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1060,720"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))

    def wait(condition, timeout=120):
        began = time.monotonic()
        while not driver.execute_script(f"return Boolean({condition})"):
            if driver.execute_script("return window.rbvae && window.rbvae.error"):
                raise SystemExit(f"error: the page failed: {driver.execute_script('return window.rbvae.error')}")
            if time.monotonic() - began > timeout:
                raise SystemExit(f"error: timed out waiting for {condition}")
            time.sleep(0.1)

    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        wait("document.body.dataset.ready === 'true'")
        for selector in ("#content-samples button[data-index='2']", "#style-samples button[data-index='3']"):
            runs = driver.execute_script("return window.rbvae.runs")
            driver.find_element(By.CSS_SELECTOR, selector).click()
            wait(f"window.rbvae.runs > {runs} && document.getElementById('status').dataset.state === 'done'")
        driver.save_screenshot(f"{out}/web-transfer.png")
        driver.set_window_size(1060, 900)  # the grid view is taller
        driver.find_element(By.ID, "tab-grid").click()
        wait("window.rbvae.grids === 1 && document.getElementById('status').dataset.state === 'done'")
        driver.save_screenshot(f"{out}/web-grid.png")
        print(f"wrote {out}/web-transfer.png and {out}/web-grid.png")
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:3])
