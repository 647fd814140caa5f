"""Child processes for the tests, with every wait on them bounded: a child that hangs fails its test.

`child(...)` starts a process and, whatever happens in the block, leaves no process behind: a child
still running is killed, and reaping it is bounded too. (`with subprocess.Popen(...)` is not enough:
its exit waits for the child without a timeout.) `Child.lines` reads the child's stdout on a daemon
thread, so that each wait for a line has a deadline.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, NoReturn

import pytest

# Generous for a loaded 2-core machine, where a Python child importing the platform starts in seconds.
START_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 30.0
KILL_TIMEOUT_S = 10.0
READER_TIMEOUT_S = 10.0

# A started process inherits an ignored SIGINT from its parent (bash starts background jobs that way),
# and Python then installs no KeyboardInterrupt handler. This prelude puts Python's handler back, then
# runs the module named by the first argument as `python -m` would; no preexec_fn needed.
WITH_SIGINT_HANDLER = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "del sys.argv[0]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)


def python_module_with_sigint(module: str, *args: str) -> list[str]:
    """The command line of `python -m module args...` that Ctrl-C (SIGINT) interrupts even when inherited ignored."""
    return [sys.executable, "-c", WITH_SIGINT_HANDLER, module, *args]


class Lines:
    """A child's text output, read line by line on a daemon thread, so that no wait for a line can hang."""

    def __init__(self, stream: IO[str], what: str) -> None:
        self.what = what
        self.text = ""  # everything taken so far
        self._queue: queue.Queue[str | None] = queue.Queue()  # None: the output ended
        self._ended = False
        self._thread = threading.Thread(target=self._read, args=(stream,), name=f"lines of {what}", daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        try:
            for line in iter(stream.readline, ""):
                self._queue.put(line)
        except (OSError, ValueError):  # the pipe broke or was closed: the output ended
            pass
        finally:
            self._queue.put(None)

    def next(self, timeout_s: float, waiting_for: str) -> str:
        """The next line, or "" once the output ended; fails the test when none comes within `timeout_s`."""
        return self._next(time.monotonic() + timeout_s, timeout_s, waiting_for)

    def _next(self, deadline: float, timeout_s: float, waiting_for: str) -> str:
        if self._ended:
            return ""
        try:
            line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            late = line is not None and time.monotonic() > deadline  # a child printing without end meets it too
        except queue.Empty:
            line, late = "", True
        if late:
            self._timed_out(timeout_s, waiting_for)
        if line is None:
            self._ended = True
            return ""
        self.text += line
        return line

    def until(self, last: str, timeout_s: float) -> list[str]:
        """The lines up to and including the line `last`, all within `timeout_s`; fails the test otherwise."""
        deadline = time.monotonic() + timeout_s
        lines: list[str] = []
        while not lines or lines[-1] != last:
            line = self._next(deadline, timeout_s, f"the line {last!r}")
            if not line:
                pytest.fail(f"{self.what}'s output ended before the line {last!r}; its output: {self._shown()}")
            lines.append(line)
        return lines

    def rest(self, timeout_s: float) -> str:
        """What the child prints from now until its output ends, within `timeout_s`; fails the test otherwise."""
        deadline = time.monotonic() + timeout_s
        start = len(self.text)
        while self._next(deadline, timeout_s, "the end of its output"):
            pass
        return self.text[start:]

    def join(self, timeout_s: float) -> bool:
        """Wait (bounded) for the reader to reach the end of the output; True when it did."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _timed_out(self, timeout_s: float, waiting_for: str) -> NoReturn:
        pytest.fail(
            f"{self.what} did not print {waiting_for} within {timeout_s:.0f} s; its output so far: {self._shown()}"
        )

    def _shown(self, most: int = 2000) -> str:
        return repr(self.text) if len(self.text) <= most else f"...{self.text[-most:]!r}"


class Child:
    """A running child process, and its stdout's lines when it was started with `lines=True`."""

    def __init__(self, process: subprocess.Popen[str], what: str, lines: Lines | None) -> None:
        self.process = process
        self.what = what
        self._lines = lines

    @property
    def lines(self) -> Lines:
        """The child's stdout, line by line."""
        assert self._lines is not None, "start the child with lines=True"
        return self._lines

    def wait(self, timeout_s: float = EXIT_TIMEOUT_S, since: str = "") -> int:
        """The child's exit code once it exits; killed, and the test failed, when it takes over `timeout_s`."""
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        of = f" of {since}" if since else ""
        pytest.fail(f"{self.what} did not exit within {timeout_s:.0f} s{of}; it was killed")

    def communicate(self, timeout_s: float = EXIT_TIMEOUT_S) -> tuple[str, str]:
        """The child's whole stdout and stderr once it exits; killed, and the test failed, after `timeout_s`."""
        try:
            out, err = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        else:
            return out or "", err or ""
        self.kill()
        pytest.fail(f"{self.what} did not finish within {timeout_s:.0f} s; it was killed")

    def kill(self) -> None:
        """Kill the child if it still runs and reap it (bounded)."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(KILL_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        else:
            return
        pytest.fail(f"{self.what} (pid {self.process.pid}) was still running {KILL_TIMEOUT_S:.0f} s after SIGKILL")


@contextmanager
def child(args: Sequence[str], *, what: str, lines: bool = False, **popen: Any) -> Iterator[Child]:
    """Start `args` (text mode); kill it on leaving the block if it still runs. `lines=True` pipes stdout into Lines."""
    if lines:
        popen["stdout"] = subprocess.PIPE
    process = subprocess.Popen(list(args), text=True, **popen)
    started = Child(process, what, None)
    try:
        if lines:
            assert process.stdout is not None
            started = Child(process, what, Lines(process.stdout, what))
        yield started
    finally:
        started.kill()
        # Close the pipes only when no reader is inside them: closing a pipe another thread is reading
        # waits for that read. The child is gone, so its end of the pipe is closed and the reader ends.
        readers_done = started._lines is None or started._lines.join(READER_TIMEOUT_S)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None and (readers_done or stream is not process.stdout):
                stream.close()
