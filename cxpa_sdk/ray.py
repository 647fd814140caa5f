"""Run an agent on every row of a Ray Dataset: `ds.map_batches(RunAgent, ...)`, one run per row, never two.

The `cxpa-sdk[ray]` extra (`ray[data]`). `import cxpa_sdk` never imports this module or Ray; importing
this module imports neither Ray nor numpy either: `RunAgent(...)` does, and raises an ImportError
naming the extra when they are missing. See docs/ray.md.

Examples:
    >>> import ray                                                   # doctest: +SKIP
    >>> from cxpa_sdk.ray import RunAgent                            # doctest: +SKIP
    >>> ds = ray.data.from_items([{"id": n, "doc": f"d{n}"} for n in range(1000)])  # doctest: +SKIP
    >>> results = ds.map_batches(                                    # doctest: +SKIP
    ...     RunAgent,
    ...     fn_constructor_kwargs={"agent_id": 4, "job": "summaries-2026-12", "key_column": "id"},
    ...     concurrency=4,
    ...     batch_format="pandas",
    ... )
"""

from __future__ import annotations

__all__ = ["RESULT_COLUMNS", "RunAgent"]

import importlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from . import _config as check
from ._batch._items import FinishedItem
from ._batch._job import MAX_JOB_LENGTH
from ._caller import DEFAULT_ITEM_TIMEOUT_S, DEFAULT_MAX_PENDING
from ._client import Cxpa
from ._errors import InvalidArgumentError

RESULT_COLUMNS = ("cxpa_run_id", "cxpa_status", "cxpa_output", "cxpa_error")
"""The columns `RunAgent` adds to each batch, in this order (an existing column of the name is replaced)."""

BatchT = TypeVar("BatchT")
"""A Ray Data batch: a dict of numpy arrays, a pandas DataFrame or a pyarrow Table (given and returned alike)."""

_EXTRA_HINT = "cxpa_sdk.ray needs Ray Data: pip install 'cxpa-sdk[ray]'"


def _numpy() -> Any:
    """Ray Data's numpy, checked to be there with Ray Data (the `ray` extra); a clear ImportError otherwise."""
    try:
        # Imported only when a RunAgent is built (the `ray` extra). The ignores are for mypy where the extra
        # is not installed (the typing env need not download Ray); `unused-ignore` where it is.
        import numpy  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415
        import ray.data  # type: ignore[import-not-found, unused-ignore]  # noqa: F401, PLC0415 - only checked
    except ImportError as missing:
        raise ImportError(_EXTRA_HINT) from missing
    return numpy


class RunAgent:
    """A callable class for `ray.data.Dataset.map_batches`: runs the agent once per row, adds the results.

    Ray builds one per worker (an actor of the pool), so each worker has ONE `cxpa_sdk.Cxpa` client,
    built here and reused for every batch. Each batch goes through `client.run_many(agent_id,
    ((key, input) for each row), job=job)`: the rows are triggered in batches and waited for together.

    Each row's item key is its `key_column` value (a str, or an int made str), and `job` names the
    job, so each row's Idempotency-Key is derived from the agent, the job and the row's key. Running a
    row again (Ray retries a task after a worker dies, runs speculative copies, or you run the whole
    dataset again with the same job) never triggers a second run within the platform's 24-hour replay
    window: the platform replays the first run. Two rows with the same key are the same item (the
    second gets an error within one batch, the first's run in a later one): keep keys unique.

    Rows are made JSON-safe before they are sent: numpy scalars become Python values (`.item()`),
    numpy arrays lists (`.tolist()`), tuples lists, recursively through dicts and lists; anything
    else is sent as it is, and a value JSON cannot hold (NaN, a datetime, bytes) makes that row's
    result an error, not the batch's. A key that is neither a str nor an int is that row's error too.

    `__call__` returns the batch, in its row order and format (a dict of numpy arrays, a pandas
    DataFrame or a pyarrow Table), with four columns added (`RESULT_COLUMNS`), each a str or None:

    - `cxpa_run_id`: the row's run (None when it was never triggered);
    - `cxpa_status`: the run's end, `completed`, `failed` or `cancelled` (None when there is none);
    - `cxpa_output`: the run's output as a JSON string (None when it has none);
    - `cxpa_error`: what went wrong, a message: the row's error (a bad input, its trigger refused, its
      wait timed out: `WaitTimeoutError`, the run going on), or a failed run's error message; else None.

    An error about every row alike (a wrong key, the platform unreachable after the retries) raises
    and fails the task; run the dataset again with the same job: nothing is triggered twice.

    Args:
        agent_id: The agent's id.
        job: The job's name (required: the rows' Idempotency-Keys derive from it), at most 1024
            characters. Use one name per job (`"reports-2026-12"`), the same on every rerun of it.
        key_column: The column holding each row's item key (str or int), unique in the dataset.
        input_columns: The columns forming each run's input object (`{column: value}`); default: all
            but `key_column` (and the result columns).
        base_url: The platform's base URL (default: `CXPA_API_URL` in the worker's environment).
        ingest_api_key: The ingest API key (default: `CXPA_INGEST_KEY` in the worker's environment).
        item_timeout: How long each row's run may take from its trigger, in seconds (default 3600).
        max_pending: The most runs a worker waits for at once (default 1000).
        allow_insecure: Allow plain http to a host that is not this machine (keys travel unencrypted).

    Raises:
        ImportError: Ray Data (the `ray` extra) is not installed.
        InvalidArgumentError: An argument's value is not allowed (also for `base_url` and the key).
        InvalidArgumentTypeError: An argument has the wrong type.

    Examples:
        >>> ds.map_batches(                                              # doctest: +SKIP
        ...     RunAgent,
        ...     fn_constructor_kwargs={"agent_id": 4, "job": "reports-2026-12", "key_column": "customer"},
        ...     concurrency=2,
        ...     batch_format="numpy",
        ... )
    """

    def __init__(
        self,
        agent_id: int,
        *,
        job: str,
        key_column: str,
        input_columns: Sequence[str] | None = None,
        base_url: str | None = None,
        ingest_api_key: str | None = None,
        item_timeout: float = DEFAULT_ITEM_TIMEOUT_S,
        max_pending: int = DEFAULT_MAX_PENDING,
        allow_insecure: bool = False,
    ) -> None:
        """Check the arguments and build the worker's client; see the class for the arguments."""
        self._np = _numpy()
        self.agent_id: int = check.agent_id(agent_id)
        self.job: str = check.text(job, "job", MAX_JOB_LENGTH)
        self.key_column: str = check.text(key_column, "key_column", MAX_JOB_LENGTH)
        if input_columns is not None:
            if isinstance(input_columns, str):
                raise InvalidArgumentError("input_columns must be a sequence of column names, not one str")
            input_columns = tuple(check.text(c, "input_columns[]", MAX_JOB_LENGTH) for c in input_columns)
        self.input_columns: tuple[str, ...] | None = input_columns
        self.item_timeout: float = check.seconds(item_timeout, "item_timeout")
        self.max_pending: int = check.positive_int(max_pending, "max_pending", 100_000)
        self.client: Cxpa = Cxpa(base_url=base_url, ingest_api_key=ingest_api_key, allow_insecure=allow_insecure)
        """The worker's client, built once and used for every batch."""

    def __call__(self, batch: BatchT) -> BatchT:
        """Run the agent on every row of the batch; the batch with the result columns, in its row order.

        Args:
            batch: A dict of numpy arrays (`batch_format="numpy"`), a pandas DataFrame
                (`batch_format="pandas"`) or a pyarrow Table (`batch_format="pyarrow"`).

        Returns:
            The batch in the same format, with `RESULT_COLUMNS` added.
        """
        table = _Columns(batch, self._np)
        names = table.names()
        if self.key_column not in names:
            raise InvalidArgumentError(f"key_column {self.key_column!r} is not a column of the batch: {names[:20]}")
        wanted = self.input_columns
        if wanted is None:
            wanted = tuple(n for n in names if n != self.key_column and n not in RESULT_COLUMNS)
        missing = [n for n in wanted if n not in names]
        if missing:
            raise InvalidArgumentError(f"input_columns {missing[:20]} are not columns of the batch: {names[:20]}")
        keys = table.values(self.key_column)
        inputs = {name: table.values(name) for name in wanted}
        results: list[FinishedItem | None] = [None] * len(keys)
        for item in self.client.run_many(
            self.agent_id,
            self._items(keys, inputs),
            job=self.job,
            max_pending=self.max_pending,
            item_timeout=self.item_timeout,
        ):
            results[item.index] = item
        done: BatchT = table.with_results([_result(item) for item in results])
        return done

    def _items(self, keys: list[Any], inputs: Mapping[str, list[Any]]) -> Iterator[tuple[Any, dict[str, Any]]]:
        """The rows as `(item_key, input)` pairs, JSON-safe, read one at a time."""
        for row, key in enumerate(keys):
            yield _key(_json_safe(key, self._np)), {name: _json_safe(v[row], self._np) for name, v in inputs.items()}


def _key(value: Any) -> Any:
    """An item key: a str as it is, an int as text; anything else as it is, which run_many makes the row's error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _json_safe(value: Any, np: Any) -> Any:
    """Numpy scalars as Python values, numpy arrays and tuples as lists, through dicts and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {_json_safe(k, np): _json_safe(v, np) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, np) for v in value]
    return value


def _result(item: FinishedItem | None) -> tuple[str | None, str | None, str | None, str | None]:
    """A row's four result values: run id, status, output as JSON, error message."""
    if item is None:  # pragma: no cover - run_many yields one result per item
        return None, None, None, "no result"
    run = item.run
    run_id = item.run_id if item.run_id is not None else (run.run_id if run is not None else None)
    if run is None:
        error = item.error
        return run_id, None, None, None if error is None else f"{type(error).__name__}: {error}"
    output = None if run.output_data is None else json.dumps(run.output_data, ensure_ascii=False)
    return run_id, str(run.status), output, None if run.error is None else run.error.message


class _Columns:
    """A batch seen by column, whatever its format: a dict of numpy arrays, a pandas DataFrame, a pyarrow Table."""

    def __init__(self, batch: Any, np: Any) -> None:
        self.batch = batch
        self.np = np
        kind = type(batch).__module__.split(".")[0]
        if isinstance(batch, Mapping):
            self.kind = "numpy"
        elif kind in ("pandas", "pyarrow"):
            self.kind = kind
        else:
            raise InvalidArgumentError(
                f"RunAgent takes batches as a dict of numpy arrays, a pandas DataFrame or a pyarrow Table, "
                f"not {type(batch).__name__} (batch_format='numpy', 'pandas' or 'pyarrow')"
            )

    def names(self) -> list[str]:
        """The column names, in order."""
        if self.kind == "numpy":
            return list(self.batch)
        if self.kind == "pandas":
            return [str(name) for name in self.batch.columns]
        return list(self.batch.column_names)

    def values(self, name: str) -> list[Any]:
        """A column's values, one per row (numpy ones made Python values later, by `_json_safe`)."""
        if self.kind == "numpy":
            return list(self.batch[name])
        if self.kind == "pandas":
            return list(self.batch[name].tolist())
        return list(self.batch.column(name).to_pylist())

    def with_results(self, rows: list[tuple[str | None, str | None, str | None, str | None]]) -> Any:
        """The batch with the result columns added (or replaced), in the same format."""
        columns = {name: [row[i] for row in rows] for i, name in enumerate(RESULT_COLUMNS)}
        if self.kind == "numpy":
            return {**self.batch, **{name: self.np.array(v, dtype=object) for name, v in columns.items()}}
        if self.kind == "pandas":
            series = importlib.import_module("pandas").Series  # object: None stays None (pandas 3 would say NaN)
            return self.batch.assign(
                **{name: series(v, index=self.batch.index, dtype=object) for name, v in columns.items()}
            )
        table = self.batch
        pyarrow = importlib.import_module("pyarrow")
        for name, v in columns.items():
            column = pyarrow.array(v, type=pyarrow.string())
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), name, column)
            else:
                table = table.append_column(name, column)
        return table
