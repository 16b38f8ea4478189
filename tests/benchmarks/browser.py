"""Headless Chromium for the web leaderboard's tests, driven by Selenium through the
system's chromedriver (Debian packages ``chromium`` and ``chromium-driver``): nothing is
downloaded, no network is needed.

Also a script that saves a screenshot of a page (the committed one of the real board)::

    python -m tests.benchmarks.browser leaderboard/index.html \\
        docs/results/leaderboard_screenshot.png
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("TINYZOO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TINYZOO_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1640, 1000)


def missing() -> str | None:
    """Why no browser can be started here, or ``None`` when one can."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).is_file() or shutil.which(path)):
            return f"{path} not found (apt-get install -y {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install 'selenium>=4.11,<5')"
    return None


@contextlib.contextmanager
def headless_chromium(window: tuple[int, int] = WINDOW):
    """A Selenium WebDriver of a headless Chromium with a fresh profile, quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--disable-extensions", "--no-first-run",
                     "--hide-scrollbars", "--force-device-scale-factor=1",
                     f"--window-size={window[0]},{window[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def full_page_screenshot(driver, out: str | os.PathLike, width: int = WINDOW[0]) -> Path:
    """Resize the window to the page's whole height and save a PNG of it to ``out``."""
    height = driver.execute_script(
        "return Math.ceil(document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(int(height) + 120, 12000))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out))
    return out


def screenshot(page: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Open the local file ``page`` and save its full-page screenshot to ``out``."""
    with headless_chromium() as driver:
        driver.get(Path(page).resolve().as_uri())
        return full_page_screenshot(driver, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="an HTML file, e.g. leaderboard/index.html")
    parser.add_argument("out", help="the PNG to write")
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        parser.exit(2, f"browser: {reason}\n")
    print(screenshot(args.page, args.out))


if __name__ == "__main__":
    main()
