"""The local platform (cxpa_sdk.testing.LocalPlatform) served in its own process, for rows that need real runs.

`python -m benchmarks._platform_child --port 0 --runtime-workers N` serves a LocalPlatform with the
built-in agents and the benchmarks' ingest key (`benchmarks._common.API_KEY`) on 127.0.0.1, prints
`PORT <n>` once it serves, and stops when its stdin closes or after `--max-seconds`. Its Python
runtimes run on N worker threads, so N must exceed the runs in flight at once (the `slow` agent
sleeps on its thread). `--url-agent URL` also adds a JSON agent (id URL_AGENT_ID) whose runtime is
that URL; the platform signs its deliveries with the keys in CXPA_SIGNING_SECRET, when that is set.
`--inline-agent` also adds an inline agent (id INLINE_AGENT_ID, `add_agent(..., inline=True)`): its
runs complete with their input inside the platform after their `input.seconds` (default 0), with no
runtime thread and no callback, so that rows of many runs measure the SDK, not the platform's runtimes.
`platform_in_process` runs it for the duration of a `with` block.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping

from benchmarks._child import Child, serving_child
from benchmarks._common import API_KEY

STARTUP_SECONDS = 30.0
URL_AGENT_ID = 100  # the agent `--url-agent` adds
INLINE_AGENT_ID = 101  # the agent `--inline-agent` adds
ENV_SIGNING_SECRET = "CXPA_SIGNING_SECRET"  # noqa: S105 - the variable's name, not a secret


def _watch_stdin(stop: threading.Event) -> None:
    """Set `stop` when stdin closes (the parent ended or closed the pipe)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdin.buffer.read()
    stop.set()


def _serve(port: int, runtime_workers: int, max_seconds: float, url_agent: str | None, inline: bool) -> None:
    """Serve until stdin closes or `max_seconds` pass; print `PORT <n>` once serving."""
    from cxpa_sdk.testing import LocalPlatform  # noqa: PLC0415 - the parent never loads the platform

    secret = os.environ.get(ENV_SIGNING_SECRET) or None
    platform = LocalPlatform(ingest_key=API_KEY, runtime_workers=runtime_workers, signing_secret=secret)
    if url_agent is not None:
        platform.add_agent("hosted", url_agent, agent_id=URL_AGENT_ID)
    if inline:
        platform.add_agent("inline", inline=True, agent_id=INLINE_AGENT_ID)
    stop = threading.Event()
    with platform.serve("127.0.0.1", port) as base_url:
        print(f"PORT {base_url.rsplit(':', 1)[1]}", flush=True)
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
        stop.wait(max_seconds)
        # Requests still held (of calls stopped at their bound) are cancelled by the shutdown, and uvicorn
        # logs a traceback for each: expected here, so only startup errors reach the terminal.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m benchmarks._platform_child --port P --runtime-workers N [--max-seconds S]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="the port (0: a free one)")
    parser.add_argument("--runtime-workers", type=int, default=64, help="threads for Python runtimes")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop after this long in any case")
    parser.add_argument("--url-agent", default=None, help=f"add agent {URL_AGENT_ID} with this runtime URL")
    parser.add_argument("--inline-agent", action="store_true", help=f"add inline agent {INLINE_AGENT_ID}")
    args = parser.parse_args(argv)
    _serve(args.port, args.runtime_workers, args.max_seconds, args.url_agent, args.inline_agent)
    sys.stdout.flush()
    # Runs still in flight (a raw side stopped at its bound) sleep on non-daemon runtime threads that
    # the interpreter would join at exit, for up to a minute: the server has stopped, so leave now.
    os._exit(0)


@contextlib.contextmanager
def platform_in_process(runtime_workers: int, max_seconds: float = 1800.0) -> Iterator[str]:
    """Run the platform in a child process for the block; yield its base URL. The child is always stopped."""
    with platform_child(runtime_workers, max_seconds) as child:
        yield child.url


@contextlib.contextmanager
def platform_child(
    runtime_workers: int,
    max_seconds: float = 1800.0,
    *,
    url_agent: str | None = None,
    inline_agent: bool = False,
    env: Mapping[str, str] | None = None,
) -> Iterator[Child]:
    """The platform in a child process for the block (with agent URL_AGENT_ID at `url_agent`, when given).

    `inline_agent`: with the inline agent INLINE_AGENT_ID too.
    """
    arguments = ["--port", "0", "--runtime-workers", str(runtime_workers), "--max-seconds", str(max_seconds)]
    arguments += ["--url-agent", url_agent] if url_agent is not None else []
    arguments += ["--inline-agent"] if inline_agent else []
    with serving_child(
        "benchmarks._platform_child",
        arguments,
        what="the local platform",
        startup_s=STARTUP_SECONDS,
        stop_s=10,
        env=env,
    ) as child:
        yield child


if __name__ == "__main__":
    main()
