"""cxpa_sdk.ray over real HTTP: a Ray Dataset through `map_batches(RunAgent)` runs each row once, even across a kill.

A local platform served in this process on 127.0.0.1, a local Ray cluster of 2 CPUs whose workers
import the cxpa_sdk this process imports (the installed wheel, under tox), and datasets of ECHO runs:
every row gets its result columns in its own row's place, a rerun of the job triggers nothing, and a
worker SIGKILLed mid-batch (after its batch was triggered) is restarted by Ray, its batch run again
and replayed: no run twice.
"""

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# `ray.data`, not `ray`: with tests/ on sys.path, this folder alone would import as a namespace `ray`.
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'cxpa-sdk[ray]'")

import ray
import ray.data

import cxpa_sdk
from cxpa_sdk.ray import RESULT_COLUMNS, RunAgent
from cxpa_sdk.testing import ECHO, LocalPlatform

# Load and chaos tests: the primary Python runs them, with the `ray` extra; the others run the rest (tox.ini).
pytestmark = [
    pytest.mark.heavy,
    # Ray warns about its own deprecated settings as it reads them; nothing this test can change.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"),
]

# Ray's workers cannot import this file (pytest imports it by path): its functions and classes travel by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROWS = 200


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A local Ray cluster of 2 CPUs, no dashboard; shut down after the module.

    `ray.init` puts the directory it is called from on its workers' sys.path: called from a checkout,
    its workers would import the checkout's cxpa_sdk, not the installed one this process tests. So it
    is called from an empty directory.
    """
    here = Path.cwd()
    os.chdir(tmp_path_factory.mktemp("ray-init"))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    finally:
        os.chdir(here)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def platform() -> Iterator[tuple[LocalPlatform, str]]:
    """A fresh local platform served on 127.0.0.1, and its base URL."""
    local = LocalPlatform()
    with local.serve() as base_url:
        yield local, base_url


def dataset(rows: int) -> ray.data.Dataset:
    """Rows with an int key, a str and an array column (numpy in the batches)."""
    return ray.data.from_items([{"id": n, "doc": f"d{n}", "vec": [n, n + 1]} for n in range(rows)])


def check_rows(rows: list[dict], count: int) -> dict[int, str]:
    """Every row has its own run, completed, its own input echoed; the run ids by key."""
    assert sorted(row["id"] for row in rows) == list(range(count))
    for row in rows:
        assert set(RESULT_COLUMNS) <= set(row), row
        assert row["cxpa_status"] == "completed", row
        assert row["cxpa_error"] is None, row
        assert json.loads(row["cxpa_output"]) == {"doc": row["doc"], "vec": [row["id"], row["id"] + 1]}, row
    run_ids = {row["id"]: row["cxpa_run_id"] for row in rows}
    assert len(set(run_ids.values())) == count
    return run_ids


@ray.remote
def cxpa_sdk_file() -> str:
    """Where a Ray worker imports cxpa_sdk from."""
    import cxpa_sdk  # noqa: PLC0415 - in the worker

    return str(cxpa_sdk.__file__)


def test_workers_import_the_same_cxpa_sdk(ray_cluster: None) -> None:
    """A Ray worker imports cxpa_sdk from where this process does (this checkout, or the installed wheel)."""
    assert ray.get(cxpa_sdk_file.remote(), timeout=60) == cxpa_sdk.__file__


def test_each_row_runs_once_and_a_rerun_of_the_job_triggers_nothing(
    ray_cluster: None, platform: tuple[LocalPlatform, str]
) -> None:
    """200 rows, numpy batches: each row's own result, 200 runs; the same job again (pandas batches): no new run."""
    local, base_url = platform
    options = {"agent_id": ECHO, "job": "ray-echo", "key_column": "id", "base_url": base_url}
    options["ingest_api_key"] = local.ingest_key

    def run(batch_format: str) -> list[dict]:
        return (
            dataset(ROWS)
            .map_batches(
                RunAgent,
                fn_constructor_kwargs=options,
                concurrency=2,
                num_cpus=0.5,
                batch_size=50,
                batch_format=batch_format,
            )
            .take_all()
        )

    first = check_rows(run("numpy"), ROWS)
    assert len(local.runs(ECHO)) == ROWS
    assert check_rows(run("pandas"), ROWS) == first  # replayed: the same runs
    assert len(local.runs(ECHO)) == ROWS


def test_a_worker_killed_mid_batch_runs_no_row_twice(
    ray_cluster: None, platform: tuple[LocalPlatform, str], tmp_path: Path
) -> None:
    """SIGKILL after a batch was triggered: Ray restarts the actor, retries the batch; each row its run, N runs."""
    local, base_url = platform
    rows = 60
    marker, started = tmp_path / "killed", tmp_path / "started"

    class KillOnce(RunAgent):
        """Kills its own process once in the cluster, on its first batch, after reading 3 results."""

        def __init__(self, agent_id: int, **options: object) -> None:
            super().__init__(agent_id, **options)
            with started.open("a", encoding="utf-8") as out:
                out.write(f"{os.getpid()}\n")
            self.calls = 0
            run_many = self.client.run_many

            def killing_run_many(*args, **kwargs):
                self.calls += 1
                seen = {}
                for item in run_many(*args, **kwargs):
                    seen[item.key] = item.run_id
                    if self.calls == 1 and len(seen) == 3 and claim(marker, seen):
                        os.kill(os.getpid(), signal.SIGKILL)
                    yield item

            self.client.run_many = killing_run_many

    results = (
        dataset(rows)
        .map_batches(
            KillOnce,
            fn_constructor_kwargs={"agent_id": ECHO, "job": "ray-kill", "key_column": "id"},
            concurrency=1,
            num_cpus=0.5,
            batch_size=20,
            batch_format="numpy",
            # The defaults from the worker's environment, as on a real cluster.
            runtime_env={"env_vars": {"CXPA_API_URL": base_url, "CXPA_INGEST_KEY": local.ingest_key}},
        )
        .take_all()
    )
    run_ids = check_rows(results, rows)
    assert len(local.runs(ECHO)) == rows
    killed = json.loads(marker.read_text(encoding="utf-8"))
    assert len(killed["seen"]) == 3, "the kill came after 3 results of the batch"
    pids = started.read_text(encoding="utf-8").split()
    assert str(killed["pid"]) in pids
    assert len(set(pids)) >= 2, "Ray started the actor again in a new process"
    assert {int(key): run_ids[int(key)] for key in killed["seen"]} == {
        int(key): run_id for key, run_id in killed["seen"].items()
    }, "the killed batch's runs are the rows' runs: replayed, not triggered again"


def claim(marker: Path, seen: dict[str, str | None]) -> bool:
    """Whether this is the one kill in the cluster: creates the marker atomically, with what was seen."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"pid": os.getpid(), "seen": seen}, out)
        out.flush()
        os.fsync(out.fileno())
    return True
