"""A job's journal: a SQLite file recording each item before it is sent and after it is answered.

Rerun with the same journal, a job sends no item twice: an item recorded as sent goes again with its
own Idempotency-Key (the platform replays the run it made, within its replay window), an item with a
run is not sent at all (a run still going is waited for by its id), and an item whose run ended is
given back from the file. Every write is committed before what it records happens (the send) or
before the result is handed on, in WAL mode: a process killed at any point (SIGKILL included)
leaves the file as it was after the last commit.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .._errors import InvalidArgumentError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job (
    name TEXT NOT NULL,
    agent_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    item_key TEXT PRIMARY KEY,
    run_id TEXT,
    run TEXT
) WITHOUT ROWID;
"""


class Recorded(NamedTuple):
    """What the journal holds of an item: its run's id once triggered, and its ended Run's JSON once ended."""

    run_id: str | None
    run: dict[str, Any] | None


class Journal:
    """One job's record, in the SQLite file at `path` (created when missing).

    Args:
        path: The file.
        agent_id: The job's agent; a journal of another agent's job is refused.
        job: The job's name; None takes the journal's (a new journal gets a random one). A name other
            than the journal's is refused: a journal is one job.
    """

    def __init__(self, path: str | Path, *, agent_id: int, job: str | None) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise InvalidArgumentError(f"journal {str(self.path)!r} can't be used: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self.job = self._claim(agent_id, job)
        except BaseException as exc:  # a journal refused is closed at once, not left to the garbage collector
            self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise InvalidArgumentError(f"journal {str(self.path)!r} can't be used: {exc}") from exc
            raise

    def _claim(self, agent_id: int, job: str | None) -> str:
        """The job's name: the journal's, checked against what was asked, or a new one written."""
        row = self._db.execute("SELECT name, agent_id FROM job").fetchone()
        if row is None:
            name = job if job is not None else uuid.uuid4().hex
            self._db.execute("INSERT INTO job (name, agent_id) VALUES (?, ?)", (name, agent_id))
            return name
        name, recorded_agent = row
        if recorded_agent != agent_id:
            raise InvalidArgumentError(
                f"journal {str(self.path)!r} is a job of agent {recorded_agent}, not of agent {agent_id}"
            )
        if job is not None and job != name:
            raise InvalidArgumentError(f"journal {str(self.path)!r} is job {name!r}, not job {job!r}")
        return str(name)

    def recorded(self, item_keys: Sequence[str]) -> dict[str, Recorded]:
        """What the journal holds of these items (those it has never seen are absent)."""
        found: dict[str, Recorded] = {}
        for start in range(0, len(item_keys), 500):  # under SQLite's limit of bound parameters
            chunk = item_keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT item_key, run_id, run FROM items WHERE item_key IN ({marks})"  # noqa: S608 - only `?` marks
            rows = self._db.execute(query, chunk)
            for key, run_id, run in rows:
                found[key] = Recorded(run_id, None if run is None else json.loads(run))
        return found

    def sending(self, item_keys: Iterable[str]) -> None:
        """Record that these items are about to be sent (before they are)."""
        self._write("INSERT OR IGNORE INTO items (item_key) VALUES (?)", ((key,) for key in item_keys))

    def triggered(self, runs: Iterable[tuple[str, str]]) -> None:
        """Record each item's run id: `(item_key, run_id)` pairs."""
        self._write("UPDATE items SET run_id = ? WHERE item_key = ?", ((run, key) for key, run in runs))

    def ended(self, runs: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Record each item's ended Run: `(item_key, Run.to_dict())` pairs."""
        rows = ((json.dumps(run, separators=(",", ":")), key) for key, run in runs)
        self._write("UPDATE items SET run = ? WHERE item_key = ?", rows)

    def _write(self, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Run `statement` for every row in one transaction, committed before this returns."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(statement, rows)

    def close(self) -> None:
        """Close the file."""
        self._db.close()
