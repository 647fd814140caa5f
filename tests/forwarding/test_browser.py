"""A real browser downloads a run's file through the forwarding examples: whole, named, in flat memory, and safe.

Headless Chromium (Debian's `chromium` and `chromium-driver`, which .ci/run installs) navigates to the
example's /reports/<topic> URL; the answer's `Content-Disposition: attachment` makes that a download,
which Chromium saves into a folder of the test's own. Against a hostile platform (`hostile_upstream`),
each example's download of a file cut short, or gone silent, must end failed in Chromium (its DevTools
download events say `canceled`, not `completed`); and a small app forwarding a runtime's HTML or SVG,
even with `inline=True`, must not let its script run on the app's origin. Every wait is bounded: the
chromedriver commands by selenium's 120 s HTTP timeout, page loads by PAGE_LOAD_TIMEOUT_S, downloads
and events by polling loops.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask, Response, request
from forwarding.hostile_upstream import CUT_AT, SilentUpstream, cut_answer, served_against
from forwarding_support import FORWARDING_EXAMPLES, ended_run, served_example, sha256_of_report
from hostile.hostile_server import FILE_HEADERS, KEY, HostileServer, send
from hostile.hostile_server import response as raw_response
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

from cxpa_sdk import Cxpa
from cxpa_sdk._download._body import DEFAULT_IDLE_TIMEOUT_S
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


def browser_required() -> bool:
    """Whether a missing browser fails the browser tests (CI, or CXPA_REQUIRE_BROWSER=1) instead of skipping them."""
    return os.environ.get("CXPA_REQUIRE_BROWSER") == "1" or os.environ.get("CI", "").lower() in ("1", "true")


@contextmanager
def chromium(folder: Path, profile: Path, *, events: bool = False) -> Iterator[webdriver.Chrome]:
    """Headless Chromium under chromedriver (never Selenium Manager), saving downloads into `folder`; quit on exit.

    With `events`, its DevTools events go to the `performance` log, where `download_ended` reads them.
    """
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        why = (
            f"{' and '.join(missing)} missing: the browser tests need Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
        if browser_required():
            pytest.fail(why)
        pytest.skip(f"{why}; CI=true or CXPA_REQUIRE_BROWSER=1 makes this a failure")
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
    if events:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile.parent / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        # Headless Chromium's own word on downloads: allowed, into `folder`, under the name the answer suggests.
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder), "eventsEnabled": events}
        )
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


@pytest.mark.parametrize(
    ("env", "outcome"), [({}, "skip"), ({"CXPA_REQUIRE_BROWSER": "1"}, "fail"), ({"CI": "true"}, "fail")]
)
def test_a_missing_browser_is_a_skip_unless_required(
    env: dict[str, str], outcome: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without chromium the browser tests skip on a plain machine and fail where CI or CXPA_REQUIRE_BROWSER says."""
    for name in ("CI", "CXPA_REQUIRE_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    with (
        pytest.raises((pytest.skip.Exception, pytest.fail.Exception), match="no-chromium missing") as ended,
        chromium(tmp_path, tmp_path / "profile"),
    ):
        pass
    assert ("skip" if ended.type is pytest.skip.Exception else "fail") == outcome


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


# Against a hostile platform, and with a runtime's file that would act as the app ---------------------------------

GRACE_S = 5.0  # a loaded 2-core machine's slack on each bound
EVENT_TIMEOUT_S = 20.0
SESSION = "session-SENTINEL-cookie"
# A runtime's script that, run as the app, sends the app its page's origin and cookie.
STEAL = "fetch('/stolen?' + new URLSearchParams({origin: window.origin, cookie: document.cookie}))"
ACTIVE_FILES = {
    "html": ("text/html; charset=utf-8", f"<!doctype html><script>{STEAL}</script><p>report</p>", "page.html"),
    "svg": ("image/svg+xml", f'<svg xmlns="http://www.w3.org/2000/svg"><script>{STEAL}</script></svg>', "logo.svg"),
}
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005"
    "0001ff5ae1a7e80000000049454e44ae426082"
)


def download_ended(driver: webdriver.Chrome, timeout_s: float) -> str | None:
    """How Chromium's download ended, by its DevTools events: `completed`, or `canceled` (failed); None by `timeout_s`.

    Needs a browser started with `chromium(..., events=True)`.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"].endswith(".downloadProgress") and message["params"]["state"] != "inProgress":
                return str(message["params"]["state"])
        time.sleep(POLL_S)
    return None


def finished_files(folder: Path) -> list[str]:
    """The names of the files in `folder` that are not Chromium's partial downloads (`*.crdownload`)."""
    return sorted(path.name for path in folder.iterdir() if not path.name.endswith(".crdownload"))


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("example", FORWARDING_EXAMPLES, ids=lambda name: name.removesuffix(".py"))
def test_a_cut_file_is_never_saved_as_a_whole_one(example: str, framing: str, tmp_path: Path) -> None:
    """The platform cuts its file after 5,120 bytes (of a Content-Length, or chunked): Chromium's download fails."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    with (
        HostileServer(send(cut_answer(framing))) as server,
        served_against(example, server.base_url) as url,
        chromium(folder, tmp_path / "profile", events=True) as driver,
    ):
        driver.get(f"{url}/reports/Q3")
        ended = download_ended(driver, EVENT_TIMEOUT_S)
    assert ended == "canceled", f"Chromium's download of a file cut after {CUT_AT} bytes ended {ended!r}"
    assert finished_files(folder) == []


@pytest.mark.parametrize("example", FORWARDING_EXAMPLES, ids=lambda name: name.removesuffix(".py"))
def test_a_silent_platform_ends_as_a_failed_download_by_the_idle_bound(example: str, tmp_path: Path) -> None:
    """The platform falls silent after 64 KiB of 1 MiB: Chromium's download fails within the 10 s idle bound."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    upstream = SilentUpstream()
    with (
        HostileServer(upstream, conn_timeout=60) as server,
        served_against(example, server.base_url) as url,
        chromium(folder, tmp_path / "profile", events=True) as driver,
    ):
        driver.get(f"{url}/reports/Q3")
        ended = download_ended(driver, DEFAULT_IDLE_TIMEOUT_S + GRACE_S)
        closed_at = upstream.closed_by(time.monotonic() + GRACE_S)
    assert ended == "canceled", f"Chromium's download from a silent platform ended {ended!r}"
    assert closed_at is not None, "the example still held the silent platform's connection"
    assert finished_files(folder) == []


@contextmanager
def forwarding_app(upstream: str, stolen: list[str]) -> Iterator[str]:
    """A small Flask app on 127.0.0.1 forwarding the platform's file at /file (`?inline=1`: `inline=True`); its URL.

    `/login` gives the browser the app's session cookie (readable by the app's scripts, as many are);
    `/stolen` notes in `stolen` what a script sent it.
    """
    app = Flask(__name__)
    client = Cxpa(base_url=upstream, ingest_api_key=KEY)

    @app.get("/login")
    def login() -> Response:
        answer = Response("<p>signed in</p>", content_type="text/html")
        answer.set_cookie("session", SESSION)
        return answer

    @app.get("/file")
    def file() -> Response:
        download = client.trigger_run_and_download(4, {}).open()
        inline = request.args.get("inline") == "1"
        return Response(download.iter_bytes(), headers=download.forward_headers(inline=inline))

    @app.get("/stolen")
    def steal() -> tuple[str, int]:
        stolen.append(request.query_string.decode())
        return "", 204

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="forwarding app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        client.close()


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "attachment"])
@pytest.mark.parametrize("kind", sorted(ACTIVE_FILES))
def test_a_runtime_file_never_runs_as_the_app(kind: str, inline: bool, tmp_path: Path) -> None:
    """A runtime's HTML or SVG with a script, forwarded even with inline=True: Chromium saves it, no script runs."""
    content_type, body, name = ACTIVE_FILES[kind]
    headers = {**FILE_HEADERS, "Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'}
    folder = tmp_path / "downloads"
    folder.mkdir()
    stolen: list[str] = []
    with (
        HostileServer(send(raw_response(200, body, headers))) as server,
        forwarding_app(server.base_url, stolen) as app,
        chromium(folder, tmp_path / "profile", events=True) as driver,
    ):
        driver.get(f"{app}/login")
        driver.get(f"{app}/file?inline={int(inline)}")
        ended = download_ended(driver, EVENT_TIMEOUT_S)
    assert stolen == [], f"the runtime's script ran as the app and sent it {stolen}"
    assert ended == "completed"
    assert (folder / name).read_text() == body


def test_a_passive_file_is_shown_inline_in_a_sandbox(tmp_path: Path) -> None:
    """A PNG forwarded with inline=True is shown, not saved, on a page with no origin: the app's cookie out of reach."""
    headers = {**FILE_HEADERS, "Content-Type": "image/png", "Content-Disposition": 'attachment; filename="pixel.png"'}
    folder = tmp_path / "downloads"
    folder.mkdir()
    with (
        HostileServer(send(raw_response(200, PIXEL_PNG, headers))) as server,
        forwarding_app(server.base_url, []) as app,
        chromium(folder, tmp_path / "profile") as driver,
    ):
        driver.get(f"{app}/login")
        driver.get(f"{app}/file?inline=1")
        shown = driver.execute_script("return [document.contentType, window.origin]")
    assert shown == ["image/png", "null"]
    assert list(folder.iterdir()) == []
