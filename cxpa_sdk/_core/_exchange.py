"""What the core sends and reads, in types of its own: no HTTP library's object enters a flow.

A flow yields a `Request` (method, URL, headers, body, the attempt's timeouts and the call's
deadline). The I/O edge (`_http`) sends it with httpx2 or aiohttp and answers with that backend's
response, which the core reads only as a `Reply`: its status and its headers (the body is read by
the driver, through `ReadBody`). A request that got no answer is thrown into the flow as
`SendFailed`, which says what the failure proves.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class Request(NamedTuple):
    """One attempt's request, as the core built it.

    Attributes:
        method: GET or POST.
        url: The absolute URL, its query included.
        path: The URL's path, for logs and messages.
        headers: The headers the call sends (Authorization, Accept, Idempotency-Key...); a hook may add some.
        body: The body bytes, or None.
        timeouts: Each phase's timeout in seconds (`connect`, `read`, `write`, `pool`), none past the deadline.
        deadline: The call's deadline, in `time.monotonic()` seconds.
    """

    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    timeouts: dict[str, float]
    deadline: float

    def __repr__(self) -> str:
        """The request without its headers (one is the key) and body."""
        return f"Request(method={self.method!r}, path={self.path!r})"


class HeaderLookup(Protocol):
    """An answer's headers as the core reads them: one value by case-insensitive name."""

    def get(self, key: str, /) -> str | None:
        """The header's value, or None when the answer has none."""

    def multi_items(self) -> list[tuple[str, str]]:
        """Every header as a (name, value) pair, in the answer's order, a repeated one once per value."""


class Reply(Protocol):
    """A backend's answer as the core reads it: its status and headers (an httpx2.Response is one)."""

    @property
    def status_code(self) -> int:
        """The answer's status."""

    @property
    def headers(self) -> HeaderLookup:
        """The answer's headers."""


class Timeouts(Protocol):
    """Each phase's timeout in seconds, None for none (an httpx2.Timeout is one)."""

    @property
    def connect(self) -> float | None:
        """Connecting: DNS, TCP, TLS."""

    @property
    def read(self) -> float | None:
        """Each wait for the answer's bytes."""

    @property
    def write(self) -> float | None:
        """Each write of the request."""

    @property
    def pool(self) -> float | None:
        """The wait for a free connection of the pool."""


class SendFailed(Exception):
    """A request that got no whole answer, as the I/O edge saw it: what it proves of the request.

    Attributes:
        what: The failure's kind (the backend's error class name, e.g. `ConnectError`).
        detail: What happened, with no byte of the server's and no header of the request.
        never_sent: True when the request surely did not reach the server (no connection was made).
        timed_out: True when a timeout (or the deadline) ended it.
        repeatable: False when the request itself cannot be sent (a malformed header): retrying fails again.
    """

    def __init__(
        self,
        what: str,
        detail: str,
        *,
        never_sent: bool,
        timed_out: bool,
        repeatable: bool = True,
    ) -> None:
        super().__init__(f"{what}: {detail}")
        self.what = what
        self.detail = detail
        self.never_sent = never_sent
        self.timed_out = timed_out
        self.repeatable = repeatable
