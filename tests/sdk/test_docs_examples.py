"""Every complete Python example of README.md and docs/*.md runs as written against the local platform.

The blocks are classified as tests/test_docs_types.py does (which type-checks all of them):

- a block with a `<!-- typecheck-preamble ... -->` comment right above its fence is a fragment: it
  uses names the page's sentences set up, so it is type-checked with that preamble, not run here
  (docs/runtimes.md's fragments run in their runtime, tests/sdk/test_runtimes_doc.py);
- a block whose first line is `# examples/<name>.py` is an excerpt of that file (its file runs in
  tests/cli/test_examples.py and tests/forwarding);
- every other block is complete: it runs here, as a file of its own in an empty directory, in a
  child Python with CXPA_API_URL and CXPA_INGEST_KEY naming the session's local platform, and must
  exit 0. A block that defines pytest tests (`def test_...`) is a test module: it runs under
  pytest (the `cxpa_platform` fixtures come from the installed plugin), and its tests must pass.

A complete block that must not run (it would serve forever, say) says so right above its fence,
with the reason: `<!-- example: no-run (serves until Ctrl-C) -->`. None needs it today.

docs/ray.md is left out (as from the type check): its blocks need Ray, which only the py311 env
installs (the `ray` extra), a cluster (`address="auto"`), and its first maps 10,000 rows to 1 MiB
reports; tests/ray runs `RunAgent` itself.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cxpa_sdk.testing import APPROVAL, ECHO, LocalPlatform
from cxpa_sdk.testing._builtins import DEMO_CONNECTION

ROOT = Path(__file__).resolve().parents[2]
NOT_RUN = {ROOT / "docs" / "ray.md": "needs Ray (the py311 env only) and a Ray cluster"}
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p not in NOT_RUN)]
BLOCK = re.compile(
    r"(?:<!-- typecheck-preamble\n(?P<preamble>.*?)-->\n|<!-- example: no-run(?P<no_run>[^\n]*?)-->\n)?"
    r"```python(?P<info>[^\n]*)\n(?P<code>.*?)```",
    re.DOTALL,
)
EXCERPT = re.compile(r"# examples/\w+\.py\n")
NO_RUN_REASON = re.compile(r" \((?P<reason>[^)]+)\) ")
# Calls that name an agent by number in a block, and names that hold one (`agent_id = 6`, `REPORT_AGENT = 4`).
AGENT_USE = re.compile(
    r"\b(?:trigger_run\w*|trigger_many|run_many|wait_for_run|get_run|cancel_run|resume_run|run_events|register_run"
    r"|ingest_run|run)\((?P<call>\d+)\b|\b(?:agent_id|\w*_AGENT) = (?P<name>\d+)\b"
)
CONNECTION_USE = re.compile(r"\b(?:resolve_credential|credential)\(\"(?P<connection>[^\"]+)\"\)")


class Block:
    """One ```python block of a page: where it is, what kind, and its code."""

    def __init__(self, doc: Path, line: int, match: re.Match[str]) -> None:
        self.doc, self.line, self.code = doc, line, match["code"]
        self.info, self.preamble, self.no_run = match["info"], match["preamble"], match["no_run"]

    @property
    def id(self) -> str:
        """`path:line` of the block's first line of code."""
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def complete(self) -> bool:
        """Neither a fragment (a preamble) nor an excerpt of an example file."""
        return self.preamble is None and not EXCERPT.match(self.code)


def all_blocks() -> list[Block]:
    """Every ```python block of the pages, in order."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            found.append(Block(doc, text.count("\n", 0, match.start("code")) + 1, match))
    return found


BLOCKS = all_blocks()
TO_RUN = [block for block in BLOCKS if block.complete and block.no_run is None]


def test_the_pages_have_examples_to_run() -> None:
    """The extraction finds the README's tour and the guides' complete blocks (and notices if they vanish)."""
    assert sum(block.doc.name == "README.md" for block in TO_RUN) >= 7
    assert len(TO_RUN) >= 25


def test_every_block_is_run_or_checked_as_what_it_is() -> None:
    """No block escapes: no info string after `python` (neither checker would see it), no-run only with a reason."""
    for block in BLOCKS:
        assert block.info == "", f"{block.id}: ```python{block.info}: mark a fragment with a typecheck-preamble"
        if block.no_run is not None:
            assert block.complete, f"{block.id}: no-run marks a complete block; a fragment is not run anyway"
            assert NO_RUN_REASON.fullmatch(block.no_run), f"{block.id}: write `<!-- example: no-run (why) -->`"
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        markers = len(re.findall(r"<!-- (?:typecheck-preamble|example:)", text))
        assert markers == sum(b.doc == doc and (b.preamble is not None or b.no_run is not None) for b in BLOCKS), (
            f"{doc.name}: a marker comment that is not right above a ```python fence"
        )


def test_blocks_use_only_what_the_local_platform_has() -> None:
    """Every agent number and credential connection a block (fragments and preambles too) names is a built-in one."""
    for block in BLOCKS:
        text = (block.preamble or "") + block.code
        for use in AGENT_USE.finditer(text):
            number = int(use["call"] or use["name"])
            assert ECHO <= number <= APPROVAL, f"{block.id}: agent {number} is not one of the local platform's"
        for use in CONNECTION_USE.finditer(text):
            assert use["connection"] == DEMO_CONNECTION[0], f"{block.id}: no connection {use['connection']!r}"


@pytest.mark.parametrize("block", TO_RUN, ids=[block.id for block in TO_RUN])
def test_the_example_runs(block: Block, cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """The block exits 0 (its tests pass) with CXPA_API_URL and CXPA_INGEST_KEY naming the local platform."""
    env = {**os.environ, "CXPA_API_URL": cxpa_platform.base_url, "CXPA_INGEST_KEY": cxpa_platform.ingest_key}
    if re.search(r"^(?:async )?def test_", block.code, re.MULTILINE):
        (tmp_path / "test_doc_example.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_doc_example.py"]
    else:
        (tmp_path / "doc_example.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "doc_example.py"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{block.id} exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
