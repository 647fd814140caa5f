"""Serving the local platform from a terminal until Ctrl-C or SIGTERM (`cxpa dev-server`, `-m cxpa_sdk.testing`)."""

from __future__ import annotations

import signal
import threading
import urllib.parse
from collections.abc import Sequence
from types import FrameType
from typing import IO, NamedTuple

from ._platform import DEFAULT_INGEST_KEY, LocalPlatform
from ._server import allowed_host


class DevAgent(NamedTuple):
    """An agent a dev server adds from the command line: `--agent NAME=URL` or `--file-agent NAME=URL`."""

    name: str
    url: str
    output_kind: str
    inline_delay_s: float | None = None  # an inline agent (`--inline-agent`): no URL, runs end in the platform


def parse_inline_agent(spec: str) -> DevAgent:
    """`NAME` or `NAME=DELAY_MS` as an inline agent (`--inline-agent`); ValueError naming what is wrong."""
    name, sep, delay = spec.partition("=")
    name = name.strip()
    if not name or name.isdigit() or not name.isprintable() or " " in name:
        raise ValueError(f"--inline-agent: expected NAME or NAME=DELAY_MS (such as fast=10), got {spec!r}")
    try:
        delay_ms = float(delay) if sep else 0.0
    except ValueError:
        delay_ms = -1.0
    if not 0 <= delay_ms < float("inf"):
        raise ValueError(f"--inline-agent {name}: DELAY_MS must be a number of milliseconds >= 0, got {delay!r}")
    return DevAgent(name, "", "json", delay_ms / 1000)


def parse_agent(spec: str, output_kind: str) -> DevAgent:
    """`NAME=URL` as a dev agent; ValueError naming what is wrong (an http(s) URL with a host is needed)."""
    flag = "--file-agent" if output_kind == "file_download" else "--agent"
    name, sep, url = spec.partition("=")
    name = name.strip()
    if not sep or not name or not url:
        raise ValueError(f"{flag}: expected NAME=URL (such as report=http://127.0.0.1:9000/run), got {spec!r}")
    if name.isdigit() or not name.isprintable() or " " in name:
        raise ValueError(f"{flag}: the name {name!r} must be a word, not a number (ids are given in order)")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{flag} {name}: the runtime URL must be http:// or https:// with a host, got {url!r}")
    return DevAgent(name, url, output_kind)


def parse_agent_key(spec: str) -> tuple[str, str]:
    """`AGENT=KEY` (AGENT a name or an id) as (agent, key); ValueError naming what is wrong, never the key."""
    agent, sep, key = spec.partition("=")
    if not sep or not agent.strip() or not key:
        raise ValueError("--agent-key: expected AGENT=KEY, AGENT an agent's name or id (such as echo=dev-echo-key)")
    return agent.strip(), key


def parse_allowed_host(spec: str) -> str:
    """`--allowed-host NAME` as a lower-cased name (or `*`); ValueError naming the flag when it is not a host name."""
    try:
        return allowed_host(spec)
    except ValueError as exc:
        raise ValueError(f"--allowed-host: {exc}") from None


def build_platform(
    ingest_key: str | None,
    agents: Sequence[DevAgent] = (),
    agent_keys: Sequence[tuple[str, str]] = (),
    signing_secrets: Sequence[str] = (),
) -> LocalPlatform:
    """A LocalPlatform with the built-in agents, the URL agents, the fixed agent keys and signing keys of a dev server.

    Raises:
        ValueError: A name is taken, `--agent-key` names no agent, a key is in use or invalid, or a
            `--signing-secret` is not a whsec_ or whsk_ key (the message never shows it).
    """
    try:
        platform = LocalPlatform(ingest_key=ingest_key or DEFAULT_INGEST_KEY, signing_secret=list(signing_secrets))
    except ValueError as exc:
        raise ValueError(f"--signing-secret: {exc}") from None
    for agent in agents:
        if any(known.name == agent.name for known in platform.agents):
            raise ValueError(f"an agent named {agent.name!r} already exists: pick another name")
        if agent.inline_delay_s is not None:
            platform.add_agent(agent.name, inline=True, inline_delay_s=agent.inline_delay_s)
        else:
            platform.add_agent(agent.name, agent.url, output_kind=agent.output_kind)
    for ref, key in agent_keys:
        found = [a for a in platform.agents if ref in (a.name, str(a.id))]
        if not found:
            names = ", ".join(a.name for a in platform.agents)
            raise ValueError(f"--agent-key: no agent is named or numbered {ref!r} (agents: {names})")
        try:
            platform.set_agent_api_key(found[0].id, key)
        except ValueError as exc:
            raise ValueError(f"--agent-key {ref}: {exc}") from None
    return platform


def _signing(platform: LocalPlatform) -> str:
    """How deliveries are signed, for the banner: never a secret, only the v1a public keys (which are public)."""
    keys = platform.signing_key_count
    if not keys:
        return "unsigned (--signing-secret signs them)"
    public = platform.public_keys()
    shown = f"; v1a public keys (for runtimes' public_keys=): {' '.join(public)}" if public else ""
    return f"signed with {keys} key{'s' if keys != 1 else ''}{shown}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_forever(
    host: str,
    port: int,
    ingest_key: str | None,
    out: IO[str],
    platform: LocalPlatform | None = None,
    *,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Serve a LocalPlatform; print the base URL, the ingest key and the agents; stop on Ctrl-C.

    It answers requests whose Host header is `localhost` or an IP address (on any port), or one of the
    `allowed_hosts` (`--allowed-host`); others get `421 host_not_allowed` (see `LocalPlatform.serve`).

    SIGTERM stops it the same way: a server started in the background by a shell (`cxpa dev-server &`)
    inherits an ignored SIGINT, and `kill` is how it is stopped. Agent API keys are never printed: a
    user who needs one (`cxpa credential`) fixes it with `--agent-key` (see `build_platform`).
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    platform = platform or LocalPlatform(ingest_key=ingest_key or DEFAULT_INGEST_KEY)
    try:
        with platform.serve(host, port, allowed_hosts=allowed_hosts) as base_url:
            out.write(f"CXPA local platform at {base_url}\n")
            out.write(f"ingest key: {platform.ingest_key}\n")
            out.write(f"{'id':>3}  {'name':<11} {'managed by':<11} {'output':<14}\n")
            for agent in platform.agents:
                row = f"{agent.id:>3}  {agent.name:<11} {agent.managed_by:<11} {agent.output_kind:<14}"
                if isinstance(agent.runtime, str):
                    row += f" -> {agent.runtime}"
                elif agent.inline:
                    row += f" inline, {agent.inline_delay_s * 1000:g} ms a run"
                out.write(row.rstrip() + "\n")
            out.write(f"deliveries to URL runtimes: {_signing(platform)}\n")
            out.write("Ctrl-C stops it.\n")
            out.flush()
            threading.Event().wait()
    except KeyboardInterrupt:  # Ctrl-C is how a dev server is meant to stop: not an error
        out.write("stopped\n")
