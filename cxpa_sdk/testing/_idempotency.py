"""Idempotency-Key records: the same key and body (one JSON value) replays the first answer instead of acting again."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field

from ._errors import ApiError, conflict

TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept for replay: status, JSON body bytes and the headers worth repeating."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Record:
    fingerprint: str
    created: float
    answer: StoredAnswer | None = None


def principal_of(authorization: str) -> str:
    """Whose records a request claims: a digest of its whole `Authorization` header (keys are per caller)."""
    return hashlib.sha256(authorization.encode()).hexdigest()


def final(error: ApiError) -> bool:
    """Whether an error answer is final (replayed for the same key) or retryable (the key is freed)."""
    return error.run_id is not None or (error.status < 500 and error.status != 429)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What must match for a replay: the method, the path and the body's JSON value (`canonical_body`)."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), canonical_body(body)])).hexdigest()


def canonical_body(body: bytes) -> bytes:
    """A body as the contract compares it: its JSON value, whatever its key order, whitespace or escapes.

    The JSON is read and written again with sorted keys and no whitespace; a number is compared by its
    value (`1`, `1.0` and `1e0` are one number). A body that is not JSON (a cancel's, usually empty)
    is compared byte for byte.
    """
    try:
        value = json.loads(body, parse_float=_number)
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        return body


def _number(text: str) -> int | float:
    """A JSON number written with a fraction or an exponent, as an int when its value is whole (`2.0` is `2`)."""
    value = float(text)
    return int(value) if value.is_integer() else value


class IdempotencyStore:
    """Records by (principal, key); thread-safe; records expire after 24 hours."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], _Record] = {}

    def begin(self, principal: str, key: str, print_: str) -> StoredAnswer | None:
        """Claim a key: the answer to replay, or None when the caller must act (the key is now in progress).

        Raises:
            ApiError: 422 `idempotency_key_reused` for another body; 409 `idempotency_in_progress`
                while the first request with the key is still being handled.
        """
        moment = time.monotonic()
        with self._lock:
            record = self._records.get((principal, key))
            if record is not None and moment - record.created > TTL_SECONDS:
                record = None
            if record is None:
                self._records[(principal, key)] = _Record(print_, moment)
                return None
            if record.fingerprint != print_:
                raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with another request body")
            if record.answer is None:
                raise conflict("idempotency_in_progress", "a request with this Idempotency-Key is still in progress")
            return record.answer

    def finish(self, principal: str, key: str, answer: StoredAnswer | None) -> None:
        """Keep the answer for replays, or forget the key (None: the request may be tried again)."""
        with self._lock:
            if answer is None:
                self._records.pop((principal, key), None)
            elif (record := self._records.get((principal, key))) is not None:
                record.answer = answer
