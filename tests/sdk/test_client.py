"""Every public method of Cxpa and AsyncCxpa over real HTTP against the local platform."""

import os
from pathlib import Path

import pytest
from sdk_support import Api

from cxpa_sdk import (
    ConflictError,
    NotFoundError,
    Run,
    RunFailedError,
    RunStatus,
    WaitTimedOut,
    WaitTimeoutError,
)
from cxpa_sdk.testing import ECHO, FAIL, REPORT, SLOW, STANDALONE, report_bytes


def test_trigger_run(api: Api) -> None:
    """trigger_run returns the new run's id and status; the platform has the run with its input."""
    triggered = api.trigger_run(ECHO, {"url": "https://example.com"})
    assert triggered.run_id.startswith("run_")
    assert triggered.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.COMPLETED)
    assert api.platform.run(triggered.run_id)["input_data"] == {"url": "https://example.com"}


def test_trigger_run_and_wait_completed(api: Api) -> None:
    """trigger_run_and_wait returns the terminal Run with the agent's output."""
    result = api.trigger_run_and_wait(ECHO, {"topic": "Q3"}, timeout_ms=10_000)
    assert isinstance(result, Run)
    assert result.timed_out is False
    assert (result.status, result.output_data, result.input_data) == ("completed", {"topic": "Q3"}, {"topic": "Q3"})
    assert result.finished_at is not None


def test_trigger_run_and_wait_failed(api: Api) -> None:
    """A failed run comes back as a Run with its error; raise_for_status turns it into RunFailedError."""
    result = api.trigger_run_and_wait(FAIL, {"message": "no luck"}, timeout_ms=10_000)
    assert result.status == RunStatus.FAILED
    assert (result.error.name, result.error.message) == ("RuntimeError", "no luck")
    with pytest.raises(RunFailedError, match="no luck") as caught:
        result.raise_for_status()
    assert caught.value.run is result


def test_slow_agent_with_short_timeout(api: Api) -> None:
    """A run slower than timeout_ms gives WaitTimedOut with its id; the run goes on."""
    result = api.trigger_run_and_wait(SLOW, {"seconds": 5}, timeout_ms=200)
    assert isinstance(result, WaitTimedOut)
    assert result.timed_out is True
    assert result.status == RunStatus.RUNNING
    api.cancel_run(SLOW, result.run_id)


def test_get_wait_and_cancel(api: Api) -> None:
    """get_run reads, wait_for_run waits for the end, cancel_run cancels; a second cancel is 409."""
    run_id = api.trigger_run(SLOW, {"seconds": 0.2}).run_id
    assert api.get_run(SLOW, run_id).run_id == run_id
    assert api.wait_for_run(SLOW, run_id, timeout=10).status == RunStatus.COMPLETED
    long_id = api.trigger_run(SLOW, {"seconds": 5}).run_id
    assert api.cancel_run(SLOW, long_id).status == RunStatus.CANCELLED
    with pytest.raises(ConflictError) as caught:
        api.cancel_run(SLOW, long_id)
    assert (caught.value.code, caught.value.run_id) == ("run_finished", long_id)


def test_wait_for_run_times_out(api: Api) -> None:
    """wait_for_run raises WaitTimeoutError with the run id at its deadline."""
    run_id = api.trigger_run(SLOW, {"seconds": 5}).run_id
    with pytest.raises(WaitTimeoutError) as caught:
        api.wait_for_run(SLOW, run_id, timeout=0.3)
    assert caught.value.run_id == run_id
    assert caught.value.status == "running"
    api.cancel_run(SLOW, run_id)


def test_register_run(api: Api) -> None:
    """register_run gives the run id and a token; again, the same run with a fresh token."""
    first = api.register_run(ECHO, f"ext-{api.mode}-register")
    again = api.register_run(ECHO, f"ext-{api.mode}-register")
    assert first.run_id == again.run_id
    assert first.credentials_token != again.credentials_token
    assert first.expires_in_seconds == 3600
    assert first.credentials_token not in repr(first)


def test_ingest_run(api: Api) -> None:
    """ingest_run creates and updates a standalone agent's run, sending output, outputs and error."""
    external = f"exec-{api.mode}"
    first = api.ingest_run(STANDALONE, external, "running")
    done = api.ingest_run(
        STANDALONE, external, RunStatus.FAILED, output={"pages": 1}, outputs=1, error=ValueError("bad page")
    )
    assert first.run_id == done.run_id
    assert done.status == RunStatus.FAILED
    row = api.platform.run(done.run_id)
    assert (row["output_data"], row["outputs"], row["error"]["name"]) == ({"pages": 1}, 1, "ValueError")
    assert row["error"]["message"] == "bad page"


def test_download_save(api: Api, tmp_path: Path) -> None:
    """trigger_run_and_download saves the file under its server name, every byte checked."""
    download, path = api.download(REPORT, {"sizeBytes": 200_000}, save_to=tmp_path)
    assert path == tmp_path / "report.pdf"
    assert path.read_bytes() == b"".join(report_bytes(200_000))
    assert (download.filename, download.content_type, download.content_length) == (
        "report.pdf",
        "application/pdf",
        200_000,
    )
    assert download.run_id.startswith("run_")
    assert os.listdir(tmp_path) == ["report.pdf"]


def test_download_read_unknown_length(api: Api) -> None:
    """A chunked file with no Content-Length is read whole; content_length is None."""
    download, data = api.download(REPORT, {"sizeBytes": 5000, "unknownLength": True})
    assert data == b"".join(report_bytes(5000))
    assert download.content_length is None


def test_not_found(api: Api) -> None:
    """An unknown run is NotFoundError with the code, message and request id."""
    with pytest.raises(NotFoundError) as caught:
        api.get_run(ECHO, "run_does_not_exist")
    error = caught.value
    assert (error.status_code, error.code) == (404, "run_not_found")
    assert error.request_id.startswith("req_")
    assert error.attempts == 1
    assert error.may_have_been_applied is False


def test_with_options_shares_the_pool(api: Api) -> None:
    """with_options returns a client with other options that works and shares the connection pool."""
    other = api.client.with_options(max_retries=0, timeout=5.0, deadline=30.0)
    assert (other.max_retries, other.timeout.read, other.deadline) == (0, 5.0, 30.0)
    assert other._http is api.client._http
    assert api.max_retries == 2


def test_raw_generated_client(api: Api) -> None:
    """.raw is the generated client on the same httpx client, authenticated."""
    from cxpa_api.api.callers import get_run  # noqa: PLC0415

    run_id = api.trigger_run(ECHO, {}).run_id
    raw = api.client.raw
    if api.mode == "sync":
        answer = get_run.sync_detailed(ECHO, run_id, client=raw)
    else:
        answer = api.runner.run(get_run.asyncio_detailed(ECHO, run_id, client=raw))
    assert answer.status_code == 200
    assert answer.parsed.id == run_id
