"""Serving the local platform from a terminal until Ctrl-C or SIGTERM (`cxpa dev-server`, `-m cxpa_sdk.testing`)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import IO

from ._platform import DEFAULT_INGEST_KEY, LocalPlatform


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_forever(host: str, port: int, ingest_key: str | None, out: IO[str]) -> None:
    """Serve a LocalPlatform; print the base URL, the ingest key and the built-in agents; stop on Ctrl-C.

    SIGTERM stops it the same way: a server started in the background by a shell (`cxpa dev-server &`)
    inherits an ignored SIGINT, and `kill` is how it is stopped.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    platform = LocalPlatform(ingest_key=ingest_key or DEFAULT_INGEST_KEY)
    try:
        with platform.serve(host, port) as base_url:
            out.write(f"CXPA local platform at {base_url}\n")
            out.write(f"ingest key: {platform.ingest_key}\n")
            out.write(f"{'id':>3}  {'name':<11} {'managed by':<11} {'output':<14}\n")
            for agent in platform.agents:
                out.write(f"{agent.id:>3}  {agent.name:<11} {agent.managed_by:<11} {agent.output_kind:<14}\n")
            out.write("Ctrl-C stops it.\n")
            out.flush()
            threading.Event().wait()
    except KeyboardInterrupt:  # Ctrl-C is how a dev server is meant to stop: not an error
        out.write("stopped\n")
