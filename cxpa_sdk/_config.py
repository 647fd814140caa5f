"""Settings and argument checks: explicit argument > CXPA_* environment variable > default.

Every check runs before anything is sent and raises an InvalidArgumentError (a ValueError) or an
InvalidArgumentTypeError (a TypeError) that names the argument.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ._errors import InvalidArgumentError, InvalidArgumentTypeError, MissingConfigError

ENV_API_URL = "CXPA_API_URL"
ENV_INGEST_KEY = "CXPA_INGEST_KEY"
MAX_BODY_BYTES = 1 << 20
# Canonical JSON (docs/errors.md, "Idempotency"): keys sorted, compact, UTF-8, no NaN or Infinity,
# so that equal JSON built in another key order is the same body. One encoder for every call:
# json.dumps with options builds a new one each time.
_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
MAX_ID_LENGTH = 128
MAX_AGENT_ID = 2**63 - 1
# The longest duration any option takes (a timeout, a deadline, a wait): a year, in seconds. Longer is
# a mistake (10**400 ms overflows a float), and every clock and sleep handles it.
MAX_SECONDS = 366 * 86400


def setting(value: str | None, argument: str, env_var: str) -> str:
    """An explicit value, else the environment variable; MissingConfigError naming both when neither is set."""
    if value is None:
        value = os.environ.get(env_var) or None
    if value is None:
        raise MissingConfigError(argument, env_var)
    return value


def require(*settings: tuple[str, str | None, str]) -> None:
    """MissingConfigError naming every `(argument, value, env_var)` with neither a value nor its variable set.

    Checked before any one setting is read, so that one error names them all (not one per try).
    """
    missing = [
        (argument, env_var) for argument, value, env_var in settings if value is None and not os.environ.get(env_var)
    ]
    if missing:
        raise MissingConfigError(*missing[0], also=missing[1:])


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


INSECURE_HINT = "pass allow_insecure=True"
"""How a caller of the library allows plain http to another host (the CLI names its flag instead)."""


def base_url(value: str | None, *, allow_insecure: bool = False, insecure_hint: str = INSECURE_HINT) -> str:
    """The platform's base URL, checked: http(s), a host, and https unless the host is loopback.

    `insecure_hint` says how to allow plain http to another host, in the caller's terms.
    """
    url = setting(value, "base_url", ENV_API_URL)
    if not isinstance(url, str):
        raise InvalidArgumentTypeError(f"base_url must be a str, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(f"base_url must be an http:// or https:// URL with a host, got {url[:100]!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidArgumentError("base_url must not carry a query, a fragment or credentials")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure:
        raise InvalidArgumentError(
            f"base_url {url[:100]!r} is plain http to a host that is not this machine: keys would travel "
            f"unencrypted. Use https://, or {insecure_hint} if you really mean it."
        )
    return url.rstrip("/")


class Secret(str):
    """A key or token: the str itself, whose repr is `'***'` (tracebacks formatted with locals show reprs)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def secret(value: object, argument: str) -> Secret:
    """A key or token: a non-empty str that can travel in a header (no control characters)."""
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(f"{argument} must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgumentError(f"{argument} must not be empty")
    if not value.isascii() or not value.isprintable() or value != value.strip():
        raise InvalidArgumentError(f"{argument} contains characters a header can't carry (its value is not shown)")
    return Secret(value)


def agent_id(value: object) -> int:
    """An agent id: an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(f"agent_id must be an int, not {type(value).__name__}")
    if not 1 <= value <= MAX_AGENT_ID:
        raise InvalidArgumentError(f"agent_id must be a positive integer, got {value}")
    return value


def text(value: object, argument: str, max_length: int, what: str = "") -> str:
    """A non-empty str of at most `max_length` characters (`what` names the rule in the error)."""
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(f"{argument} must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgumentError(f"{argument} must not be empty")
    if len(value) > max_length:
        raise InvalidArgumentError(f"{argument} must be at most {max_length} characters{what}, got {len(value)}")
    return value


def identifier(value: object, argument: str, max_length: int = MAX_ID_LENGTH) -> str:
    """An opaque id (connection, external run, token id): a non-empty str without control characters."""
    found = text(value, argument, max_length)
    if not found.isprintable():
        raise InvalidArgumentError(f"{argument} must not contain control characters, got {found[:40]!r}")
    if found in (".", ".."):
        raise InvalidArgumentError(f"{argument} must not be {found!r}")
    return found


MAX_CURSOR_LENGTH = 256


def _visible_ascii(value: object, argument: str, max_length: int, rule: str) -> str:
    """A str of 1 to `max_length` visible ASCII characters (0x21 to 0x7E): no space, control or non-ASCII."""
    found = text(value, argument, max_length, f" ({rule})")
    if not (found.isascii() and found.isprintable() and " " not in found):
        raise InvalidArgumentError(
            f"{argument} must be visible ASCII characters only ({rule}: no space, control or non-ASCII "
            f"character), got {found[:40]!r}"
        )
    return found


def run_id(value: object, argument: str = "run_id") -> str:
    """A run id by the id rule (openapi.yaml's RunIdentifier): 1 to 128 visible ASCII characters, not `.` or `..`.

    The same rule refuses a run id the platform sends (`is_run_id`), so an id accepted once is
    accepted everywhere, and none can change the path it is placed in.
    """
    found = _visible_ascii(value, argument, MAX_ID_LENGTH, "the run id rule")
    if found in (".", ".."):
        raise InvalidArgumentError(f"{argument} must not be {found!r} (a dot segment would change the path)")
    return found


MAX_TOKEN_LENGTH = 256


def token_id(value: object, argument: str = "token_id") -> str:
    """A waiting token's id by the id rule (openapi.yaml's TokenIdentifier): as a run id's, up to 256 characters.

    `waiting()` sends it and `resume_run` sends it back, so both check it alike: a token a run waits
    on can always be resumed.
    """
    found = _visible_ascii(value, argument, MAX_TOKEN_LENGTH, "the id rule")
    if found in (".", ".."):
        raise InvalidArgumentError(f"{argument} must not be {found!r}")
    return found


def cursor(value: object, argument: str = "after") -> str:
    """An events cursor by the cursor rule (openapi.yaml's Cursor): 1 to 256 visible ASCII characters."""
    return _visible_ascii(value, argument, MAX_CURSOR_LENGTH, "the cursor rule")


def is_run_id(value: object) -> bool:
    """Whether a value passes the run id rule (`run_id`), for what the platform sends."""
    try:
        run_id(value)
    except (InvalidArgumentError, InvalidArgumentTypeError):
        return False
    return True


def header_value(value: object, argument: str, max_length: int) -> str:
    """A value sent in a header as given (an Idempotency-Key): printable ASCII, no surrounding space."""
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(f"{argument} must be a str, not {type(value).__name__}")
    if not 1 <= len(value) <= max_length:
        raise InvalidArgumentError(f"{argument} must be 1 to {max_length} characters, got {len(value)}")
    if not value.isascii() or not value.isprintable() or value != value.strip():
        raise InvalidArgumentError(
            f"{argument} must be printable ASCII without leading or trailing spaces (it travels in a header), "
            f"got {value[:40]!r}"
        )
    return value


def positive_int(value: object, argument: str, maximum: int | None = None) -> int:
    """A positive int, such as max_answer_bytes, at most `maximum` when given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(f"{argument} must be an int, not {type(value).__name__}")
    if value < 1:
        raise InvalidArgumentError(f"{argument} must be positive, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidArgumentError(f"{argument} must be at most {maximum}, got {_short(value)}")
    return value


def milliseconds(value: object, argument: str) -> int:
    """A positive int of milliseconds, such as timeout_ms, at most a year."""
    return positive_int(value, argument, MAX_SECONDS * 1000)


def non_negative_int(value: object, argument: str) -> int:
    """An int >= 0, such as outputs."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(f"{argument} must be an int, not {type(value).__name__}")
    if value < 0:
        raise InvalidArgumentError(f"{argument} must not be negative, got {value}")
    return value


def _short(number: int | float) -> str:
    """A number as text, huge ints shortened (str() of a 5000-digit int raises ValueError)."""
    if isinstance(number, int) and abs(number) > 10**30:
        return f"an int of {number.bit_length()} bits"
    return repr(number)


def seconds(value: object, argument: str) -> float:
    """A positive, finite number of seconds, at most a year (MAX_SECONDS)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentTypeError(f"{argument} must be a number of seconds, not {type(value).__name__}")
    if not (0 < value <= MAX_SECONDS) or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidArgumentError(
            f"{argument} must be a positive number of seconds, at most {MAX_SECONDS} (a year), got {_short(value)}"
        )
    return float(value)


def json_object(value: object, argument: str = "input") -> Mapping[str, Any]:
    """A JSON object: a Mapping (whether its values serialise is checked by `encode_body`)."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentTypeError(f"{argument} must be a mapping (a JSON object), not {type(value).__name__}")
    return value


def encode_body(body: Mapping[str, Any]) -> bytes:
    """A request body as canonical JSON (`canonical_json`), refused before sending when over the platform's 1 MiB.

    The error names the body's fields (`input`, `output`, ...) so the caller knows which argument to fix.
    """
    try:
        data = canonical_json(body).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"{', '.join(body)} must be JSON-serialisable: {exc}") from None
    except RecursionError:
        raise InvalidArgumentError(f"{', '.join(body)} is nested too deeply to serialise") from None
    if len(data) > MAX_BODY_BYTES:
        raise InvalidArgumentError(
            f"the request body would be {len(data)} bytes, over the platform's limit of {MAX_BODY_BYTES} bytes"
        )
    return data


def canonical_json(value: Any) -> str:
    """`value` as canonical JSON text: every object's keys sorted, no whitespace, UTF-8 as is, no NaN or Infinity.

    Equal JSON gives equal text whatever the key order, so a body rebuilt in another order after a
    crash is the same body under its Idempotency-Key. Keys sort as Python compares them: str keys
    (those of any decoded JSON) by code point, a mapping's keys that are all numbers by number. A
    mapping that mixes str and other keys can't be sorted so: it is encoded, read back (every key
    now a str) and encoded again, at about three times the cost.

    Raises:
        TypeError: Something in `value` is not JSON-serialisable.
        ValueError: A float is NaN or infinite, or a str holds a lone surrogate.
    """
    try:
        return _JSON.encode(value)
    except TypeError:
        as_strings = json.loads(json.dumps(value, allow_nan=False))  # the TypeError again when not JSON at all
        return _JSON.encode(as_strings)
