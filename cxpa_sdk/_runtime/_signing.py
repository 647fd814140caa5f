"""Standard Webhooks signatures of a delivery: the keys (`whsec_`, `whpk_`, `whsk_`), signing, and checking.

Pure: no clock, no I/O. `v1` is HMAC-SHA256 from the standard library; `v1a` is Ed25519 through
`cryptography` (the `signing` extra), imported only when a `whpk_` or `whsk_` key is used. No key
ever shows in a repr or a message: an error names the key by its place (`secrets[1]`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

from .._errors import DeliveryVerificationError, InvalidArgumentError, InvalidArgumentTypeError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
PUBLIC_KEY_PREFIX = "whpk_"
SIGNING_KEY_PREFIX = "whsk_"
# The Standard Webhooks spec: a symmetric secret is 24 to 64 random bytes; an Ed25519 key is 32.
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
ED25519_KEY_BYTES = 32
SIGNATURE_BYTES = {"v1": 32, "v1a": 64}
# What one `webhook-signature` header may hold: a few active keys rotate; more is no platform's.
MAX_SIGNATURES = 16
MAX_SIGNATURE_HEADER = 4096
SIGNING_EXTRA = "pip install 'cxpa-sdk[signing]'"


class HmacSecret:
    """A `whsec_` secret (v1, HMAC-SHA256): signs and checks; its bytes never show."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "HmacSecret('***')"

    def digest(self, content: bytes) -> bytes:
        """The HMAC-SHA256 of `content`."""
        return hmac.new(self._key, content, hashlib.sha256).digest()


SigningKey: TypeAlias = "HmacSecret | Ed25519PrivateKey"
"""A key a platform signs with: a `whsec_` secret (v1) or a `whsk_` Ed25519 key (v1a)."""


class TrustedKeys:
    """What a runtime trusts: `whsec_` secrets (v1) and `whpk_` public keys (v1a). Never shown in repr."""

    __slots__ = ("public_keys", "secrets")

    def __init__(self, secrets: tuple[HmacSecret, ...], public_keys: tuple[Ed25519PublicKey, ...]) -> None:
        self.secrets = secrets
        self.public_keys = public_keys

    def __bool__(self) -> bool:
        return bool(self.secrets or self.public_keys)

    def __repr__(self) -> str:
        return f"TrustedKeys({len(self.secrets)} secrets, {len(self.public_keys)} public keys)"


def _ed25519() -> ModuleType:
    """The Ed25519 module of `cryptography`; InvalidArgumentError naming the extra when it is not installed."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: PLC0415 - only v1a keys need it
    except ImportError:
        raise InvalidArgumentError(
            f"v1a keys (whpk_, whsk_) are Ed25519 keys, which need the `cryptography` package: {SIGNING_EXTRA}"
        ) from None
    return ed25519


def key_list(value: object, argument: str) -> list[str]:
    """Keys as one str (several split by commas or whitespace, as an environment variable holds them) or a sequence."""
    if isinstance(value, str):
        return [key for key in re.split(r"[,\s]+", value) if key]
    if isinstance(value, Sequence) and all(isinstance(key, str) for key in value):
        return list(value)
    raise InvalidArgumentTypeError(f"{argument} must be a str or a sequence of str, not {type(value).__name__}")


def _key_bytes(text: str, prefix: str, where: str) -> bytes:
    """The bytes of a key: base64 after its prefix (padding optional). The error names `where`, never the key."""
    body = text[len(prefix) :]
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError(f"{where} is not base64 after {prefix} (its value is not shown)") from None


def _wrong_prefix(text: str, where: str, wanted: str) -> InvalidArgumentError:
    """The error for a key of the wrong kind, saying where that kind goes."""
    if text.startswith(SIGNING_KEY_PREFIX):
        hint = f"a {SIGNING_KEY_PREFIX} key signs (the platform keeps it): a runtime trusts its {PUBLIC_KEY_PREFIX} key"
    elif text.startswith(PUBLIC_KEY_PREFIX):
        hint = f"a {PUBLIC_KEY_PREFIX} key is an Ed25519 public key: pass it in public_keys"
    elif text.startswith(SECRET_PREFIX):
        hint = f"a {SECRET_PREFIX} key is an HMAC secret: pass it in secrets"
    else:
        hint = "its value is not shown"
    return InvalidArgumentError(f"{where} must start with {wanted} ({hint})")


def hmac_secret(text: str, where: str) -> HmacSecret:
    """A `whsec_` secret: 24 to 64 bytes, base64 after the prefix."""
    if not text.startswith(SECRET_PREFIX):
        raise _wrong_prefix(text, where, SECRET_PREFIX)
    key = _key_bytes(text, SECRET_PREFIX, where)
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidArgumentError(
            f"{where} holds {len(key)} bytes: a {SECRET_PREFIX} secret is {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES}"
        )
    return HmacSecret(key)


def public_key(text: str, where: str) -> Ed25519PublicKey:
    """A `whpk_` Ed25519 public key: 32 bytes, base64 after the prefix."""
    if not text.startswith(PUBLIC_KEY_PREFIX):
        raise _wrong_prefix(text, where, PUBLIC_KEY_PREFIX)
    raw = _key_bytes(text, PUBLIC_KEY_PREFIX, where)
    if len(raw) != ED25519_KEY_BYTES:
        raise InvalidArgumentError(f"{where} holds {len(raw)} bytes: a {PUBLIC_KEY_PREFIX} key is {ED25519_KEY_BYTES}")
    key: Ed25519PublicKey = _ed25519().Ed25519PublicKey.from_public_bytes(raw)
    return key


def signing_key(text: str, where: str) -> Ed25519PrivateKey:
    """A `whsk_` Ed25519 signing key: its 32-byte seed, or the seed then the public key (64 bytes, as libsodium's)."""
    raw = _key_bytes(text, SIGNING_KEY_PREFIX, where)
    if len(raw) not in (ED25519_KEY_BYTES, 2 * ED25519_KEY_BYTES):
        raise InvalidArgumentError(f"{where} holds {len(raw)} bytes: a {SIGNING_KEY_PREFIX} key is 32 or 64")
    key: Ed25519PrivateKey = _ed25519().Ed25519PrivateKey.from_private_bytes(raw[:ED25519_KEY_BYTES])
    if len(raw) == 2 * ED25519_KEY_BYTES and _raw_public(key) != raw[ED25519_KEY_BYTES:]:
        raise InvalidArgumentError(f"{where}: its second half is not the public key of its first")
    return key


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415 - v1a only

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_keys_of(keys: Sequence[SigningKey]) -> list[str]:
    """The `whpk_` public keys of the `whsk_` keys among `keys`: what a runtime trusts to check v1a signatures."""
    return [
        PUBLIC_KEY_PREFIX + base64.b64encode(_raw_public(key)).decode()
        for key in keys
        if not isinstance(key, HmacSecret)
    ]


def trusted_keys(secrets: object, public_keys: object) -> TrustedKeys:
    """The keys a runtime checks deliveries with, checked now (InvalidArgumentError names which, never its value)."""
    return TrustedKeys(
        tuple(hmac_secret(key, f"secrets[{i}]") for i, key in enumerate(key_list(secrets, "secrets"))),
        tuple(public_key(key, f"public_keys[{i}]") for i, key in enumerate(key_list(public_keys, "public_keys"))),
    )


def signing_keys(keys: object, argument: str = "signing_secret") -> tuple[SigningKey, ...]:
    """The keys a platform signs deliveries with: `whsec_` (v1) and `whsk_` (v1a), one str or a sequence."""
    found: list[SigningKey] = []
    for i, text in enumerate(key_list(keys, argument)):
        where = f"{argument}[{i}]"
        if text.startswith(SIGNING_KEY_PREFIX):
            found.append(signing_key(text, where))
        elif text.startswith(SECRET_PREFIX):
            found.append(hmac_secret(text, where))
        else:
            raise InvalidArgumentError(
                f"{where} must start with {SECRET_PREFIX} (v1, HMAC) or {SIGNING_KEY_PREFIX} (v1a, Ed25519); "
                "its value is not shown"
            )
    return tuple(found)


def signed_content(delivery_id: str, timestamp: str, body: bytes) -> bytes:
    """What is signed: `{webhook-id}.{webhook-timestamp}.{body}`, the body's bytes as sent."""
    return f"{delivery_id}.{timestamp}.".encode() + body


def signature_header(content: bytes, keys: Sequence[SigningKey]) -> str:
    """The `webhook-signature` value: one `v1,` or `v1a,` entry per key, space-separated."""
    entries = []
    for key in keys:
        if isinstance(key, HmacSecret):
            entries.append("v1," + base64.b64encode(key.digest(content)).decode())
        else:
            entries.append("v1a," + base64.b64encode(key.sign(content)).decode())
    return " ".join(entries)


def signatures_of(header: str, delivery_id: str | None) -> list[tuple[str, bytes]]:
    """The `(version, signature)` entries of a `webhook-signature` value; entries of versions unknown here are skipped.

    Raises:
        DeliveryVerificationError: check `malformed`: too long, too many entries, an entry that is
            not `version,base64`, or a v1 or v1a signature that is not base64 of its length.
    """

    def malformed(why: str) -> DeliveryVerificationError:
        return DeliveryVerificationError(
            f"delivery refused (malformed): webhook-signature {why}", check="malformed", delivery_id=delivery_id
        )

    if len(header) > MAX_SIGNATURE_HEADER:
        raise malformed(f"is {len(header)} characters, over {MAX_SIGNATURE_HEADER}")
    entries = [entry for entry in header.split(" ") if entry]
    if not entries:
        raise malformed("holds no signature")
    if len(entries) > MAX_SIGNATURES:
        raise malformed(f"holds {len(entries)} signatures, over {MAX_SIGNATURES}")
    found = []
    for entry in entries:
        version, comma, encoded = entry.partition(",")
        if not comma or not version or not encoded:
            raise malformed("has an entry that is not `version,base64`")
        if version not in SIGNATURE_BYTES:
            continue  # another scheme (a later version): not ours to judge, and never trusted
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise malformed(f"has a {version} entry that is not base64") from None
        if len(signature) != SIGNATURE_BYTES[version]:
            raise malformed(f"has a {version} entry of {len(signature)} bytes, not {SIGNATURE_BYTES[version]}")
        found.append((version, signature))
    return found


def signed_by(content: bytes, signatures: Sequence[tuple[str, bytes]], keys: TrustedKeys) -> bool:
    """Whether any signature is by any trusted key: every pair is checked, each HMAC compared in constant time."""
    trusted = False
    expected = [secret.digest(content) for secret in keys.secrets]
    for version, signature in signatures:
        if version == "v1":
            for digest in expected:
                trusted |= hmac.compare_digest(digest, signature)
        else:
            for key in keys.public_keys:
                trusted |= _ed25519_verifies(key, signature, content)
    return trusted


def _ed25519_verifies(key: Ed25519PublicKey, signature: bytes, content: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 - v1a only

    try:
        key.verify(signature, content)
    except InvalidSignature:
        return False
    return True
