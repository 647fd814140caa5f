"""`python -m cxpa_sdk.testing`: serve the local platform until interrupted."""

from __future__ import annotations

import argparse
import sys

from ._platform import DEFAULT_INGEST_KEY
from ._serve import serve_forever


def main(argv: list[str] | None = None) -> int:
    """Serve a LocalPlatform on loopback; print the base URL, the ingest key and the built-in agents."""
    parser = argparse.ArgumentParser(prog="python -m cxpa_sdk.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    parser.add_argument("--ingest-key", default=DEFAULT_INGEST_KEY, help="the ingest API key callers use")
    args = parser.parse_args(argv)
    serve_forever(args.host, args.port, args.ingest_key, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
