"""`python -m cxpa_sdk.testing`: serve the local platform until interrupted."""

from __future__ import annotations

import argparse
import sys

from ._platform import DEFAULT_INGEST_KEY
from ._serve import build_platform, parse_agent, parse_agent_key, parse_allowed_host, serve_forever


def main(argv: list[str] | None = None) -> int:
    """Serve a LocalPlatform on loopback; print the base URL, the ingest key and the built-in agents."""
    parser = argparse.ArgumentParser(prog="python -m cxpa_sdk.testing", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    parser.add_argument("--ingest-key", default=DEFAULT_INGEST_KEY, help="the ingest API key callers use")
    for flag, what in (
        ("--agent", "NAME=URL: a JSON agent whose runtime is at URL"),
        ("--file-agent", "NAME=URL: a file_download agent whose runtime is at URL"),
        ("--agent-key", "AGENT=KEY: a fixed agent API key (AGENT a name or id), never printed"),
        ("--allowed-host", "NAME: another name to answer in the Host header, on any port (* for any)"),
    ):
        parser.add_argument(flag, action="append", default=[], metavar=what.partition(":")[0], help=what)
    args = parser.parse_args(argv)
    try:
        agents = [parse_agent(spec, "json") for spec in args.agent]
        agents += [parse_agent(spec, "file_download") for spec in args.file_agent]
        platform = build_platform(args.ingest_key, agents, [parse_agent_key(spec) for spec in args.agent_key])
        allowed_hosts = [parse_allowed_host(spec) for spec in args.allowed_host]
    except ValueError as exc:
        parser.error(str(exc))
    serve_forever(args.host, args.port, args.ingest_key, sys.stdout, platform, allowed_hosts=allowed_hosts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
