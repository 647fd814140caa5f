"""Signed deliveries interoperate: the Standard Webhooks test vectors, its reference library, and RFC 8032's Ed25519.

The spec's repository (standard-webhooks/standard-webhooks) publishes `v1` vectors in its libraries'
test suites (the Python library's `test_sign_function`, the Rust library's `test_sign`); it publishes
no `v1a` vector, so `v1a` is held to RFC 8032's Ed25519 test vectors (the key pair of its TEST 1,
whose signature of the empty message is published) in the spec's `whpk_`/`whsk_` form. The
reference library (`standardwebhooks` on PyPI) checks only `v1`: it ignores `v1a` entries, so it
is compared with the SDK on `v1`, and the SDK's own `v1a` check is shown to take what it ignores.
"""

from __future__ import annotations

import base64
import datetime
import time

import pytest
import standardwebhooks
from delivery_support import body_of, new_key_pair, new_secret, signed

from cxpa_sdk import DeliveryVerificationError, InMemorySeenDeliveries, InvalidArgumentError, verify_delivery
from cxpa_sdk._runtime import _delivery, _signing

# (secret, webhook-id, webhook-timestamp, body, the published v1 signature)
V1_VECTORS = [
    (  # standard-webhooks, libraries/python/tests/test_webhooks.py::test_sign_function (and the JS, Go, PHP suites)
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        b'{"test": 2432232314}',
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ),
    (  # standard-webhooks, libraries/rust/src/lib.rs::test_sign
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        b'{"email":"test@example.com","username":"test_user"}',
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    ),
]
# RFC 8032, section 7.1, TEST 1: the secret key (seed), its public key, and its signature of the empty message.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_EMPTY_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
WHSK = "whsk_" + base64.b64encode(RFC8032_SEED).decode()
WHPK = "whpk_" + base64.b64encode(RFC8032_PUBLIC).decode()


@pytest.mark.parametrize("vector", V1_VECTORS, ids=["python-suite", "rust-suite"])
def test_the_published_v1_vectors_verify_and_are_what_the_platform_signs(vector: tuple[str, ...]) -> None:
    """Each published v1 vector passes the signature check, and the local platform's signer makes exactly it."""
    secret, delivery_id, timestamp, body, expected = vector
    content = _signing.signed_content(delivery_id, timestamp, body)
    trusted = _signing.trusted_keys(secret, ())
    assert _signing.signed_by(content, _signing.signatures_of(expected, delivery_id), trusted)
    assert _signing.signature_header(content, _signing.signing_keys(secret)) == expected
    changed = _signing.signed_content(delivery_id, timestamp, body + b" ")
    assert not _signing.signed_by(changed, _signing.signatures_of(expected, delivery_id), trusted)


@pytest.mark.parametrize("vector", V1_VECTORS, ids=["python-suite", "rust-suite"])
def test_a_published_vector_passes_every_check_before_the_payload(vector: tuple[str, ...]) -> None:
    """At the vector's own time, the whole verification passes until the body, which is no runtime payload."""
    secret, delivery_id, timestamp, body, expected = vector
    headers = {"webhook-id": delivery_id, "webhook-timestamp": timestamp, "webhook-signature": expected}
    keys = _signing.trusted_keys(secret, ())
    with pytest.raises(InvalidArgumentError, match="trigger payload"):  # signature and timestamp passed
        _delivery.verified(
            body, headers, keys, tolerance=300, seen=InMemorySeenDeliveries(), now=lambda: float(timestamp)
        )
    with pytest.raises(DeliveryVerificationError, match="timestamp"):  # today it is years old
        verify_delivery(body, headers, secrets=secret)


def test_the_rfc8032_key_pair_in_the_spec_format_checks_v1a() -> None:
    """RFC 8032 TEST 1 in whpk_/whsk_ form: its published signature verifies, and deliveries it signs verify."""
    public = _signing.public_key(WHPK, "public_keys[0]")
    assert _signing._ed25519_verifies(public, RFC8032_EMPTY_SIGNATURE, b"")
    assert not _signing._ed25519_verifies(public, RFC8032_EMPTY_SIGNATURE, b"x")
    (signer,) = _signing.signing_keys(WHSK)
    assert _signing.public_keys_of([signer]) == [WHPK]
    assert signer.sign(b"") == RFC8032_EMPTY_SIGNATURE  # type: ignore[union-attr]  # Ed25519 is deterministic
    body = body_of()
    delivery_id, timestamp = "msg_rfc8032", str(int(time.time()))
    header = _signing.signature_header(_signing.signed_content(delivery_id, timestamp, body), [signer])
    headers = {"webhook-id": delivery_id, "webhook-timestamp": timestamp, "webhook-signature": header}
    assert verify_delivery(body, headers, public_keys=WHPK, seen=InMemorySeenDeliveries())
    # The 64-byte libsodium form of the same key (seed, then public key) signs alike.
    (long_form,) = _signing.signing_keys("whsk_" + base64.b64encode(RFC8032_SEED + RFC8032_PUBLIC).decode())
    assert long_form.sign(b"") == RFC8032_EMPTY_SIGNATURE  # type: ignore[union-attr]


def test_what_the_reference_library_signs_is_taken() -> None:
    """A delivery signed by `standardwebhooks.Webhook.sign` passes verify_delivery."""
    secret = new_secret()
    body = body_of()
    delivery_id, now = "msg_reference", datetime.datetime.now(datetime.UTC)
    signature = standardwebhooks.Webhook(secret).sign(delivery_id, now, body.decode())
    headers = {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert verify_delivery(body, headers, secrets=secret, seen=InMemorySeenDeliveries())


def test_what_the_platform_signs_passes_the_reference_library() -> None:
    """The platform's v1 entry passes `standardwebhooks.Webhook.verify`, which skips the v1a entry beside it."""
    secret = new_secret()
    _, whsk, whpk = new_key_pair()
    body = body_of()
    delivery_id, timestamp = "msg_platform", str(int(time.time()))
    keys = _signing.signing_keys([whsk, secret])  # v1a first: the library must skip it
    header = _signing.signature_header(_signing.signed_content(delivery_id, timestamp, body), keys)
    headers = {"webhook-id": delivery_id, "webhook-timestamp": timestamp, "webhook-signature": header}
    assert standardwebhooks.Webhook(secret).verify(body.decode(), headers)["runId"] == "run_delivered"
    assert verify_delivery(body, headers, public_keys=whpk, seen=InMemorySeenDeliveries())


def test_the_reference_library_ignores_v1a_and_the_sdk_does_not() -> None:
    """A v1a-only delivery: the reference library refuses it (it has no v1), the SDK checks it with the public key."""
    key, _, whpk = new_key_pair()
    body = body_of()
    headers = signed(body, keys=(key,))
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(body.decode(), headers)
    assert verify_delivery(body, headers, public_keys=whpk, seen=InMemorySeenDeliveries())
