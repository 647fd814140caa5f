"""The local platform signs every POST to a URL runtime (trigger, resume, cancel) when given keys; never shows them."""

from __future__ import annotations

import http.server
import io
import json
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from child_support import START_TIMEOUT_S, child
from delivery_support import new_key_pair, new_secret

from cxpa_sdk import (
    AgentClient,
    CancelPayload,
    Cxpa,
    DeliveryVerificationError,
    InMemorySeenDeliveries,
    ResumePayload,
    RunStatus,
    TriggerPayload,
    verify_delivery,
)
from cxpa_sdk._cli._main import run as cxpa
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import LocalPlatform

Delivery = tuple[list[tuple[str, str]], bytes]


class Recorder(http.server.BaseHTTPRequestHandler):
    """A URL runtime that answers 202 and keeps each delivery's headers (as pairs) and raw body."""

    deliveries: list[Delivery]

    def do_POST(self) -> None:
        """Keep the delivery; answer 202."""
        body = self.rfile.read(int(self.headers["content-length"]))
        self.deliveries.append((list(self.headers.items()), body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[Delivery]]]:
    """The recording runtime's URL and what it received."""
    deliveries: list[Delivery] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("R", (Recorder,), {"deliveries": deliveries}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", deliveries
    server.shutdown()
    server.server_close()


def received(deliveries: list[Delivery], count: int) -> list[Delivery]:
    """The first `count` deliveries, once they arrived."""
    deadline = time.monotonic() + 10
    while len(deliveries) < count:
        assert time.monotonic() < deadline, f"{len(deliveries)} of {count} deliveries arrived"
        time.sleep(0.01)
    return deliveries[:count]


def all_three(platform: LocalPlatform, agent_id: int, deliveries: list[Delivery]) -> list[Delivery]:
    """Trigger a run, report it waiting, resume it, cancel another: the trigger, resume and cancel deliveries."""
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        run_id = client.trigger_run(agent_id, {"topic": "Q3"}).run_id
        trigger = json.loads(received(deliveries, 1)[0][1])
        with AgentClient.from_payload(trigger, base_url=platform.base_url) as agent:
            agent.waiting(f"tok_{run_id}", "approve")
        client.resume_run(agent_id, run_id, f"tok_{run_id}", {"approvedBy": "dana"})
        received(deliveries, 2)
        client.cancel_run(agent_id, run_id)
        return received(deliveries, 3)


def test_every_delivery_is_signed_and_verifies(recorder: tuple[str, list[Delivery]]) -> None:
    """Trigger, resume and cancel each carry their own webhook-id and a v1 and a v1a signature over the bytes sent."""
    url, deliveries = recorder
    secret = new_secret()
    _, whsk, _ = new_key_pair()
    platform = LocalPlatform(signing_secret=[secret, whsk])
    with platform.serve():
        agent = platform.add_agent("signed", url)
        got = all_three(platform, agent.id, deliveries)
        (whpk,) = platform.public_keys()
    kinds = []
    for headers, body in got:
        by_v1 = verify_delivery(body, headers, secrets=secret, seen=InMemorySeenDeliveries())
        by_v1a = verify_delivery(body, headers, public_keys=whpk, seen=InMemorySeenDeliveries())
        assert by_v1 == by_v1a
        kinds.append(type(by_v1))
        assert [e.split(",")[0] for e in dict(headers)["webhook-signature"].split(" ")] == ["v1", "v1a"]
    assert kinds == [TriggerPayload, ResumePayload, CancelPayload]
    assert len({dict(headers)["webhook-id"] for headers, _ in got}) == 3


def test_an_agent_of_its_own_is_signed_with_its_own_keys(recorder: tuple[str, list[Delivery]]) -> None:
    """An agent's signing_secret replaces the platform's: the platform's secret does not verify its deliveries."""
    url, deliveries = recorder
    platform_secret, agent_secret = new_secret(), new_secret()
    platform = LocalPlatform(signing_secret=platform_secret)
    with platform.serve():
        agent = platform.add_agent("own-keys", url, signing_secret=agent_secret)
        with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
            client.trigger_run(agent.id, {})
        ((headers, body),) = received(deliveries, 1)
    assert verify_delivery(body, headers, secrets=agent_secret, seen=InMemorySeenDeliveries())
    with pytest.raises(DeliveryVerificationError, match="signature"):
        verify_delivery(body, headers, secrets=platform_secret, seen=InMemorySeenDeliveries())


def test_without_keys_deliveries_are_unsigned(recorder: tuple[str, list[Delivery]]) -> None:
    """A platform given no keys sends none of the webhook headers (as before: nothing changes for it)."""
    url, deliveries = recorder
    platform = LocalPlatform()
    with platform.serve():
        agent = platform.add_agent("unsigned", url)
        with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
            client.trigger_run(agent.id, {})
        ((headers, body),) = received(deliveries, 1)
    assert not {name.lower() for name, _ in headers} & {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert json.loads(body)["input"] == {}


def test_keys_rotate_with_no_refused_delivery(recorder: tuple[str, list[Delivery]]) -> None:
    """Old -> old and new -> new on the platform, while the runtime trusts old and new: every delivery verifies."""
    url, deliveries = recorder
    old, new = new_secret(), new_secret()
    platform = LocalPlatform(signing_secret=old)
    with platform.serve():
        agent = platform.add_agent("rotating", url)
        with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
            for step, keys in enumerate(([old, new], [new])):
                client.trigger_run(agent.id, {})
                received(deliveries, step + 1)
                platform.set_signing_secret(keys)
            client.trigger_run(agent.id, {})
        got = received(deliveries, 3)
    for headers, body in got:
        assert verify_delivery(body, headers, secrets=[old, new], seen=InMemorySeenDeliveries())
    with pytest.raises(DeliveryVerificationError):  # the last was signed by the new key only
        verify_delivery(got[-1][1], got[-1][0], secrets=old, seen=InMemorySeenDeliveries())


def test_a_runtime_that_refuses_a_delivery_fails_its_run(recorder: tuple[str, list[Delivery]]) -> None:
    """A runtime trusting another key answers 401: the platform ends the run failed, naming the status."""
    platform = LocalPlatform(signing_secret=new_secret())
    trusted = new_secret()

    server_deliveries: list[Delivery] = []

    class Refuser(Recorder):
        deliveries = server_deliveries

        def do_POST(self) -> None:
            """Answer 401 (naming the check) to a delivery it can't verify."""
            body = self.rfile.read(int(self.headers["content-length"]))
            try:
                verify_delivery(body, self.headers.items(), secrets=trusted, seen=InMemorySeenDeliveries())
            except DeliveryVerificationError as exc:
                self.send_response(401)
                self.end_headers()
                self.wfile.write(exc.check.encode())
                return
            self.send_response(202)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuser)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with platform.serve():
            agent = platform.add_agent("refuser", f"http://127.0.0.1:{server.server_address[1]}/")
            with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
                run = client.trigger_run_and_wait(agent.id, {}, timeout_ms=10_000)
    finally:
        server.shutdown()
        server.server_close()
    assert run.status == RunStatus.FAILED
    assert run.error is not None
    assert "answered 401" in run.error.message


def test_keys_never_show(recorder: tuple[str, list[Delivery]]) -> None:
    """Not in the platform's or an agent's repr, and the dev server's banner shows only the v1a public keys."""
    secret = new_secret()
    _, whsk, whpk = new_key_pair()
    platform = LocalPlatform(signing_secret=[secret, whsk])
    agent = platform.add_agent("quiet", recorder[0], signing_secret=secret)
    shown = repr(platform) + repr(agent) + repr(platform.agents) + repr(platform._core.signing_keys)
    assert secret[6:] not in shown
    assert whsk[5:] not in shown
    url, deliveries = recorder
    command = [
        sys.executable, "-m", "cxpa_sdk", "dev-server", "--port", "0",
        "--signing-secret", secret, "--signing-secret", whsk, "--agent", f"signed={url}",
    ]  # fmt: skip
    with child(command, what="`cxpa dev-server`", lines=True) as server:
        banner = "".join(server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S))
        base_url = banner.split(" at ", 1)[1].split()[0]
        with Cxpa(base_url=base_url, ingest_api_key="cxpa_local_ingest_key") as client:
            client.trigger_run(7, {"via": "dev-server"})
            ((headers, body),) = received(deliveries, 1)
    assert f"signed with 2 keys; v1a public keys (for runtimes' public_keys=): {whpk}" in banner
    assert secret[6:] not in banner
    assert whsk[5:] not in banner
    assert verify_delivery(body, headers, secrets=secret, seen=InMemorySeenDeliveries())
    assert verify_delivery(body, headers, public_keys=whpk, seen=InMemorySeenDeliveries())


@pytest.mark.parametrize("bad", ["whpk_AAAA", "hunter2-plain-password", "whsec_c2hvcnQ="])
def test_a_bad_signing_secret_is_a_usage_error_that_never_echoes_it(bad: str) -> None:
    """`cxpa dev-server --signing-secret BAD`: exit 2 before serving, the flag named, the value not shown."""
    streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    assert cxpa(["dev-server", "--port", "0", "--signing-secret", new_secret(), "--signing-secret", bad], streams) == 2
    error = streams.stderr.getvalue()
    assert "--signing-secret" in error
    assert bad[5:] not in error
