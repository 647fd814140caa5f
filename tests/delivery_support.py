"""Signing deliveries the way a Standard Webhooks sender does, written from the spec (not from the SDK's signer)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

TRIGGER: dict[str, Any] = {
    "runId": "run_delivered",
    "agentId": 7,
    "input": {"topic": "Q3"},
    "agentApiKey": "cxpa_agent_SECRET_KEY_1",
    "credentialsToken": "ctok_SECRET_TOKEN_1",
}


def new_secret(size: int = 32) -> str:
    """A fresh `whsec_` secret of `size` random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(size)).decode()


def new_key_pair() -> tuple[Ed25519PrivateKey, str, str]:
    """A fresh Ed25519 key, its `whsk_` form (the 32-byte seed) and its `whpk_` public key."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return key, "whsk_" + base64.b64encode(seed).decode(), "whpk_" + base64.b64encode(public).decode()


def v1(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """A `v1,` entry: base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def v1a(key: Ed25519PrivateKey, delivery_id: str, timestamp: str, body: bytes) -> str:
    """A `v1a,` entry: base64 Ed25519 signature of `id.timestamp.body`."""
    return "v1a," + base64.b64encode(key.sign(f"{delivery_id}.{timestamp}.".encode() + body)).decode()


def body_of(payload: dict[str, Any] | None = None) -> bytes:
    """A payload as the platform sends it (compact JSON)."""
    return json.dumps(payload or TRIGGER, separators=(",", ":")).encode()


def signed(
    body: bytes,
    *,
    secrets: tuple[str, ...] = (),
    keys: tuple[Ed25519PrivateKey, ...] = (),
    delivery_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers of `body`, signed by every secret and key given."""
    delivery_id = delivery_id or "msg_" + os.urandom(8).hex()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    entries = [v1(s, delivery_id, stamp, body) for s in secrets] + [v1a(k, delivery_id, stamp, body) for k in keys]
    return {"webhook-id": delivery_id, "webhook-timestamp": stamp, "webhook-signature": " ".join(entries)}
