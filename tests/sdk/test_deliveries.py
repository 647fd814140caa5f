"""verify_delivery: signed deliveries are taken, every other one is refused with the check that failed, never a key.

The deliveries are signed here from the Standard Webhooks spec (`delivery_support`), not with the SDK's
signer. The hostile deliverer (malformed headers) is `tests/hostile/test_deliveries.py`; the spec's
published vectors and the reference library are `test_delivery_interop.py`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import pickle
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from delivery_support import TRIGGER, body_of, new_key_pair, new_secret, signed
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk import (
    AgentClient,
    AsyncAgentClient,
    CancelPayload,
    DeliveryVerificationError,
    InMemorySeenDeliveries,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    ResumePayload,
    TriggerPayload,
    parse_runtime_payload,
    verify_delivery,
)

SECRET = new_secret()
OTHER = new_secret()
KEY, SIGNING_KEY, PUBLIC_KEY = new_key_pair()
RESUME = {
    "type": "resumed",
    "runId": "run_delivered",
    "agentId": 7,
    "tokenId": "tok_1",
    "output": {"approvedBy": "dana"},
    "input": {"topic": "Q3"},
    "agentApiKey": "cxpa_agent_SECRET_KEY_1",
}
CANCEL = {"type": "cancelled", "runId": "run_delivered", "agentId": 7}


def fresh() -> InMemorySeenDeliveries:
    """A store of its own, so that no test sees another's delivery ids."""
    return InMemorySeenDeliveries()


def refused(check: str, body: bytes, headers: Any, **keys: Any) -> DeliveryVerificationError:
    """The error verify_delivery raises, asserted to name `check`."""
    keys.setdefault("secrets", SECRET)
    with pytest.raises(DeliveryVerificationError) as caught:
        verify_delivery(body, headers, seen=fresh(), **keys)
    assert caught.value.check == check, caught.value
    assert f"({check})" in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("payload", "kind"), [(TRIGGER, TriggerPayload), (RESUME, ResumePayload), (CANCEL, CancelPayload)], ids=str
)
def test_a_v1_signed_delivery_is_read(payload: dict[str, Any], kind: type) -> None:
    """A delivery signed with a trusted whsec_ secret is its payload, of the kind its `type` says."""
    body = body_of(payload)
    parsed = verify_delivery(body, signed(body, secrets=(SECRET,)), secrets=SECRET, seen=fresh())
    assert isinstance(parsed, kind)
    assert parsed.run_id == "run_delivered"


def test_a_v1a_signed_delivery_is_read_with_the_public_key_only() -> None:
    """A delivery signed with an Ed25519 whsk_ key is taken by a runtime that holds only its whpk_ public key."""
    body = body_of(RESUME)
    parsed = verify_delivery(body, signed(body, keys=(KEY,)), public_keys=[PUBLIC_KEY], seen=fresh())
    assert isinstance(parsed, ResumePayload)
    assert parsed.input == {"topic": "Q3"}


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.replace(b'"Q3"', b'"Q4"'),
        lambda b: json.dumps(json.loads(b)).encode(),  # the same JSON, encoded again (spaces): not the bytes signed
        lambda b: b + b" ",
        lambda b: b[:-1],
    ],
    ids=["changed-value", "re-encoded", "trailing-space", "cut"],
)
def test_a_tampered_body_is_refused(change: Any) -> None:
    """Any change to the body's bytes, even one that keeps the JSON's meaning, fails the signature check."""
    body = body_of()
    refused("signature", change(body), signed(body, secrets=(SECRET,)))


def test_a_delivery_signed_with_another_key_is_refused() -> None:
    """A signature by a key the runtime does not trust is no signature: v1 by another secret, v1a by another key."""
    body = body_of()
    refused("signature", body, signed(body, secrets=(OTHER,)))
    other_key, _, _ = new_key_pair()
    refused("signature", body, signed(body, keys=(other_key,)), secrets=(), public_keys=PUBLIC_KEY)
    # A v1a signature is never checked against a v1 secret, nor a v1 one against a public key.
    refused("signature", body, signed(body, keys=(KEY,)))
    refused("signature", body, signed(body, secrets=(SECRET,)), secrets=(), public_keys=PUBLIC_KEY)


@pytest.mark.parametrize(("offset", "word"), [(-301, "old"), (301, "ahead"), (-86_400, "old"), (10**9, "ahead")])
def test_an_old_or_future_timestamp_is_refused(offset: int, word: str) -> None:
    """A timestamp more than the tolerance (300 s) from the clock, either way, is refused, even when well signed."""
    body = body_of()
    error = refused("timestamp", body, signed(body, secrets=(SECRET,), timestamp=int(time.time()) + offset))
    assert word in str(error)


@pytest.mark.parametrize("offset", [-290, 0, 290])
def test_a_timestamp_within_the_tolerance_is_taken(offset: int) -> None:
    """Clocks a few minutes apart either way still agree."""
    body = body_of()
    headers = signed(body, secrets=(SECRET,), timestamp=int(time.time()) + offset)
    assert isinstance(verify_delivery(body, headers, secrets=SECRET, seen=fresh()), TriggerPayload)


def test_the_tolerance_is_the_callers() -> None:
    """A smaller tolerance refuses what the default takes; the store keeps ids twice as long as it."""
    body = body_of()
    headers = signed(body, secrets=(SECRET,), timestamp=int(time.time()) - 60)
    with pytest.raises(DeliveryVerificationError, match="tolerance of 30 s"):
        verify_delivery(body, headers, secrets=SECRET, tolerance=30, seen=fresh())
    ttls: list[float] = []

    class Recording:
        def first_time(self, delivery_id: str, *, ttl: float) -> bool:
            ttls.append(ttl)
            return True

    verify_delivery(body, headers, secrets=SECRET, tolerance=120, seen=Recording())
    assert ttls == [240]


def test_a_replayed_delivery_is_refused() -> None:
    """The same delivery again (the same webhook-id) is refused as replayed, its id named; another store takes it."""
    body = body_of()
    headers = signed(body, secrets=(SECRET,))
    seen = fresh()
    verify_delivery(body, headers, secrets=SECRET, seen=seen)
    with pytest.raises(DeliveryVerificationError) as caught:
        verify_delivery(body, headers, secrets=SECRET, seen=seen)
    assert (caught.value.check, caught.value.delivery_id) == ("replayed", headers["webhook-id"])
    assert isinstance(verify_delivery(body, headers, secrets=SECRET, seen=fresh()), TriggerPayload)


def test_the_default_store_refuses_a_replay_in_the_same_process() -> None:
    """Without `seen=`, the process's own store remembers: the second delivery of an id is refused."""
    body = body_of()
    headers = signed(body, secrets=(SECRET,))
    verify_delivery(body, headers, secrets=SECRET)
    with pytest.raises(DeliveryVerificationError, match="replayed"):
        verify_delivery(body, headers, secrets=SECRET)


def test_a_signed_body_that_is_no_payload_does_not_use_up_its_id() -> None:
    """A delivery refused for its payload (InvalidArgumentError) is not remembered: only a taken delivery is."""
    body = b'{"runId": "run_1"}'
    headers = signed(body, secrets=(SECRET,))
    seen = fresh()
    for _ in range(2):
        with pytest.raises(InvalidArgumentError, match="trigger payload"):
            verify_delivery(body, headers, secrets=SECRET, seen=seen)


def test_an_unsigned_delivery_is_refused_when_keys_are_given() -> None:
    """No webhook-signature with keys configured: refused as unsigned by verify_delivery, the parser, from_payload."""
    body = body_of()
    refused("unsigned", body, {})
    refused("unsigned", body, {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time()))})
    with pytest.raises(DeliveryVerificationError, match="unsigned"):
        parse_runtime_payload(body, secrets=SECRET)  # no headers at all
    with pytest.raises(DeliveryVerificationError, match="unsigned"):
        AgentClient.from_payload(body, headers={}, secrets=SECRET, base_url="http://127.0.0.1:9")


def test_a_runtime_given_no_keys_takes_unsigned_deliveries() -> None:
    """Without keys the parser reads any delivery, signed or not (the docs say what that exposes)."""
    body = body_of()
    assert isinstance(parse_runtime_payload(body), TriggerPayload)
    assert isinstance(parse_runtime_payload(body, headers={"webhook-signature": "v1,garbage"}), TriggerPayload)
    with pytest.raises(InvalidArgumentError, match="needs secrets="):
        verify_delivery(body, {}, secrets=())


def test_two_active_keys_rotate_without_a_refused_delivery() -> None:
    """Signed by the old and the new key, a delivery is taken by a runtime trusting either or both, at every step."""
    old, new = new_secret(), new_secret()
    body = body_of()
    platform_steps = [(old,), (old, new), (new,)]
    runtime_steps = [[old], [old, new], [new]]
    for platform_keys, runtime_keys in zip(platform_steps, runtime_steps, strict=True):
        for trusted in (runtime_keys, [old, new]):
            headers = signed(body, secrets=platform_keys)
            assert isinstance(verify_delivery(body, headers, secrets=trusted, seen=fresh()), TriggerPayload)
    # Mixed schemes rotate too: a v1 secret and a v1a key during a move from one to the other.
    headers = signed(body, secrets=(old,), keys=(KEY,))
    assert verify_delivery(body, headers, secrets=old, seen=fresh())
    assert verify_delivery(body, headers, public_keys=PUBLIC_KEY, seen=fresh())


def test_every_trusted_key_is_tried() -> None:
    """The one matching key may be the last of many, and the one matching signature the last of several."""
    keys = [new_secret() for _ in range(5)]
    body = body_of()
    headers = signed(body, secrets=(new_secret(), new_secret(), keys[-1]))
    assert verify_delivery(body, headers, secrets=keys, seen=fresh())
    assert verify_delivery(body, headers, secrets=" , ".join(keys), seen=fresh())  # an environment variable's list


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"secrets": "whsk_" + "A" * 43}, "signs (the platform keeps it)"),
        ({"secrets": PUBLIC_KEY}, "pass it in public_keys"),
        ({"public_keys": SECRET}, "pass it in secrets"),
        ({"secrets": "whsec_" + base64.b64encode(b"short").decode()}, "24 to 64"),
        ({"secrets": "whsec_not-base64!"}, "not base64"),
        ({"secrets": "plain-text-password"}, "must start with whsec_"),
        ({"public_keys": "whpk_" + base64.b64encode(b"x" * 31).decode()}, "a whpk_ key is 32"),
    ],
    ids=[
        "signing-key-as-secret",
        "public-key-as-secret",
        "secret-as-public-key",
        "short",
        "not-base64",
        "no-prefix",
        "short-public",
    ],
)
def test_a_bad_key_is_a_clear_error_that_never_shows_it(keys: dict[str, str], message: str) -> None:
    """A key of the wrong kind or form is refused before anything is read, named by its place, never by its value."""
    with pytest.raises(InvalidArgumentError) as caught:
        verify_delivery(body_of(), {}, **keys)
    assert message in str(caught.value)
    for value in keys.values():
        assert value[-12:] not in str(caught.value)
        assert value[6:16] not in str(caught.value)


@pytest.mark.parametrize("tolerance", [0, -1, float("nan"), float("inf"), 10**9])
def test_a_bad_tolerance_is_refused(tolerance: float) -> None:
    """The tolerance is a positive, finite number of seconds."""
    with pytest.raises(InvalidArgumentError, match="tolerance"):
        verify_delivery(body_of(), {}, secrets=SECRET, tolerance=tolerance)


@pytest.mark.parametrize("body", ["{}", {"runId": "run_1"}, TriggerPayload.parse(TRIGGER), None], ids=type)
def test_only_the_raw_body_is_verified(body: Any) -> None:
    """Text, a decoded dict or a parsed payload was encoded again since it was signed: a TypeError, not a guess."""
    with pytest.raises(InvalidArgumentTypeError, match="raw body"):
        verify_delivery(body, {}, secrets=SECRET)
    with pytest.raises(InvalidArgumentTypeError, match="raw body"):
        AgentClient.from_payload(body, secrets=SECRET, base_url="http://127.0.0.1:9")


def test_headers_are_read_case_insensitively_and_as_pairs() -> None:
    """Header names in any case, as a mapping or as (name, value) pairs in any order, are the same headers."""
    body = body_of()
    headers = signed(body, secrets=(SECRET,))
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify_delivery(body, upper, secrets=SECRET, seen=fresh())
    pairs = [("Content-Type", "application/json"), *reversed(list(headers.items()))]
    assert verify_delivery(body, pairs, secrets=SECRET, seen=fresh())


def test_no_secret_shows_in_an_error_a_repr_or_a_pickle() -> None:
    """Every refusal names its check and never a key: not in str, repr, args, or the pickled error."""
    body = body_of()
    cases = [
        signed(body, secrets=(new_secret(),)),
        signed(body, secrets=(SECRET,), timestamp=1),
        {},
        {"webhook-id": "msg 1", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
    ]
    for headers in cases:
        with pytest.raises(DeliveryVerificationError) as caught:
            verify_delivery(body, headers, secrets=[SECRET, OTHER], public_keys=PUBLIC_KEY, seen=fresh())
        shown = " ".join([str(caught.value), repr(caught.value), repr(caught.value.args)])
        dumped = pickle.dumps(caught.value)
        for secret in (SECRET, OTHER, PUBLIC_KEY, SIGNING_KEY):
            material = secret.split("_", 1)[1]
            assert material not in shown
            assert material.encode() not in dumped
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own error, pickled in this test
    assert (type(copy), copy.check, copy.delivery_id, str(copy)) == (
        DeliveryVerificationError,
        caught.value.check,
        caught.value.delivery_id,
        str(caught.value),
    )


def test_the_sync_and_async_agent_clients_verify_before_they_are_made() -> None:
    """from_payload with keys: a signed delivery makes the run's client; a tampered one makes none."""
    body = body_of()
    headers = signed(body, secrets=(SECRET,))
    agent = AgentClient.from_payload(body, headers=headers, secrets=SECRET, seen=fresh(), base_url="http://127.0.0.1:9")
    assert agent.run_id == "run_delivered"
    agent.close()
    async_agent = AsyncAgentClient.from_payload(
        body, headers=headers, secrets=SECRET, seen=fresh(), base_url="http://127.0.0.1:9"
    )
    assert async_agent.run_id == "run_delivered"
    asyncio.run(async_agent.aclose())
    for maker in (AgentClient.from_payload, AsyncAgentClient.from_payload):
        with pytest.raises(DeliveryVerificationError, match="signature"):
            maker(body + b" ", headers=headers, secrets=SECRET, seen=fresh(), base_url="http://127.0.0.1:9")
    cancel = body_of(CANCEL)
    with pytest.raises(InvalidArgumentError, match="cancel payload carries no agent key"):
        AgentClient.from_payload(cancel, headers=signed(cancel, secrets=(SECRET,)), secrets=SECRET, seen=fresh())


def test_v1a_without_cryptography_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the `signing` extra, a whpk_ key is a clear error naming it; v1 needs nothing more."""
    for name in [name for name in sys.modules if name.partition(".")[0] == "cryptography"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    with pytest.raises(InvalidArgumentError, match=r"pip install 'cxpa-sdk\[signing\]'"):
        verify_delivery(body_of(), {}, public_keys=PUBLIC_KEY)
    body = body_of()
    assert verify_delivery(body, signed(body, secrets=(SECRET,)), secrets=SECRET, seen=fresh())


def test_importing_the_sdk_or_verifying_v1_loads_no_cryptography() -> None:
    """Cryptography is imported only when a v1a key is used."""
    code = (
        "import sys, cxpa_sdk\n"
        "assert 'cryptography' not in sys.modules\n"
        "try:\n"
        "    cxpa_sdk.verify_delivery(b'{}', {}, secrets='whsec_' + 'A' * 32)\n"
        "except cxpa_sdk.DeliveryVerificationError:\n"
        "    pass\n"
        "assert 'cryptography' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_seen_store_forgets_after_its_ttl_and_past_its_bound() -> None:
    """An id is refused within its ttl and taken after it; past max_ids the oldest is forgotten first."""
    now = [0.0]
    seen = InMemorySeenDeliveries(max_ids=3, clock=lambda: now[0])
    assert seen.first_time("a", ttl=600)
    assert not seen.first_time("a", ttl=600)
    now[0] = 600.0
    assert seen.first_time("a", ttl=600)
    for name in ("b", "c", "d"):
        assert seen.first_time(name, ttl=600)
    assert seen.first_time("a", ttl=600)  # "a" was the oldest of four: forgotten
    assert not seen.first_time("d", ttl=600)
    assert "held=3" in repr(seen)
    with pytest.raises(InvalidArgumentError):
        InMemorySeenDeliveries(max_ids=0)


def test_the_seen_store_takes_an_id_once_across_threads() -> None:
    """Deliveries of one id racing on many threads: exactly one is taken."""
    seen = InMemorySeenDeliveries()
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def race() -> None:
        barrier.wait()
        results.append(seen.first_time("msg_race", ttl=600))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_a_store_that_is_not_one_is_refused() -> None:
    """`seen=` must have first_time: anything else is a TypeError before the delivery is read."""
    body = body_of()
    with pytest.raises(InvalidArgumentTypeError, match="SeenDeliveries"):
        verify_delivery(body, signed(body, secrets=(SECRET,)), secrets=SECRET, seen=object())  # type: ignore[arg-type]


@given(body=st.binary(min_size=1, max_size=300), at=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_flipped_bit_breaks_the_signature(body: bytes, at: int, bit: int) -> None:
    """Whatever the body, flipping one bit of it makes the signature fail (and never anything worse)."""
    headers = signed(body, secrets=(SECRET,), keys=(KEY,))
    spot = at % len(body)
    flipped = body[:spot] + bytes([body[spot] ^ (1 << bit)]) + body[spot + 1 :]
    with pytest.raises(DeliveryVerificationError, match="signature"):
        verify_delivery(flipped, headers, secrets=SECRET, public_keys=PUBLIC_KEY, seen=fresh())
