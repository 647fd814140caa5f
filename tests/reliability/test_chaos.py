"""The SDK through a chaos proxy: lost requests, lost answers, cut and truncated bodies, delays.

A LocalPlatform is served for the module; each test puts its own seeded `ChaosProxy` in front of it
and points SDK clients at the proxy, with max_retries=3 and backoff sleeps replaced by no-ops. The
checks are made on the platform's own state, read directly. `pytest -s` shows the counts.
`CXPA_LONG=1` multiplies the counts by 10.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import pytest
from reliability.chaos_proxy import ChaosProxy

from cxpa_sdk import (
    AgentClient,
    APIConnectionError,
    APIStatusError,
    ConflictError,
    Cxpa,
    CxpaError,
    IncompleteDownloadError,
    RunStatus,
)
from cxpa_sdk.testing import ECHO, REPORT, LocalPlatform, report_bytes

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

T = TypeVar("T")
SCALE = 10 if os.environ.get("CXPA_LONG") == "1" else 1
TRIGGERS = 1000 * SCALE
DOWNLOADS = 200 * SCALE
RUNTIMES = 200 * SCALE
FAULT_RATE = 0.30
MAX_RETRIES = 3
TRIGGER_THREADS = 8
DOWNLOAD_THREADS = 4
RUNTIME_THREADS = 8
DOWNLOAD_BASE_BYTES = 200_000
STARTED_ROUNDS = 3
# Every request has finite phases and every call a deadline, so no call can hang the test.
CALL_TIMEOUT = httpx2.Timeout(10.0)
CALL_DEADLINE_S = 60.0
# The most a whole batch may take before the test gives up waiting for it.
BATCH_TIMEOUT_S = 300.0 * SCALE


def _no_sleep(seconds: float) -> None:
    """The backoff's sleep, skipped: retries go out at once."""


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """One local platform served for the module."""
    served = LocalPlatform()
    with served.serve():
        yield served


def chaos_client(base_url: str, platform: LocalPlatform) -> Cxpa:
    """A Cxpa on `base_url` (the proxy) with three retries, finite timeouts and no backoff sleeps."""
    client = Cxpa(
        base_url=base_url,
        ingest_api_key=platform.ingest_key,
        max_retries=MAX_RETRIES,
        timeout=CALL_TIMEOUT,
        deadline=CALL_DEADLINE_S,
    )
    client._sleep = _no_sleep
    return client


def run_all(work: Callable[[int], T], count: int, threads: int) -> list[T]:
    """`work(i)` for i in range(count) on `threads` threads; the results in order."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, range(count), timeout=BATCH_TIMEOUT_S))


def report(title: str, counts: dict[str, Any]) -> str:
    """A one-line summary of a chaos run, printed (pytest -s shows it) and returned for assertion messages."""
    line = f"[chaos {title}] " + ", ".join(f"{name}={value}" for name, value in counts.items())
    print(f"\n{line}")
    return line


def error_classes(outcomes: Iterable[object]) -> dict[str, int]:
    """How many outcomes were errors of each class."""
    return dict(Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException)))


def test_triggers_make_exactly_one_run_per_applied_call(platform: LocalPlatform) -> None:
    """1000 triggers from 8 threads at 30% faults: one run per returned call, none for unapplied ones, no duplicates."""
    proxy = ChaosProxy(platform.base_url, fault_rate=FAULT_RATE, seed=20260101)
    with proxy as url, chaos_client(url, platform) as client:

        def trigger(i: int) -> str | Exception:
            try:
                return client.trigger_run(ECHO, {"call": i}).run_id
            except Exception as exc:
                return exc

        outcomes = run_all(trigger, TRIGGERS, TRIGGER_THREADS)
    runs: dict[int, list[str]] = defaultdict(list)
    for row in platform.runs(ECHO):
        data = row["input_data"]
        if isinstance(data, dict) and set(data) == {"call"}:
            runs[data["call"]].append(row["id"])
    returned = [i for i, o in enumerate(outcomes) if isinstance(o, str)]
    raised = [i for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
    counts = {
        "calls": TRIGGERS,
        "returned": len(returned),
        "raised": len(raised),
        "raised_by_class": error_classes(outcomes),
        "applied_despite_error": sum(1 for i in raised if runs[i]),
        "exchanges": proxy.exchanges(),
        "injected": proxy.injected(),
    }
    summary = report("triggers", counts)
    assert proxy.errors() == [], summary
    foreign = {i: repr(outcomes[i]) for i in raised if not isinstance(outcomes[i], CxpaError)}
    assert foreign == {}, f"errors that are not CxpaError: {foreign}; {summary}"
    duplicates = {i: ids for i, ids in runs.items() if len(ids) > 1}
    assert duplicates == {}, f"calls with more than one run: {duplicates}; {summary}"
    wrong = {i: (outcomes[i], runs[i]) for i in returned if runs[i] != [outcomes[i]]}
    assert wrong == {}, f"returned calls whose run is missing or another one: {wrong}; {summary}"
    said_unapplied = {
        i: (str(outcomes[i]), runs[i])
        for i in raised
        if isinstance(outcomes[i], CxpaError) and not outcomes[i].may_have_been_applied and runs[i]
    }
    assert said_unapplied == {}, f"errors saying 'not applied' for calls that made a run: {said_unapplied}; {summary}"
    strays = set(runs) - set(range(TRIGGERS))
    assert strays == set(), f"runs for calls never made: {sorted(strays)}; {summary}"


def test_downloads_are_complete_or_absent(platform: LocalPlatform, tmp_path: Path) -> None:
    """200 downloads at 30% faults: each returns the whole file or raises, and no partial file is left anywhere."""
    proxy = ChaosProxy(platform.base_url, fault_rate=FAULT_RATE, seed=20260202)
    with proxy as url, chaos_client(url, platform) as client:

        def download(i: int) -> Path | Exception:
            folder = tmp_path / f"download-{i}"
            folder.mkdir()
            try:
                with client.trigger_run_and_download(REPORT, {"sizeBytes": DOWNLOAD_BASE_BYTES + i}) as stream:
                    return stream.save(folder)
            except Exception as exc:
                return exc

        outcomes = run_all(download, DOWNLOADS, DOWNLOAD_THREADS)
    runs: dict[int, list[str]] = defaultdict(list)
    for row in platform.runs(REPORT):
        size = (row["input_data"] or {}).get("sizeBytes")
        if isinstance(size, int) and DOWNLOAD_BASE_BYTES <= size < DOWNLOAD_BASE_BYTES + DOWNLOADS:
            runs[size - DOWNLOAD_BASE_BYTES].append(row["id"])
    saved = {i: o for i, o in enumerate(outcomes) if isinstance(o, Path)}
    errors = {i: o for i, o in enumerate(outcomes) if isinstance(o, BaseException)}
    codes = Counter(e.code for e in errors.values() if isinstance(e, APIStatusError))
    counts = {
        "calls": DOWNLOADS,
        "complete": len(saved),
        "raised": len(errors),
        "raised_by_class": error_classes(outcomes),
        "status_codes": dict(codes),
        "applied_despite_error": sum(1 for i in errors if runs[i]),
        "said_not_applied_but_ran": sum(
            1 for i, e in errors.items() if isinstance(e, CxpaError) and not e.may_have_been_applied and runs[i]
        ),
        "exchanges": proxy.exchanges(),
        "injected": proxy.injected(),
    }
    summary = report("downloads", counts)
    assert proxy.errors() == [], summary
    foreign = {i: repr(e) for i, e in errors.items() if not isinstance(e, CxpaError)}
    assert foreign == {}, f"errors that are not CxpaError: {foreign}; {summary}"
    unexpected = {
        i: repr(e)
        for i, e in errors.items()
        if not isinstance(e, IncompleteDownloadError | APIConnectionError | APIStatusError)
    }
    assert unexpected == {}, f"errors other than a cut body, no answer or an error status: {unexpected}; {summary}"
    for i, path in saved.items():
        size = DOWNLOAD_BASE_BYTES + i
        assert path.parent == tmp_path / f"download-{i}", f"download {i} saved outside its folder: {path}"
        assert path.stat().st_size == size, f"download {i}: {path.stat().st_size} of {size} bytes; {summary}"
        assert path.read_bytes() == b"".join(report_bytes(size)), f"download {i}: wrong bytes; {summary}"
    duplicates = {i: ids for i, ids in runs.items() if len(ids) > 1}
    assert duplicates == {}, f"downloads that made more than one run: {duplicates}; {summary}"
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p not in saved.values())
    assert left == [], f"files other than complete downloads: {left[:20]}; {summary}"


def test_download_whose_answer_was_lost_does_not_say_it_was_not_applied(platform: LocalPlatform) -> None:
    """A download applied but whose answer was lost must not raise an error that says it was not applied."""
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, max_retries=MAX_RETRIES) as client:
        client._sleep = _no_sleep
        marker = {"sizeBytes": 1234, "chunkBytes": 617}
        with platform.faults.drop_next(1, path="*/runs/trigger-and-download"):
            with pytest.raises(CxpaError) as caught:
                with client.trigger_run_and_download(REPORT, marker) as stream:
                    stream.read()
    ran = [row["id"] for row in platform.runs(REPORT) if row["input_data"] == marker]
    assert len(ran) == 1, ran
    # The first attempt made run `ran[0]`; its retry is refused with 409 download_not_replayable. The
    # call was applied, so `may_have_been_applied` must be True (docs/errors.md: False only when the
    # request was certainly not applied).
    assert caught.value.may_have_been_applied, (
        f"{type(caught.value).__name__} says the request was not applied, but it made run {ran[0]}: {caught.value}"
    )


def test_runtime_callbacks_complete_each_run_exactly_once(platform: LocalPlatform) -> None:
    """200 runtimes send started and complete at 30% faults: each run ends completed once, with its own output."""
    agent = platform.add_agent("chaos-runtime")
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as direct:
        run_ids = [direct.register_run(agent.id, f"ext-{i}").run_id for i in range(RUNTIMES)]
    agent_key = platform.agent_api_key(agent.id)
    proxy = ChaosProxy(platform.base_url, fault_rate=FAULT_RATE, seed=20260303)
    started_retries: Counter[str] = Counter()
    counting = threading.Lock()

    def one_runtime(url: str, i: int) -> RunStatus | Exception:
        client = AgentClient(
            base_url=url,
            api_key=agent_key,
            run_id=run_ids[i],
            max_retries=MAX_RETRIES,
            timeout=CALL_TIMEOUT,
            deadline=CALL_DEADLINE_S,
        )
        client._sleep = _no_sleep
        try:
            # `started` must land for `complete` to be allowed; a started that ran out of retries
            # without reaching the platform is sent again (a new call), at most STARTED_ROUNDS times.
            for _ in range(STARTED_ROUNDS):
                try:
                    client.started()
                    break
                except CxpaError as exc:
                    with counting:
                        started_retries[type(exc).__name__] += 1
                    if platform.run(run_ids[i])["status"] != "queued":
                        break
            try:
                return client.complete({"i": i})
            except Exception as exc:
                return exc
        finally:
            client.close()

    with proxy as url:
        outcomes = run_all(lambda i: one_runtime(url, i), RUNTIMES, RUNTIME_THREADS)
    rows = [platform.run(run_id) for run_id in run_ids]
    errors = {i: o for i, o in enumerate(outcomes) if isinstance(o, BaseException)}
    finished_twice = {i: str(e) for i, e in errors.items() if isinstance(e, ConflictError) and e.code == "run_finished"}
    counts = {
        "runs": RUNTIMES,
        "completed_returned": sum(1 for o in outcomes if getattr(o, "status", None) == RunStatus.COMPLETED),
        "complete_raised": len(errors),
        "raised_by_class": error_classes(outcomes),
        "completed_despite_error": sum(1 for i in errors if rows[i]["status"] == "completed"),
        "started_raised": dict(started_retries),
        "exchanges": proxy.exchanges(),
        "injected": proxy.injected(),
    }
    summary = report("runtimes", counts)
    assert proxy.errors() == [], summary
    assert finished_twice == {}, f"a retried complete was applied twice (409 run_finished): {finished_twice}; {summary}"
    foreign = {i: repr(e) for i, e in errors.items() if not isinstance(e, CxpaError)}
    assert foreign == {}, f"errors that are not CxpaError: {foreign}; {summary}"
    returned_other = {
        i: o for i, o in enumerate(outcomes) if not isinstance(o, BaseException) and o.status != "completed"
    }
    assert returned_other == {}, f"complete() returned another status: {returned_other}; {summary}"
    said_unapplied = {i: str(e) for i, e in errors.items() if isinstance(e, CxpaError) and not e.may_have_been_applied}
    assert said_unapplied == {}, f"complete() errors saying 'not applied': {said_unapplied}; {summary}"
    not_completed = {
        i: (row["status"], row["output_data"])
        for i, row in enumerate(rows)
        if row["status"] != "completed" or row["output_data"] != {"i": i}
    }
    assert not_completed == {}, f"runs not completed with their own output: {not_completed}; {summary}"
