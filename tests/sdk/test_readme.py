"""Every Python example in the README runs as it is against the local platform."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cxpa_sdk.testing import LocalPlatform

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_has_examples() -> None:
    """The README's tour has runnable examples (and this test would notice them vanish)."""
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("code", BLOCKS, ids=[f"example-{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code: str, cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """The example exits 0 with CXPA_API_URL and CXPA_INGEST_KEY pointing at the local platform."""
    env = {**os.environ, "CXPA_API_URL": cxpa_platform.base_url, "CXPA_INGEST_KEY": cxpa_platform.ingest_key}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout
