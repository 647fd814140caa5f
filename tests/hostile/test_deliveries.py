"""A deliverer that lies: every malformed, forged, stale or replayed delivery is refused, with its check named.

The hostile side of `verify_delivery` is whoever POSTs to a runtime's URL. Each case below is a
delivery a platform that follows the contract never sends; the runtime must refuse it (a
`DeliveryVerificationError` whose `check` says why) and never act on it, never crash in another
way, and never show a key. The last tests send raw bytes over a socket to a real FastAPI runtime,
so that what an HTTP stack passes on (repeated headers, bytes that are not ASCII) is covered too.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from delivery_support import body_of, new_key_pair, new_secret, signed
from fastapi import FastAPI, Request, Response
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk import DeliveryVerificationError, InMemorySeenDeliveries, InvalidArgumentError, verify_delivery

SECRET = new_secret()
KEY, _, PUBLIC_KEY = new_key_pair()
BODY = body_of()

Headers = list[tuple[str, str]]


def good(body: bytes = BODY, **options: Any) -> Headers:
    """The headers of a well-signed delivery of `body`, as pairs."""
    return list(signed(body, secrets=(SECRET,), **options).items())


def replace(headers: Headers, name: str, value: str) -> Headers:
    """The headers with `name`'s value replaced."""
    return [(n, value if n == name else v) for n, v in headers]


def without(headers: Headers, name: str) -> Headers:
    """The headers without `name`."""
    return [(n, v) for n, v in headers if n != name]


def twice(headers: Headers, name: str) -> Headers:
    """The headers with `name` repeated (the same value again)."""
    return [*headers, next((n, v) for n, v in headers if n == name)]


def signature_of(headers: Headers) -> str:
    """The webhook-signature value."""
    return dict(headers)["webhook-signature"]


def another_runs_signature() -> Headers:
    """A real signature, by the trusted key, of another run's delivery, replayed over this body."""
    other = body_of({"runId": "run_other", "agentId": 7, "input": {}, "agentApiKey": "k"})
    return good(other)


# (case id, the headers, the check that must fail)
CASES: list[tuple[str, Callable[[], Headers], str]] = [
    # absent
    ("no-headers", lambda: [], "unsigned"),
    ("no-signature", lambda: without(good(), "webhook-signature"), "unsigned"),
    ("no-id", lambda: without(good(), "webhook-id"), "malformed"),
    ("no-timestamp", lambda: without(good(), "webhook-timestamp"), "malformed"),
    ("empty-signature", lambda: replace(good(), "webhook-signature", ""), "malformed"),
    ("only-spaces", lambda: replace(good(), "webhook-signature", "   "), "malformed"),
    # repeated
    ("id-twice", lambda: twice(good(), "webhook-id"), "malformed"),
    ("timestamp-twice", lambda: twice(good(), "webhook-timestamp"), "malformed"),
    ("signature-twice", lambda: twice(good(), "webhook-signature"), "malformed"),
    ("id-twice-in-two-cases", lambda: [*good(), ("Webhook-Id", dict(good())["webhook-id"])], "malformed"),
    # about another run, or another delivery
    ("another-runs-signature", another_runs_signature, "signature"),
    ("another-id", lambda: replace(good(), "webhook-id", "msg_another"), "signature"),
    ("another-timestamp", lambda: replace(good(), "webhook-timestamp", str(int(time.time()) - 1)), "signature"),
    ("unknown-versions-only", lambda: replace(good(), "webhook-signature", "v2,AAAA v1b,AAAA"), "signature"),
    ("old", lambda: good(timestamp=int(time.time()) - 301), "timestamp"),
    ("future", lambda: good(timestamp=int(time.time()) + 301), "timestamp"),
    ("epoch", lambda: good(timestamp=0), "timestamp"),
    # huge
    ("huge-id", lambda: replace(good(), "webhook-id", "m" * 129), "malformed"),
    ("huge-timestamp", lambda: replace(good(), "webhook-timestamp", "9" * 13), "malformed"),
    (
        "huge-signature",
        lambda: replace(good(), "webhook-signature", signature_of(good()) + " v2," + "A" * 5000),
        "malformed",
    ),
    (
        "too-many-signatures",
        lambda: replace(good(), "webhook-signature", " ".join([signature_of(good())] * 17)),
        "malformed",
    ),
    (
        "too-long-a-signature",
        lambda: replace(good(), "webhook-signature", "v1," + base64.b64encode(b"x" * 33).decode()),
        "malformed",
    ),
    (
        "too-short-a-v1a",
        lambda: replace(good(), "webhook-signature", "v1a," + base64.b64encode(b"x" * 63).decode()),
        "malformed",
    ),
    # not ASCII, not the format
    ("non-ascii-id", lambda: replace(good(), "webhook-id", "msg_é"), "malformed"),
    ("space-in-id", lambda: replace(good(), "webhook-id", "msg 1"), "malformed"),
    ("dot-id", lambda: replace(good(), "webhook-id", ".."), "malformed"),
    # Arabic-Indic digits: str.isdigit() says yes, the format says no
    ("non-ascii-digits", lambda: replace(good(), "webhook-timestamp", "\u0661\u0667" + "\u0660" * 8), "malformed"),
    ("signed-timestamp", lambda: replace(good(), "webhook-timestamp", "+" + str(int(time.time()))), "malformed"),
    ("fractional-timestamp", lambda: replace(good(), "webhook-timestamp", f"{time.time():.3f}"), "malformed"),
    ("iso-timestamp", lambda: replace(good(), "webhook-timestamp", "2026-12-06T00:00:00Z"), "malformed"),
    (
        "non-ascii-signature",
        lambda: replace(good(), "webhook-signature", "v1,ü" + signature_of(good())[4:]),
        "malformed",
    ),
    ("control-in-signature", lambda: replace(good(), "webhook-signature", signature_of(good()) + "\x00"), "malformed"),
    ("garbage-base64", lambda: replace(good(), "webhook-signature", "v1,!!!not base64!!!"), "malformed"),
    ("no-comma", lambda: replace(good(), "webhook-signature", "v1" + signature_of(good())[3:]), "malformed"),
    ("no-version", lambda: replace(good(), "webhook-signature", signature_of(good())[2:]), "malformed"),
    ("comma-only", lambda: replace(good(), "webhook-signature", ","), "malformed"),
]


@pytest.mark.parametrize(("make", "check"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_every_lie_of_a_deliverer_is_refused_by_its_check(make: Callable[[], Headers], check: str) -> None:
    """Absent, repeated, about another delivery, huge, not ASCII, garbage: refused, named, no key shown."""
    with pytest.raises(DeliveryVerificationError) as caught:
        verify_delivery(BODY, make(), secrets=SECRET, public_keys=PUBLIC_KEY, seen=InMemorySeenDeliveries())
    assert caught.value.check == check, str(caught.value)
    assert SECRET[6:] not in str(caught.value)
    assert len(str(caught.value)) < 300  # a huge header is never echoed whole


def test_headers_out_of_order_and_beside_others_are_taken() -> None:
    """Order carries no meaning: the three headers in any order, among a framework's other headers, verify."""
    headers = good()
    shuffled = [("host", "runtime"), headers[2], ("content-length", str(len(BODY))), headers[0], headers[1]]
    assert verify_delivery(BODY, shuffled, secrets=SECRET, seen=InMemorySeenDeliveries())


def test_a_replay_within_twice_the_tolerance_is_refused_whatever_else_comes_between() -> None:
    """The same signed delivery sent again, after others, is refused; the others are each taken once."""
    seen = InMemorySeenDeliveries()
    first = good()
    verify_delivery(BODY, first, secrets=SECRET, seen=seen)
    for _ in range(20):
        verify_delivery(BODY, good(), secrets=SECRET, seen=seen)
    with pytest.raises(DeliveryVerificationError, match="replayed"):
        verify_delivery(BODY, first, secrets=SECRET, seen=seen)


def test_a_signature_list_with_the_good_one_among_forgeries_is_taken() -> None:
    """Forged entries beside a good one do not spoil it (rotation sends several): the good one is found."""
    forged = "v1," + base64.b64encode(b"\x00" * 32).decode()
    fresh = good()
    headers = replace(fresh, "webhook-signature", f"{forged} v2,AAAA {signature_of(fresh)} {forged}")
    assert verify_delivery(BODY, headers, secrets=SECRET, seen=InMemorySeenDeliveries())


@given(
    delivery_id=st.text(max_size=200),
    timestamp=st.text(max_size=30),
    signature=st.text(max_size=300),
)
def test_fuzzed_headers_are_refused_and_nothing_else(delivery_id: str, timestamp: str, signature: str) -> None:
    """Any header values at all: a DeliveryVerificationError (never another exception, never taken)."""
    headers = {"webhook-id": delivery_id, "webhook-timestamp": timestamp, "webhook-signature": signature}
    with pytest.raises(DeliveryVerificationError):
        verify_delivery(BODY, headers, secrets=SECRET, public_keys=PUBLIC_KEY, seen=InMemorySeenDeliveries())


def test_a_signed_payload_that_lies_is_refused_as_a_payload() -> None:
    """Well signed but no runtime payload (an unknown type): InvalidArgumentError, as an unsigned one would be."""
    body = body_of({"type": "Resumed", "runId": "run_1", "agentId": 1})
    with pytest.raises(InvalidArgumentError, match="type"):
        verify_delivery(body, good(body), secrets=SECRET, seen=InMemorySeenDeliveries())


# -- over HTTP: what a framework passes on ------------------------------------------------------

runtime_app = FastAPI()
taken: list[str] = []


@runtime_app.post("/cxpa")
async def deliveries(request: Request) -> Response:
    """A runtime that verifies, as docs/runtimes.md shows."""
    try:
        payload = verify_delivery(await request.body(), request.headers, secrets=SECRET)
    except DeliveryVerificationError as exc:
        return Response(exc.check, status_code=401)
    taken.append(payload.run_id)
    return Response(status_code=202)


@pytest.fixture(scope="module")
def runtime() -> Iterator[int]:
    """The FastAPI runtime under uvicorn on loopback; its port."""
    server = uvicorn.Server(uvicorn.Config(runtime_app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)


def post_raw(port: int, head_lines: list[bytes], body: bytes) -> tuple[int, bytes]:
    """POST raw bytes to the runtime (any header, repeated or not ASCII); the status and body of its answer."""
    request = b"\r\n".join(
        [
            b"POST /cxpa HTTP/1.1",
            b"Host: 127.0.0.1",
            b"Content-Length: %d" % len(body),
            b"Connection: close",
            *head_lines,
        ]
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request + b"\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def lines(headers: Headers) -> list[bytes]:
    """Header pairs as raw header lines."""
    return [f"{name}: {value}".encode() for name, value in headers]


def test_a_framework_runtime_takes_a_signed_delivery_over_http(runtime: int) -> None:
    """The well-signed delivery over a real socket: 202, and taken once; sent again, 401 replayed."""
    headers = good()
    assert post_raw(runtime, lines(headers), BODY) == (202, b"")
    assert post_raw(runtime, lines(headers), BODY) == (401, b"replayed")


@pytest.mark.parametrize(
    ("head", "check"),
    [
        (lambda: lines(twice(good(), "webhook-signature")), b"malformed"),
        (lambda: lines(twice(good(), "webhook-id")), b"malformed"),
        (lambda: [*lines(without(good(), "webhook-id")), b"webhook-id: msg_\xe9t\xe9"], b"malformed"),
        (lambda: [*lines(without(good(), "webhook-signature")), b"webhook-signature: v1,\xff\xfe"], b"malformed"),
        (lambda: lines(without(good(), "webhook-signature")), b"unsigned"),
        (lambda: [*lines(without(good(), "webhook-id")), b"webhook-id: " + b"m" * 20_000], b"malformed"),
    ],
    ids=["signature-twice", "id-twice", "latin-1-id", "binary-signature", "unsigned", "20-KB-id"],
)
def test_what_an_http_stack_passes_on_is_refused(runtime: int, head: Callable[[], list[bytes]], check: bytes) -> None:
    """Repeated headers and bytes that are not ASCII reach verify_delivery through the framework, and are refused."""
    before = list(taken)
    assert post_raw(runtime, head(), BODY) == (401, check)
    assert taken == before
