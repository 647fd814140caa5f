"""`python -m cxpa_sdk.testing`: serve the local platform until interrupted."""

from __future__ import annotations

import argparse
import sys
import threading

from ._platform import DEFAULT_INGEST_KEY, LocalPlatform


def main(argv: list[str] | None = None) -> int:
    """Serve a LocalPlatform on loopback; print the base URL, the ingest key and the built-in agents."""
    parser = argparse.ArgumentParser(prog="python -m cxpa_sdk.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    parser.add_argument("--ingest-key", default=DEFAULT_INGEST_KEY, help="the ingest API key callers use")
    args = parser.parse_args(argv)
    platform = LocalPlatform(ingest_key=args.ingest_key)
    with platform.serve(args.host, args.port) as base_url:
        print(f"CXPA local platform at {base_url}")
        print(f"ingest key: {platform.ingest_key}")
        print(f"{'id':>3}  {'name':<11} {'managed by':<11} {'output':<14}")
        for agent in platform.agents:
            print(f"{agent.id:>3}  {agent.name:<11} {agent.managed_by:<11} {agent.output_kind:<14}")
        print("Ctrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
