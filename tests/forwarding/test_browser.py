"""A real browser downloads a run's file through the FastAPI forwarding example: its name, its bytes, flat memory.

Headless Chromium (Debian's `chromium` and `chromium-driver`, which .ci/run installs) navigates to the
example's /reports/<topic> URL; the answer's `Content-Disposition: attachment` makes that a download,
which Chromium saves into a folder of the test's own. Every wait is bounded: the chromedriver commands
by selenium's 120 s HTTP timeout, page loads by PAGE_LOAD_TIMEOUT_S, the download by a polling loop.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from forwarding_support import ended_run, served_example, sha256_of_report
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from cxpa_sdk.testing import LocalPlatform

pytestmark = pytest.mark.browser

EXAMPLE = "forward_fastapi.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Headless, as root, on a closed network: no sandbox (root), no GPU, and nothing that phones home.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

NAME = "R\u00e9sum\u00e9 \u2013 Q3 \u62a5\u544a.pdf"  # Résumé, an en dash, and two CJK characters
BIG = 256 << 20
# Generous for a loaded 2-core machine, where a whole test takes under 8 s (3 MB saves in 0.5 s, 256 MiB in 2-4 s).
PAGE_LOAD_TIMEOUT_S = 60
DOWNLOAD_TIMEOUT_S = 60.0
BIG_DOWNLOAD_TIMEOUT_S = 180.0
POLL_S = 0.05
# The example streams: its peak RSS must not grow with the file. A server that held the file would
# grow by its size (256 MiB); 32 MiB, an eighth of that, leaves room for allocator and socket-buffer
# noise (measured here: under 1 MiB of growth).
MAX_PEAK_RSS_GROWTH = 32 << 20


@contextmanager
def chromium(folder: Path, profile: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium under chromedriver (never Selenium Manager), saving downloads into `folder`; quit on exit."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} missing: the browser test needs Debian's chromium and chromium-driver, "
            "which .ci/run installs (apt-get install chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(folder),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,  # no Safe Browsing lookup of downloads on a closed network
        },
    )
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile.parent / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        # Headless Chromium's own word on downloads: allowed, into `folder`, under the name the answer suggests.
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
        yield driver
    finally:
        driver.quit()


def saved(folder: Path, size: int, timeout_s: float) -> list[Path]:
    """The files in `folder` once a download of `size` bytes has finished there; fails the test after `timeout_s`.

    Finished: no partial file (`*.crdownload`, or a hidden temporary) is left, and a file of exactly `size`
    bytes is there, its size unchanged since the previous look.
    """
    deadline = time.monotonic() + timeout_s
    previous: dict[str, int] = {}
    while True:
        sizes = {path.name: path.stat().st_size for path in folder.iterdir() if path.is_file()}
        partial = any(name.endswith(".crdownload") or name.startswith(".") for name in sizes)
        if not partial and any(length == size and previous.get(name) == size for name, length in sizes.items()):
            return sorted(folder.iterdir())
        if time.monotonic() > deadline:
            pytest.fail(f"no finished download of {size} bytes in {folder} after {timeout_s:g} s; it holds {sizes}")
        previous = sizes
        time.sleep(POLL_S)


def download(
    driver: webdriver.Chrome, url: str, folder: Path, size: int, *, filename: str, timeout_s: float = DOWNLOAD_TIMEOUT_S
) -> Path:
    """Have the browser fetch the example's report of `size` bytes named `filename`; the one file it saved."""
    driver.get(f"{url}/reports/Q3?{urlencode({'size': size, 'filename': filename})}")
    files = saved(folder, size, timeout_s)
    assert [path.name for path in files] == [filename], f"the browser saved {[path.name for path in files]}"
    return files[0]


def sha256_of_file(path: Path) -> str:
    """The sha256 of the file at `path`, read in chunks."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def peak_rss(pid: int) -> int:
    """The peak resident set size (`VmHWM`) of process `pid`, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            value, unit = line.split()[1:]
            assert unit == "kB", line
            return int(value) << 10
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


@pytest.mark.parametrize("filename", [NAME, "report.pdf"], ids=["non-ascii", "plain"])
def test_the_browser_saves_the_whole_file_under_its_name(
    filename: str, cxpa_platform: LocalPlatform, tmp_path: Path
) -> None:
    """3 MB through the example into Chromium: saved under the run's file name, as is, with the file's sha256."""
    size = 3_000_000
    folder = tmp_path / "downloads"
    folder.mkdir()
    with served_example(EXAMPLE, cxpa_platform) as url, chromium(folder, tmp_path / "profile") as driver:
        path = download(driver, url, folder, size, filename=filename)
    assert sha256_of_file(path) == sha256_of_report(size)
    assert ended_run(cxpa_platform)["status"] == "completed"


def test_the_example_memory_stays_flat_for_a_large_file(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """256 MiB into Chromium: the example's peak RSS grows by less than MAX_PEAK_RSS_GROWTH over a 1 MiB warm-up."""
    warm_up, big = tmp_path / "warm-up", tmp_path / "big"
    warm_up.mkdir()
    big.mkdir()
    pid: list[int] = []
    with served_example(EXAMPLE, cxpa_platform, pid=pid) as url, chromium(warm_up, tmp_path / "profile") as driver:
        download(driver, url, warm_up, 1 << 20, filename="report.pdf")
        assert ended_run(cxpa_platform)["status"] == "completed"
        before = peak_rss(pid[0])
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(big)})
        path = download(driver, url, big, BIG, filename="big.pdf", timeout_s=BIG_DOWNLOAD_TIMEOUT_S)
        after = peak_rss(pid[0])
    print(f"the example's VmHWM: {before >> 10} kB after the warm-up, {after >> 10} kB after {BIG >> 20} MiB")
    assert after - before < MAX_PEAK_RSS_GROWTH, (
        f"the example's peak RSS grew by {(after - before) / (1 << 20):.1f} MiB "
        f"({before >> 10} kB to {after >> 10} kB) while it forwarded {BIG >> 20} MiB"
    )
    digest = sha256_of_file(path)
    path.unlink()  # pytest keeps the last three sessions' tmp_path: no 256 MiB left behind each time
    assert digest == sha256_of_report(BIG)
    assert ended_run(cxpa_platform)["status"] == "completed"
