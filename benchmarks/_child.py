"""A server in a child process of ours for the duration of a `with` block: started, awaited, always stopped.

The child is `python -m <module> ...` run with this interpreter from the repository root; it prints
`PORT <n>` once it serves on 127.0.0.1 and stops when its stdin closes. `serving_child` yields its
base URL and process id (rows that read its memory need the pid), then closes its stdin, waits for
it to stop, and kills it if it does not.
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from benchmarks._common import REPO_ROOT


@dataclass(frozen=True)
class Child:
    """A serving child: its base URL and its process id."""

    url: str
    pid: int


@contextlib.contextmanager
def serving_child(
    module: str,
    arguments: Sequence[str],
    *,
    what: str,
    startup_s: float,
    stop_s: float,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> Iterator[Child]:
    """Run `python -m module arguments` for the block; yield its URL and pid. The child is always stopped.

    `what` names it in the error raised when it does not print `PORT <n>` within `startup_s`; once
    the block ends it gets `stop_s` to stop after its stdin closes, then it is killed.
    """
    command = [sys.executable, "-m", module, *arguments]
    process = subprocess.Popen(  # noqa: S603 - our own module, run with this interpreter
        command,
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=None if env is None else dict(env),
        pass_fds=tuple(pass_fds),
    )
    try:
        assert process.stdout is not None  # noqa: S101 - Popen with stdout=PIPE always has it
        ready, _, _ = select.select([process.stdout], [], [], startup_s)
        line = process.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"{what} did not start (said {line!r})")
        yield Child(f"http://127.0.0.1:{int(line.split()[1])}", process.pid)
    finally:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(stop_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()
