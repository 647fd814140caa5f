"""`cxpa batch`: JSON Lines in, a result line per item out, resumable with --journal, Ctrl-C safe."""

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from cxpa_sdk._cli._main import run
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import ECHO, FAIL, LocalPlatform


class Result(NamedTuple):
    """What one `cxpa` run returned and printed on stderr."""

    code: int
    err: str


def cxpa(command: str, *argv: str, stdin: str = "", platform: LocalPlatform) -> Result:
    """Run `cxpa COMMAND --base-url ... --ingest-key ... ARGV` in-process, with its own streams."""
    streams = Streams(io.StringIO(stdin), io.StringIO(), io.StringIO())
    target = ["--base-url", platform.base_url, "--ingest-key", platform.ingest_key]
    return Result(run([command, *target, *argv], streams), streams.stderr.getvalue())


def results(path: Path) -> list[dict]:
    """The result lines of a file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_writes_a_result_line_per_input_line(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """Each line's run, keyed by line number; a bad line is its own error line; exit 1 when one is not completed."""
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"n": 1}\n{"n": 2}\nnot json\n\n[1]\n{"n": 6}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cxpa("batch", str(ECHO), str(inputs), "-o", str(out), platform=cxpa_platform)
    lines = {line["key"]: line for line in results(out)}
    assert set(lines) == {"1", "2", "3", "5", "6"}
    assert lines["1"]["status"] == "completed"
    assert lines["1"]["output"] == {"n": 1}
    assert lines["6"]["run_id"].startswith("run_")
    assert lines["3"]["error"]["type"] == "InvalidInput"
    assert "line 3" in lines["3"]["error"]["message"]
    assert "line 5" in lines["5"]["error"]["message"]
    assert result.code == 1
    assert "5 results" in result.err
    assert "2 not completed" in result.err


def test_batch_keys_by_a_field_and_reports_failed_runs(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """--key-field keys items by a field; a failed run's line has its status and error; exit 1."""
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"id": "a", "message": "boom"}\n{"id": 7}\n{"other": 1}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cxpa("batch", str(FAIL), str(inputs), "-o", str(out), "--key-field", "id", platform=cxpa_platform)
    lines = {line["key"]: line for line in results(out)}
    assert lines["a"]["status"] == "failed"
    assert "boom" in lines["a"]["error"]["message"]
    assert lines["7"]["status"] == "failed"
    assert "no field 'id'" in lines["3"]["error"]["message"]
    assert result.code == 1


def test_batch_from_stdin_all_completed_exits_0(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """Inputs on stdin; every run completed: exit 0."""
    out = tmp_path / "out.jsonl"
    result = cxpa("batch", str(ECHO), "-", "-o", str(out), stdin='{"a": 1}\n{"a": 2}\n', platform=cxpa_platform)
    assert result.code == 0, result.err
    assert sorted(line["output"]["a"] for line in results(out)) == [1, 2]


def test_batch_interrupted_then_rerun_with_its_journal(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """Ctrl-C (a real SIGINT) mid-job: exit 130, the file holds whole lines; the rerun finishes with no run twice."""
    count = 3000
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(count)), encoding="utf-8")
    out, journal = tmp_path / "out.jsonl", tmp_path / "job.sqlite"
    before = len(cxpa_platform.runs(ECHO))
    argv = [sys.executable, "-m", "cxpa_sdk", "batch", str(ECHO), str(inputs), "-o", str(out)]
    argv += ["--journal", str(journal)]
    argv += ["--base-url", cxpa_platform.base_url, "--ingest-key", cxpa_platform.ingest_key, "--batch-size", "50"]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size < 2000) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    if child.returncode == 130:
        assert "rerun with the same --journal" in err
        assert all(line["status"] == "completed" for line in results(out))  # whole lines only
    rerun = cxpa("batch", str(ECHO), str(inputs), "-o", str(out), "--journal", str(journal), platform=cxpa_platform)
    assert rerun.code == 0, rerun.err
    assert sorted(int(line["key"]) for line in results(out)) == list(range(1, count + 1))
    assert len(cxpa_platform.runs(ECHO)) - before == count
