"""Each forwarding example as a user runs it: the whole file under its name; a cut never looks whole; leaving closes.

The examples (examples/forward_*.py) are the recipes of docs/downloads.md; each test here starts one
as a child process in front of the local platform (or a hostile one) and downloads through it over real HTTP.
"""

import hashlib
import re
import time

import httpx2
import pytest
from forwarding.hostile_upstream import SilentUpstream, served_against
from forwarding_support import EXAMPLES, FORWARDING_EXAMPLES, ended_run, served_example, sha256_of_report
from hostile.hostile_server import HostileServer

from cxpa_sdk import content_disposition
from cxpa_sdk._download._body import DEFAULT_IDLE_TIMEOUT_S
from cxpa_sdk.testing import LocalPlatform

NAME = "R\u00e9sum\u00e9 \u2013 Q3 \u62a5\u544a.pdf"  # Résumé, an en dash, and two CJK characters
BIG = 256 << 20  # more than loopback's socket buffers hold: a reader that leaves stalls the servers behind it
GRACE_S = 5.0  # a loaded 2-core machine's slack on each bound
# How soon after a reader leaves each example lets go of a platform that has fallen silent: an ASGI
# server hears the browser leave at once; a WSGI one only when it next writes, so the idle bound decides.
LETS_GO_WITHIN_S = {
    "forward_fastapi.py": GRACE_S,
    "forward_django.py": GRACE_S,
    "forward_flask.py": DEFAULT_IDLE_TIMEOUT_S + GRACE_S,
}


@pytest.fixture(params=FORWARDING_EXAMPLES, ids=lambda name: name.removesuffix(".py"))
def example(request: pytest.FixtureRequest) -> str:
    """The file name of one forwarding example."""
    return str(request.param)


def test_the_whole_file_arrives_under_its_name(example: str, cxpa_platform: LocalPlatform) -> None:
    """3 MB through the example: its sha256, an RFC 6266 disposition of the non-ASCII name, the length, the type."""
    size = 3_000_000
    with served_example(example, cxpa_platform) as url:
        digest = hashlib.sha256()
        with httpx2.stream("GET", f"{url}/reports/Q3", params={"size": size, "filename": NAME}, timeout=60) as answer:
            assert answer.status_code == 200
            for chunk in answer.iter_raw():
                digest.update(chunk)
    assert digest.hexdigest() == sha256_of_report(size)
    assert answer.headers["content-disposition"] == content_disposition(NAME)
    assert answer.headers["content-length"] == str(size)
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert ended_run(cxpa_platform)["status"] == "completed"


def test_a_cut_upstream_never_looks_like_a_whole_file(example: str, cxpa_platform: LocalPlatform) -> None:
    """The platform's stream is cut after 100 KB: the browser's side ends short of its Content-Length, an error."""
    cxpa_platform.faults.cut_next_download(100_000)
    with served_example(example, cxpa_platform) as url:
        received: list[int] = []
        with httpx2.stream("GET", f"{url}/reports/Q3", params={"size": 3_000_000}, timeout=60) as answer:
            with pytest.raises(httpx2.RemoteProtocolError):
                received.extend(len(chunk) for chunk in answer.iter_raw())
    assert sum(received) < 3_000_000


def test_a_browser_that_leaves_closes_the_upstream(example: str, cxpa_platform: LocalPlatform) -> None:
    """A reader that goes away after the first bytes of 256 MiB: the platform sees its caller leave within seconds."""
    with served_example(example, cxpa_platform) as url:
        with httpx2.stream("GET", f"{url}/reports/Q3", params={"size": BIG}, timeout=60) as answer:
            assert answer.status_code == 200
            assert next(answer.iter_raw())
        run = ended_run(cxpa_platform)
    assert run["status"] == "failed"
    assert "went away" in str(run["error"])


def test_a_reader_that_leaves_a_silent_platform_lets_it_go_within_the_bound(example: str) -> None:
    """The platform falls silent mid-file, the reader leaves: ASGI examples let it go at once, the WSGI one in 10 s."""
    upstream = SilentUpstream()
    with HostileServer(upstream, conn_timeout=60) as server, served_against(example, server.base_url) as url:
        with httpx2.stream("GET", f"{url}/reports/Q3", timeout=60) as answer:
            assert answer.status_code == 200
            assert next(answer.iter_raw())
        left = time.monotonic()
        bound = LETS_GO_WITHIN_S[example]
        closed_at = upstream.closed_by(left + bound)
    assert closed_at is not None, f"{example} still held the silent platform {bound:g} s after the reader left"


def test_the_recipes_in_the_docs_are_the_examples_code() -> None:
    """Each recipe in docs/downloads.md headed `# examples/NAME` is an exact excerpt of that script, so none rots."""
    docs = (EXAMPLES.parent / "docs" / "downloads.md").read_text(encoding="utf-8")
    recipes = re.findall(r"```python\n# examples/(\S+)\n(.*?)```", docs, flags=re.DOTALL)
    assert sorted(name for name, _ in recipes) == sorted(FORWARDING_EXAMPLES)
    for name, code in recipes:
        assert code in (EXAMPLES / name).read_text(encoding="utf-8"), f"the {name} recipe differs from the script"
