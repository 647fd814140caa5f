"""examples/agent_runtime.py, served as a user serves it, against the local platform over real HTTP.

Its JSON agent completes with the word count, waits for an approval and is resumed, is cancelled
while it works, and fails a bad input naming the field; its file agent streams the CSV.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from runtime_support import SECRET, serving, settled

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import LocalPlatform

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agent_runtime.py"


@pytest.fixture
def example(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example module, imported fresh with the environment a user sets: the platform URL and the secret."""
    monkeypatch.setenv("CXPA_API_URL", platform.base_url)
    monkeypatch.setenv("CXPA_SIGNING_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location("agent_runtime_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_runtime_serves_its_agents(
    example: ModuleType, platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """A plain run, an approval resumed, a cancel, a bad input and the file agent, each as the example promises."""
    with serving(example.runtime, platform) as url:
        count = platform.add_agent("word-count", f"{url}/agents/word-count")
        report = platform.add_agent("word-report", f"{url}/agents/word-report", output_kind="file_download")
        plain = client.trigger_run_and_wait(count.id, {"text": "to be or not to be"}, timeout_ms=30_000)
        approval_id = client.trigger_run(count.id, {"text": "ship it", "approval": True}).run_id
        settled(platform, approval_id, "waiting")
        platform.resume(f"tok_{approval_id}", {"approvedBy": "dana"})
        approved = settled(platform, approval_id, "completed", "failed")
        slow_id = client.trigger_run(count.id, {"text": "a long job", "seconds": 60}).run_id
        settled(platform, slow_id, "running")
        client.cancel_run(count.id, slow_id)
        cancelled = settled(platform, slow_id, "cancelled", "failed", "completed")
        bad = settled(platform, client.trigger_run(count.id, {"txt": "typo"}).run_id, "failed", "completed")
        with client.trigger_run_and_download(report.id, {"text": "a bb ccc"}) as download:
            saved = download.save(tmp_path)
    assert plain.status == "completed"
    assert plain.output_data == {"words": 6}
    assert approved["output_data"] == {"words": 2, "approved": True, "approvedBy": "dana"}
    assert cancelled["status"] == "cancelled"
    assert bad["error"]["name"] == "InvalidInputError"
    assert bad["error"]["message"] == "input.txt: not a field of Text"
    assert saved.name == "words.csv"
    assert saved.read_text() == "word,length\na,1\nbb,2\nccc,3\n"
