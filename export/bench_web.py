"""Latency of the web page's attribute transfer in headless Chromium, by WebAssembly threads.

    python export/bench_web.py PAGE --threads 1,2 --batch 1,36 --repeats 20

PAGE is a `python cli.py export --web` folder. It is served on 127.0.0.1 (a free port) with the
cross-origin-isolation headers (COOP/COEP) without which browsers give a page no threads (and
which `python -m http.server` does not send), opened in headless Chromium once per thread count
(`?threads=N`), and the page's transfer graph is timed on batches of its samples (one untimed
call first). Prints a Markdown table of medians. Needs selenium and Debian's chromium and
chromium-driver.
"""

import argparse
import functools
import http.server
import os
import platform
import shutil
import statistics
import threading
import time


class _Isolated(http.server.SimpleHTTPRequestHandler):
    """Static files with the headers that make the page cross-origin isolated."""

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, *args):
        pass


def open_page(driver, url, timeout=120):
    driver.get(url)
    deadline = time.monotonic() + timeout
    while not driver.execute_script(
        "return document.body.dataset.ready === 'true' || Boolean(window.rbvae && window.rbvae.error)"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not get ready")
        time.sleep(0.1)
    error = driver.execute_script("return window.rbvae.error")
    if error:
        raise RuntimeError(f"the page failed: {error}")


def bench(page, threads=(1, 2), batches=(1, 36), repeats=20):
    """Rows `{"threads", "got", "isolated", "batch", "median_ms", "min_ms"}` for every combination."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Isolated, directory=str(page)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("google-chrome") or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_script_timeout(600)
    rows = []
    try:
        for count in threads:
            open_page(driver, f"http://127.0.0.1:{server.server_address[1]}/index.html?threads={count}")
            got, isolated = driver.execute_script("return [window.rbvae.threads, self.crossOriginIsolated]")
            for batch in batches:
                times = driver.execute_async_script(
                    "const done = arguments[arguments.length - 1];"
                    "window.rbvae.bench(arguments[0], arguments[1]).then(done, (e) => done(String(e)));",
                    batch,
                    repeats,
                )
                if isinstance(times, str):
                    raise RuntimeError(f"the page failed: {times}")
                rows.append(
                    {
                        "threads": count,
                        "got": got,
                        "isolated": isolated,
                        "batch": batch,
                        "median_ms": statistics.median(times),
                        "min_ms": min(times),
                    }
                )
    finally:
        driver.quit()
        server.shutdown()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="a `python cli.py export --web` folder")
    parser.add_argument("--threads", default="1,2", help="WebAssembly thread counts, comma-separated")
    parser.add_argument("--batch", default="1,36", help="batch sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls each")
    args = parser.parse_args(argv)
    threads = [int(n) for n in args.threads.split(",")]
    batches = [int(n) for n in args.batch.split(",")]
    load = os.getloadavg()[0]
    rows = bench(args.page, threads, batches, args.repeats)
    print(
        f"- command: `python export/bench_web.py {args.page} --threads {args.threads} --batch {args.batch} "
        f"--repeats {args.repeats}`"
    )
    print(
        f"- {platform.machine()}, {os.cpu_count()} CPUs; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print("\n| asked threads | threads ORT used | cross-origin isolated | batch | median ms | min ms |")
    print("|---:|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['threads']} | {r['got']} | {r['isolated']} | {r['batch']} | {r['median_ms']:.1f} | "
            f"{r['min_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
