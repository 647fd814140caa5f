"""Serving an ASGI app under uvicorn on loopback, in a background thread, with a clean, fast stop.

A served app answers only requests whose Host header names it (`HostRule`): a web page cannot
drive it through DNS rebinding.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ._errors import ApiError
from ._runs import new_id

STARTUP_SECONDS = 30.0  # generous: a loaded 2-core machine starts uvicorn in well under a second
ANY_HOST = "*"
"""The allowed host that turns the Host check off."""
_HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(?P<port>[0-9]{1,5}))?")
_SHOWN_HOST_CHARS = 80


def allowed_host(name: str) -> str:
    """A name to accept in the Host header on any port, lower-cased, or `*` for any Host.

    Raises:
        ValueError: It is not a host name (letters, digits, dots, dashes) or a bracketed IPv6 address.
    """
    lowered = name.strip().lower()
    if lowered != ANY_HOST and (not (found := _HOST.fullmatch(lowered)) or found["port"] is not None):
        raise ValueError(f"expected a host name without a port, such as dev.example.com, or *; got {name!r}")
    return lowered


def _is_address(name: str) -> bool:
    """Whether a Host name is an IP address (IPv6 in brackets), which DNS cannot rebind."""
    bare = name[1:-1] if name.startswith("[") else name
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return False
    return (address.version == 6) == name.startswith("[")


@dataclasses.dataclass(frozen=True)
class HostRule:
    """Which Host headers name a served app.

    An IP address (DNS rebinding needs a name, so no rebinding page sends one), `localhost`, the name
    the server was bound to, and the allowed names (for a server reached through a proxy or by another
    name), each on any port: a relay, a port map or a proxy in front changes the port, and the port is
    no defence against rebinding. `*` among the allowed names accepts every Host.
    """

    names: frozenset[str]

    @classmethod
    def of(cls, host: str, allowed_hosts: Iterable[str] = ()) -> HostRule:
        """The rule of a server bound to `host`, with the extra allowed names (see `allowed_host`)."""
        return cls(frozenset({"localhost", host.lower(), *map(allowed_host, allowed_hosts)}))

    def accepts(self, host: str) -> bool:
        """Whether a Host header's value names this server."""
        if ANY_HOST in self.names:
            return True
        found = _HOST.fullmatch(host.lower())
        return found is not None and (found["name"] in self.names or _is_address(found["name"]))

    def refusal(self, hosts: list[str]) -> str | None:
        """Why a request with these Host headers is refused, or None when exactly one names this server."""
        if len(hosts) != 1:
            count = f"{len(hosts)} Host headers" if hosts else "no Host header"
            return f"the request has {count}, not one; {self._advice()}"
        if self.accepts(hosts[0]):
            return None
        shown = hosts[0] if len(hosts[0]) <= _SHOWN_HOST_CHARS else hosts[0][:_SHOWN_HOST_CHARS] + "..."
        return f"the Host {shown!r} does not name this platform; {self._advice()}"

    def _advice(self) -> str:
        """What this server answers to, and how to add a name."""
        named = ", ".join(sorted(name for name in self.names if name and not _is_address(name)))
        return (
            f"it answers to {named} or an IP address; "
            "serve it with --allowed-host NAME (or LocalPlatform.serve(allowed_hosts=[...])) to accept another name"
        )


class HostGuard:
    """An ASGI layer that answers `421 host_not_allowed`, in the Error envelope, to a request its HostRule refuses."""

    def __init__(self, app: Any, rule: HostRule) -> None:
        self.app = app
        self.rule = rule

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Hand the request to the app, or refuse it without reading its body."""
        if scope["type"] == "http":
            hosts = [value.decode("latin-1") for name, value in scope["headers"] if name == b"host"]
            if (why := self.rule.refusal(hosts)) is not None:
                await _refuse(send, ApiError(421, "host_not_allowed", why))
                return
        await self.app(scope, receive, send)


async def _refuse(send: Any, error: ApiError) -> None:
    """Send an ApiError's Error envelope with an X-Request-Id, and close the connection."""
    body = json.dumps(error.body()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", new_id("req").encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, allowed_hosts: Iterable[str] = ()
) -> Iterator[str]:
    """Serve `app` until the block exits; yield its base URL (`http://127.0.0.1:<port>`).

    Port 0 picks a free port. The socket is bound before the thread starts, so the URL is valid at
    once; the stop waits for the thread (open connections get at most one second). Requests whose
    Host header does not name the server are refused (see `HostRule`; `allowed_hosts` adds names).

    Raises:
        ValueError: An allowed host is not a host name (see `allowed_host`).
    """
    also_allowed = [allowed_host(name) for name in allowed_hosts]  # checked before anything is bound
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP; without it every
    # answer waits about 40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        HostGuard(app, HostRule.of(host, also_allowed)),
        log_level="warning",
        http="h11",
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="cxpa-platform", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the local platform did not start: its server thread ended")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local platform did not start within {STARTUP_SECONDS:g} s")
            time.sleep(0.005)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        sock.close()
