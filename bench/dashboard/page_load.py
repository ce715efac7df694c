"""Time from navigation to every chart drawn, per dashboard page, in headless Chromium.

    python bench/dashboard/page_load.py --base http://127.0.0.1:8080 --site demo --key KEY

Needs a running API (footfall cloud api) with data and Debian's chromium; prints one line per
page and round (the first round includes the browser's cold start of each page's code).
"""

from __future__ import annotations

import argparse
import statistics
import time

from playwright.sync_api import sync_playwright

PAGES = ["overview", "heatmap", "dwell", "flows", "cameras"]
READY = """() => { const c = [...document.querySelectorAll('.chart')];
  return c.length > 0 && c.every((e) => e.dataset.ready === '1'); }"""
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--site", default="demo")
    parser.add_argument("--key", required=True, help="an API key of the site")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", default="1366x768", help="viewport WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        for _ in range(args.rounds):
            for name in PAGES:
                start = time.perf_counter()
                page.goto(f"{args.base}/dashboard/{args.site}/{name}#key={args.key}")
                page.wait_for_function(READY, timeout=60000)
                times[name].append(1000 * (time.perf_counter() - start))
        browser.close()
    for name, ms in times.items():
        print(
            f"{name:9s} navigation to all charts drawn: median {statistics.median(ms):6.0f} ms, "
            f"max {max(ms):6.0f} ms over {len(ms)} loads ({args.size})"
        )


if __name__ == "__main__":
    main()
