"""Verifying a delivery to a runtime (Standard Webhooks headers) and reading its payload: `verify_delivery`.

The checks, in order: the headers' form (`unsigned`, `malformed`), a signature by a trusted key
(`signature`), the timestamp within the tolerance either way (`timestamp`), the payload itself
(InvalidArgumentError), and last the `webhook-id` not seen before (`replayed`), so that only a
delivery that passed everything else is remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .. import _config as check
from .._errors import DeliveryVerificationError, InvalidArgumentError, InvalidArgumentTypeError
from ..types import CancelPayload, ResumePayload, TriggerPayload
from ..types import parse_runtime_payload as parse_payload
from ._seen import InMemorySeenDeliveries, SeenDeliveries
from ._signing import TrustedKeys, signatures_of, signed_by, signed_content, trusted_keys

DEFAULT_TOLERANCE_S = 300.0
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_TIMESTAMP_DIGITS = 12
Headers = Mapping[str, str] | Iterable[tuple[str, str]]
"""A request's headers: a mapping (a framework's headers object, a dict) or (name, value) pairs."""
Payload = TriggerPayload | ResumePayload | CancelPayload

_SEEN = InMemorySeenDeliveries()  # the process's store when a caller brings none


def verify_delivery(
    body: bytes,
    headers: Headers,
    *,
    secrets: str | Sequence[str] = (),
    public_keys: str | Sequence[str] = (),
    tolerance: float = DEFAULT_TOLERANCE_S,
    seen: SeenDeliveries | None = None,
) -> TriggerPayload | ResumePayload | CancelPayload:
    """Verify a delivery to a runtime's URL and read its payload: a TriggerPayload, ResumePayload or CancelPayload.

    The platform signs what it POSTs to a runtime with the Standard Webhooks headers (`webhook-id`,
    `webhook-timestamp`, `webhook-signature`). This checks, over the body's bytes as received (never
    decoded and encoded again): a `v1` (HMAC-SHA256) signature by one of `secrets` or a `v1a`
    (Ed25519) one by one of `public_keys`, each compared in constant time, every key tried (two
    active keys rotate without a refused delivery); the timestamp within `tolerance` seconds of this
    machine's clock, either way; and the `webhook-id` not seen before within twice the tolerance.
    Answer 401 on `DeliveryVerificationError`, 400 on `InvalidArgumentError`, else 2xx.

    Examples:
        >>> payload = verify_delivery(                                     # doctest: +SKIP
        ...     await request.body(), request.headers, secrets=os.environ["CXPA_SIGNING_SECRET"]
        ... )

    Args:
        body: The request body's raw bytes, exactly as received.
        headers: The request's headers (any mapping, such as a framework's, or (name, value) pairs).
        secrets: The `whsec_` secrets to trust (v1): one str (several separated by commas or spaces,
            as an environment variable holds them) or a sequence. Never shown.
        public_keys: The `whpk_` Ed25519 public keys to trust (v1a; needs the `signing` extra).
        tolerance: How far the delivery's timestamp may be from this machine's clock, in seconds
            (default 300, either way).
        seen: Where taken delivery ids are kept (default: one `InMemorySeenDeliveries` per process);
            share one between processes to refuse a replay whichever it reaches.

    Raises:
        DeliveryVerificationError: The delivery is unsigned, malformed, signed by no trusted key,
            too old or too new, or replayed (`check` says which).
        InvalidArgumentError: No key was given, a key is not a key, or the body is no payload.
    """
    keys = trusted_keys(secrets, public_keys)
    if not keys:
        raise InvalidArgumentError("verify_delivery needs secrets= (whsec_) or public_keys= (whpk_) to trust")
    return verified(
        body, headers, keys, tolerance=check.seconds(tolerance, "tolerance"), seen=seen_store(seen), now=time.time
    )


def parse_runtime_payload(
    payload: bytes | str | Mapping[str, Any],
    *,
    headers: Headers | None = None,
    secrets: str | Sequence[str] = (),
    public_keys: str | Sequence[str] = (),
    tolerance: float = DEFAULT_TOLERANCE_S,
    seen: SeenDeliveries | None = None,
) -> TriggerPayload | ResumePayload | CancelPayload:
    """Read what the platform POSTed to a runtime's URL, by its `type`; verified first when given keys.

    A ResumePayload when `type` is `resumed`, a CancelPayload when it is `cancelled`, a
    TriggerPayload when there is no `type` (the seed's trigger payload has none). Any other `type`
    (another word, another case, a number, null) is refused: it is no payload this SDK knows, and
    taking it for a trigger would start the run's work again.

    Given `secrets` or `public_keys`, the delivery is verified as `verify_delivery` does (`payload`
    must then be the body's raw bytes, and `headers` the request's): a delivery without a signature
    is refused. Given no keys, anything is read unverified (`headers` are not looked at): anyone who
    can reach the runtime's URL could then start, resume or cancel its runs' work.

    Raises:
        DeliveryVerificationError: Keys were given and the delivery failed a check (`check` says which).
        InvalidArgumentError: The payload is not JSON, has an unknown `type`, or is not the payload
            its `type` says; the message names the field.
    """
    keys = trusted_keys(secrets, public_keys)
    if not keys:
        return parse_payload(payload)
    return verified(
        payload,
        headers or {},
        keys,
        tolerance=check.seconds(tolerance, "tolerance"),
        seen=seen_store(seen),
        now=time.time,
    )


def seen_store(seen: object) -> SeenDeliveries:
    """The store of taken delivery ids: the one given (it must have `first_time`), else the process's."""
    if seen is None:
        return _SEEN
    if not callable(getattr(seen, "first_time", None)):
        raise InvalidArgumentTypeError(
            f"seen must be a SeenDeliveries (an object with first_time(delivery_id, *, ttl)), not {type(seen).__name__}"
        )
    return seen  # type: ignore[return-value]  # checked above: it has the one method the protocol asks for


def verified(
    body: object,
    headers: object,
    keys: TrustedKeys,
    *,
    tolerance: float,
    seen: SeenDeliveries,
    now: Callable[[], float],
) -> Payload:
    """The payload of a delivery that passed every check (see the module's docstring for their order)."""
    if not isinstance(body, bytes | bytearray):
        raise InvalidArgumentTypeError(
            f"a delivery is verified over its raw body: pass the bytes as received, not a {type(body).__name__}"
        )
    raw = bytes(body)
    delivery_id, timestamp, signature = _signature_headers(headers)
    signatures = signatures_of(signature, delivery_id)
    if not signed_by(signed_content(delivery_id, timestamp, raw), signatures, keys):
        why = "no signature by a trusted key (a changed body, another key, or none of ours)"
        raise _refused("signature", why, delivery_id)
    age = now() - int(timestamp)
    if abs(age) > tolerance:
        when = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s ahead"
        raise _refused("timestamp", f"its timestamp is {when}, over the tolerance of {tolerance:g} s", delivery_id)
    payload = parse_payload(raw)
    if not seen.first_time(delivery_id, ttl=2 * tolerance):
        raise _refused("replayed", f"webhook-id {delivery_id} was taken before", delivery_id)
    return payload


def _refused(kind: str, why: str, delivery_id: str | None) -> DeliveryVerificationError:
    return DeliveryVerificationError(f"delivery refused ({kind}): {why}", check=kind, delivery_id=delivery_id)


def _header_lists(headers: object) -> dict[str, list[str]]:
    """Every value of the three webhook headers, by lower-cased name (a repeat is kept, to be refused)."""
    if isinstance(headers, Mapping):
        items: Iterable[Any] = headers.items()
    elif isinstance(headers, Iterable) and not isinstance(headers, str | bytes):
        items = headers
    else:
        kind = type(headers).__name__
        raise InvalidArgumentTypeError(f"headers must be a mapping or (name, value) pairs, not {kind}")
    found: dict[str, list[str]] = {}
    for item in items:
        name, value = item if isinstance(item, tuple) and len(item) == 2 else (None, None)
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidArgumentTypeError("headers must map str names to str values, or be (name, value) pairs of str")
        if name.lower() in HEADERS:
            found.setdefault(name.lower(), []).append(value)
    return found


def _signature_headers(headers: object) -> tuple[str, str, str]:
    """The delivery's id, timestamp and signature header, each once and in its form; else `unsigned` or `malformed`."""
    found = _header_lists(headers)
    if "webhook-signature" not in found:
        raise _refused("unsigned", "it has no webhook-signature header, and this runtime trusts signing keys", None)
    for name in HEADERS:
        values = found.get(name, [])
        if len(values) != 1:
            raise _refused("malformed", f"{name} is {'absent' if not values else 'repeated'}", None)
    id_value, timestamp, signature = (found[name][0] for name in HEADERS)
    try:
        delivery_id = check.run_id(id_value, "webhook-id")
    except (InvalidArgumentError, InvalidArgumentTypeError) as exc:
        raise _refused("malformed", str(exc), None) from None
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        why = f"webhook-timestamp must be whole seconds since 1970, got {timestamp[:40]!r}"
        raise _refused("malformed", why, delivery_id)
    if not (signature.isascii() and signature.isprintable()):
        raise _refused("malformed", "webhook-signature holds characters outside printable ASCII", delivery_id)
    return delivery_id, timestamp, signature
