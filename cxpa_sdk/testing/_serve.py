"""Serving the local platform from a terminal until Ctrl-C (`cxpa dev-server`, `python -m cxpa_sdk.testing`)."""

from __future__ import annotations

import threading
from typing import IO

from ._platform import DEFAULT_INGEST_KEY, LocalPlatform


def serve_forever(host: str, port: int, ingest_key: str | None, out: IO[str]) -> None:
    """Serve a LocalPlatform; print the base URL, the ingest key and the built-in agents; stop on Ctrl-C."""
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
