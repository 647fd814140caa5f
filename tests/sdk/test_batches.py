"""trigger_many and run_many over real HTTP: batches, per-item errors, derived keys, journals, fallbacks."""

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sdk_support import MODES, Api

from cxpa_sdk import (
    AsyncRunHandle,
    FinishedItem,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    PayloadTooLargeError,
    RunHandle,
    RunStatus,
    TriggeredItem,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from cxpa_sdk.testing import ECHO, FAIL, SLOW, LocalPlatform


def collect(api: Api, method: str, *args: Any, limit: int | None = None, **kwargs: Any) -> list[Any]:
    """The items of `client.<method>(...)`, the first `limit` of them (then the iteration is closed)."""
    found = getattr(api.client, method)(*args, **kwargs)
    if api.mode == "sync":
        try:
            return list(itertools.islice(found, limit))
        finally:
            found.close()

    async def gather() -> list[Any]:
        items = []
        try:
            async for item in found:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        finally:
            await found.aclose()
        return items

    return api.runner.run(gather())


def runs_of(platform: LocalPlatform, agent_id: int) -> int:
    """How many runs the platform holds of the agent."""
    return len(platform.runs(agent_id))


def test_run_many_runs_every_item_once(api: Api) -> None:
    """50 inputs: 50 FinishedItems, each index once, each run completed with its own input; 50 runs made."""
    before = runs_of(api.platform, ECHO)
    items = collect(api, "run_many", ECHO, ({"n": n} for n in range(50)), batch_size=7, item_timeout=60)
    assert sorted(item.index for item in items) == list(range(50))
    assert all(isinstance(item, FinishedItem) and item.ok for item in items)
    assert {item.index: item.run.output_data for item in items} == {n: {"n": n} for n in range(50)}
    assert all(item.run.status is RunStatus.COMPLETED and item.run_id == item.run.run_id for item in items)
    assert runs_of(api.platform, ECHO) == before + 50


def test_trigger_many_yields_handles_in_order(api: Api) -> None:
    """Each item's handle, in the items' order, keyed by index; the handles wait like any other."""
    items = collect(api, "trigger_many", ECHO, [{"n": n} for n in range(12)], batch_size=5)
    assert [(item.index, item.key) for item in items] == [(n, str(n)) for n in range(12)]
    kind = RunHandle if api.mode == "sync" else AsyncRunHandle
    assert all(isinstance(item, TriggeredItem) and isinstance(item.handle, kind) for item in items)
    assert api.done(items[3].handle.result(timeout=30)).output_data == {"n": 3}


def test_a_job_run_again_triggers_nothing_twice(api: Api) -> None:
    """Keyed items of a named job: the second run of the job replays every item (same runs, none new)."""
    pairs = [(f"doc-{n}", {"doc": n}) for n in range(20)]
    first = collect(api, "run_many", ECHO, pairs, job=f"job-{api.mode}", item_timeout=60)
    made = runs_of(api.platform, ECHO)
    again = collect(api, "run_many", ECHO, pairs, job=f"job-{api.mode}", item_timeout=60)
    assert runs_of(api.platform, ECHO) == made
    assert {i.key: i.run_id for i in first} == {i.key: i.run_id for i in again}
    assert {i.key for i in again} == {key for key, _ in pairs}


def test_bad_items_are_results_and_the_rest_run(api: Api) -> None:
    """A non-mapping, a key that is not a str, an input that is not JSON, and one over 1 MiB: errors; the rest run."""
    before = runs_of(api.platform, ECHO)
    items = [{"ok": 0}, "text", (1, {"bad": "key"}), {"set": {1, 2}}, ("big", {"x": "y" * (1 << 20)}), {"ok": 5}]
    found = {item.index: item for item in collect(api, "run_many", ECHO, items, item_timeout=60)}
    assert isinstance(found[1].error, InvalidArgumentTypeError)
    assert isinstance(found[2].error, InvalidArgumentTypeError)
    assert isinstance(found[3].error, InvalidArgumentError)
    assert isinstance(found[4].error, InvalidArgumentError)
    assert found[4].key == "big"
    assert found[0].run.output_data == {"ok": 0}
    assert found[5].run.output_data == {"ok": 5}
    assert runs_of(api.platform, ECHO) == before + 2


def test_a_key_used_with_another_input_is_that_items_error(api: Api) -> None:
    """The same job and item key with another input: that item's 422; the other items run."""
    job = f"changed-{api.mode}"
    collect(api, "trigger_many", ECHO, [("a", {"v": 1})], job=job)
    found = collect(api, "trigger_many", ECHO, [("a", {"v": 2}), ("b", {"v": 3})], job=job)
    assert isinstance(found[0].error, UnprocessableEntityError)
    assert found[1].ok


def test_a_repeated_key_in_one_batch_is_that_items_error(api: Api) -> None:
    """Two items with one key in one batch: the second is an InvalidArgumentError naming the first."""
    found = collect(api, "trigger_many", ECHO, [("k", {"v": 1}), ("k", {"v": 1})], job=f"dup-{api.mode}")
    assert found[0].ok
    assert isinstance(found[1].error, InvalidArgumentError)
    assert "item 0" in str(found[1].error)


def test_failed_runs_are_ended_runs(api: Api) -> None:
    """A run that fails is a result with its failed Run (the item ran), not an error."""
    found = collect(api, "run_many", FAIL, [{"message": "no"}], item_timeout=60)
    assert found[0].ok
    assert found[0].run.status is RunStatus.FAILED


def test_an_item_whose_run_outlasts_its_timeout_names_the_run(api: Api) -> None:
    """item_timeout passes: the item's error is a WaitTimeoutError naming its run, which goes on."""
    found = collect(api, "run_many", SLOW, [{"seconds": 30}], item_timeout=0.5)
    assert isinstance(found[0].error, WaitTimeoutError)
    assert found[0].run_id is not None
    assert found[0].error.run_id == found[0].run_id
    assert api.platform.run(found[0].run_id)["status"] in ("queued", "running")


@pytest.mark.parametrize("mode", MODES)
def test_a_journal_resumes_a_stopped_job(
    mode: str, cxpa_platform: LocalPlatform, slept: list[float], tmp_path: Path
) -> None:
    """Stopped after 10 results and run again with its journal: every item once, no run made twice."""
    journal = tmp_path / "job.sqlite"
    inputs = [{"n": n} for n in range(40)]
    before = runs_of(cxpa_platform, ECHO)
    api = Api(mode, cxpa_platform, slept)
    try:
        first = collect(api, "run_many", ECHO, inputs, journal=journal, batch_size=8, item_timeout=60, limit=10)
        second = collect(api, "run_many", ECHO, inputs, journal=journal, batch_size=8, item_timeout=60)
    finally:
        api.close()
    assert len(first) == 10
    assert sorted(item.index for item in second) == list(range(40))
    assert all(item.ok for item in second)
    assert runs_of(cxpa_platform, ECHO) == before + 40
    by_index = {item.index: item.run_id for item in second}
    assert all(by_index[item.index] == item.run_id for item in first)
    with contextlib.closing(sqlite3.connect(journal)) as db:
        rows = db.execute("SELECT COUNT(*) FROM items WHERE run IS NOT NULL").fetchone()
    assert rows == (40,)


def test_a_journal_is_one_job_of_one_agent(client: Any, tmp_path: Path) -> None:
    """A journal of agent ECHO refuses agent SLOW, and another job name, before anything is sent."""
    journal = tmp_path / "job.sqlite"
    list(client.trigger_many(ECHO, [{"n": 1}], journal=journal, job="one"))
    with pytest.raises(InvalidArgumentError, match="agent"):
        client.trigger_many(SLOW, [{"n": 1}], journal=journal)
    with pytest.raises(InvalidArgumentError, match="job 'one', not job 'two'"):
        client.trigger_many(ECHO, [{"n": 1}], journal=journal, job="two")


def test_bad_arguments_are_refused_before_anything_is_sent(client: Any) -> None:
    """batch_size, max_pending, item_timeout and job are checked when the method is called."""
    with pytest.raises(InvalidArgumentError):
        client.trigger_many(ECHO, [], batch_size=1001)
    with pytest.raises(InvalidArgumentError):
        client.run_many(ECHO, [], max_pending=0)
    with pytest.raises(InvalidArgumentError):
        client.run_many(ECHO, [], item_timeout=-1)
    with pytest.raises(InvalidArgumentError):
        client.run_many(ECHO, [], job="")


@pytest.fixture
def older_platform() -> Iterator[LocalPlatform]:
    """A local platform without the batch trigger (its route answers 404)."""
    platform = LocalPlatform(batch_triggers=False)
    with platform.serve():
        yield platform


@pytest.mark.parametrize("mode", MODES)
def test_without_batch_triggers_items_go_one_by_one(
    mode: str, older_platform: LocalPlatform, slept: list[float]
) -> None:
    """An older platform (404 for the batch route): the same results, one trigger per item, none twice."""
    api = Api(mode, older_platform, slept)
    try:
        pairs = [(f"k{n}", {"n": n}) for n in range(9)]
        found = collect(api, "run_many", ECHO, pairs, job="old", batch_size=4, item_timeout=60)
        again = collect(api, "trigger_many", ECHO, pairs, job="old", batch_size=4)
    finally:
        api.close()
    assert sorted(item.index for item in found) == list(range(9))
    assert all(item.ok for item in found)
    assert runs_of(older_platform, ECHO) == 9
    assert {i.key: i.run_id for i in found} == {i.key: i.handle.run_id for i in again}


def test_an_item_over_the_platforms_limit_is_its_own_error(api: Api) -> None:
    """An input the SDK can't send (over 1 MiB) is refused per item as PayloadTooLarge or InvalidArgument."""
    found = collect(api, "trigger_many", ECHO, [{"x": "y" * (1 << 20)}])
    assert isinstance(found[0].error, InvalidArgumentError | PayloadTooLargeError)
