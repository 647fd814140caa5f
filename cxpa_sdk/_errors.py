"""The exception tree of cxpa_sdk, and the one place where HTTP answers and httpx errors become it.

    CxpaError
    ├── APIConnectionError            no HTTP answer (connection refused, reset, dropped)
    │   └── APITimeoutError           a connect, read, write or pool timeout, or the call's deadline
    ├── APIStatusError                the platform answered an error status
    │   ├── BadRequestError               400
    │   ├── AuthenticationError           401
    │   ├── PermissionDeniedError         403
    │   ├── NotFoundError                 404
    │   ├── ConflictError                 409
    │   │   └── RunCancelledError         409 run_cancelled: a runtime's run was cancelled; stop its work
    │   ├── PayloadTooLargeError          413
    │   ├── UnprocessableEntityError      422
    │   ├── RateLimitError                429
    │   └── InternalServerError           5xx
    ├── InvalidResponseError          the answer is not what openapi.yaml allows
    ├── WaitTimeoutError              a run did not end before the wait's deadline
    ├── RunFailedError                a helper that demands success saw the run fail or be cancelled
    ├── IncompleteDownloadError       a download ended before all its bytes arrived
    ├── DownloadTooLargeError         a download is larger than the caller's max_bytes
    ├── LocalFileError                a download arrived but could not be written (a folder, a disk)
    ├── DownloadConsumedError         a download's body was read a second time (also RuntimeError)
    ├── DeliveryVerificationError     a delivery to a runtime failed verification (`check` names which)
    ├── InvalidArgumentError          a bad argument, caught before anything is sent (also ValueError)
    │   └── MissingConfigError        no base URL or key given, nor in the environment
    └── InvalidArgumentTypeError      an argument of the wrong type (also TypeError)

Every error says how many attempts were made (`attempts`), carries the call's `idempotency_key`,
and says whether the request was applied (`applied`: True, False, or None when nobody can know;
`may_have_been_applied` is `applied is not False`). No error ever holds a key, a token or a
credential value: text that came from the server is scrubbed of the call's secrets (`scrub`).
"""

from __future__ import annotations

import copyreg
from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CxpaError",
    "DeliveryVerificationError",
    "DownloadConsumedError",
    "DownloadTooLargeError",
    "IncompleteDownloadError",
    "InternalServerError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidResponseError",
    "LocalFileError",
    "MissingConfigError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RunCancelledError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
]


class CxpaError(Exception):
    """The base of every error cxpa_sdk raises.

    Attributes:
        message: What went wrong, for a person.
        attempts: How many HTTP attempts the call made (0 when nothing was sent).
        idempotency_key: The call's Idempotency-Key, when it had one: a retry with it is safe.
        applied: True when the platform certainly applied the request (it answered 2xx, or said the
            run exists); False when it certainly did not (never sent, or refused with a 4xx in the
            platform's Error envelope); None when nobody can know (no answer, a 5xx, an answer that
            is not the platform's).
        run_id: The run the call concerned, once its id was known (None before): an error while
            waiting on a run that exists names it, so the run is never lost.
    """

    run_id: str | None = None

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        idempotency_key: str | None = None,
        applied: bool | None = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.idempotency_key = idempotency_key
        self.applied = applied

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state, not by calling the constructor again (so errors cross processes).

        BaseException's own `__reduce__` rebuilds an error as `cls(*args)`, which fails for
        keyword-only arguments; this one makes the object without `__init__` (`copyreg.__newobj__`,
        the class named by reference) and restores every attribute. Nothing here holds a secret.
        """
        # copyreg.__newobj__ is how pickle spells `cls.__new__(cls, *args)`; typeshed does not list it.
        return (copyreg.__newobj__, (type(self), *self.args), dict(self.__dict__))  # type: ignore[attr-defined]

    @property
    def may_have_been_applied(self) -> bool:
        """Whether the request may have been applied: `applied` is True or unknown (retry with the same key)."""
        return self.applied is not False

    def __str__(self) -> str:
        run = f", run {self.run_id}" if self.run_id and self.run_id not in self.message else ""
        return self._told() + run

    def _told(self) -> str:
        """The message with the attempts and the applied flag (what every subclass's str begins with)."""
        if self.attempts == 0:
            return self.message
        outcome = {True: "was applied", False: "was not applied", None: "may have been applied"}[self.applied]
        key = f"; Idempotency-Key {self.idempotency_key}" if self.idempotency_key else ""
        plural = "s" if self.attempts != 1 else ""
        return f"{self.message} ({self.attempts} attempt{plural}; the request {outcome}{key})"


class APIConnectionError(CxpaError):
    """No HTTP answer arrived: the connection failed, was reset, or was dropped.

    `applied` is False only when the request was certainly not sent (the connection was never
    made), True when a 2xx status arrived before the connection failed, and None otherwise.
    """


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout, or the call's overall deadline, passed."""


class APIStatusError(CxpaError):
    """The platform answered with an error status.

    Attributes:
        status_code: The HTTP status.
        code: The Error envelope's snake_case code, such as `run_finished`.
        request_id: The answer's X-Request-Id: quote it when reporting a problem.
        run_id: The run the error is about, when the platform named one.
        headers: The answer's headers, by lower-case name (a repeated header's values joined with
            ", "); empty for an error that had no answer of its own (an item of a batch trigger).
        body: The answer's body as it came (at most `max_answer_bytes`: a longer one is an
            InvalidResponseError), for what the message leaves out: `json.loads(error.body)` of an
            Error envelope, or a proxy's page. Any secret of the call a server echoed in the
            headers or the body is masked as `***`.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str,
        request_id: str | None = None,
        run_id: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.run_id = run_id
        self.headers: dict[str, str] = {} if headers is None else headers
        self.body = body

    def __str__(self) -> str:
        request = f", request {self.request_id}" if self.request_id else ""
        run = f", run {self.run_id}" if self.run_id else ""
        return f"{self.status_code} {self.code}: {self._told()}{run}{request}"


class BadRequestError(APIStatusError):
    """400: the request is malformed; the message names the field."""


class AuthenticationError(APIStatusError):
    """401: the key is missing or wrong, or the credentials token expired (`token_expired`)."""


class PermissionDeniedError(APIStatusError):
    """403: the key belongs to another agent or run."""


class NotFoundError(APIStatusError):
    """404: no such agent, run or credential connection."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the run's state (`run_finished`, `invalid_transition`, ...)."""


class RunCancelledError(ConflictError):
    """409 `run_cancelled`: the run a runtime reports on was cancelled; the runtime should stop its work.

    Raised by an AgentClient callback (`started`, `output`, `complete`, `fail`, `waiting`) once the
    run is cancelled (an extension of the seed's contract; a platform without it answers
    `run_finished`, a plain ConflictError). Nothing the runtime sends changes the run any more. A
    `with AgentClient` block that it leaves sends no `fail` (the run has ended) and re-raises it.
    It is a ConflictError, so code that catches ConflictError still catches it.

    Examples:
        >>> try:                                                        # doctest: +SKIP
        ...     agent.output({"page": 3})
        ... except RunCancelledError:
        ...     cleanup()  # stop: the run was cancelled
        ...     raise

    Attributes:
        run_id: The run that was cancelled.
    """


class PayloadTooLargeError(APIStatusError):
    """413: the request body is over 1 MiB."""


class UnprocessableEntityError(APIStatusError):
    """422: the Idempotency-Key was used before with another body."""


class RateLimitError(APIStatusError):
    """429: rate limited.

    Attributes:
        retry_after: The seconds the platform asked to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the platform failed (or, for 502 `run_failed` and 504 `wait_timeout`, the run did)."""


class InvalidResponseError(CxpaError):
    """The platform's answer is outside openapi.yaml (bad JSON, a missing field), or not about what was asked.

    Not about what was asked: another run's row, a wait's end that is no end, events that repeat.

    Attributes:
        status_code: The answer's HTTP status.
        request_id: The answer's X-Request-Id, when it had one.
        run_id: The run asked about, when the call named one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.status_code = status_code
        self.request_id = request_id
        self.run_id = run_id


class WaitTimeoutError(CxpaError):
    """A run did not end before the wait's deadline; it may still be running.

    Attributes:
        run_id: The run waited for.
        status: Its status when the wait gave up.
        cursor: For `run_events`, the cursor to resume from (`after=cursor`: the events after the
            last one yielded); None for other waits, or when no event was read.
        pending: For `as_completed` and `wait_all`, every run still going when the wait gave up, as
            `(agent_id, run_id)` pairs in the order given (`client.run(*pair)` is a handle on one);
            empty for other waits. `run_id` and `status` are the first of them.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: str,
        status: str,
        cursor: str | None = None,
        pending: tuple[tuple[int, str], ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.run_id: str = run_id  # never None here (CxpaError's is, before a run is known)
        self.status = status
        self.cursor = cursor
        self.pending = pending


class IncompleteDownloadError(CxpaError):
    """A download ended before all its bytes arrived; no partial file is left behind.

    Attributes:
        received: How many bytes arrived.
        expected: How many the Content-Length announced (None when unknown).
        run_id: The run that produced the file.
    """

    def __init__(self, message: str, *, received: int, expected: int | None, run_id: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.received = received
        self.expected = expected
        self.run_id: str = run_id  # never None here (CxpaError's is, before a run is known)


class DownloadTooLargeError(CxpaError):
    """A download is larger than the `max_bytes` the caller allowed; it was stopped and nothing was saved.

    Refused before its first byte when its Content-Length already says so, else as soon as the
    file's bytes pass the limit. The run happened (`applied` is True).

    Attributes:
        max_bytes: The limit the caller gave.
        received: How many of the file's bytes were read before it was stopped (0 when refused up front).
        expected: The size the Content-Length announced (None when unknown).
        run_id: The run that produced the file.
    """

    def __init__(
        self, message: str, *, max_bytes: int, received: int, expected: int | None, run_id: str, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.max_bytes = max_bytes
        self.received = received
        self.expected = expected
        self.run_id: str = run_id  # never None here (CxpaError's is, before a run is known)


class LocalFileError(CxpaError):
    """A download's file could not be written here: the run happened, nothing was left behind.

    A missing or read-only folder, a parent that is a file, a full disk. The run exists (`applied`
    is True); save again into a place that can take it, or read the run's output another way.

    Attributes:
        run_id: The run that produced the file.
        path: Where the SDK tried to write.
        errno: The operating system's error number (`errno.ENOSPC`, ...).
    """

    def __init__(self, message: str, *, run_id: str, path: str, errno: int | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.run_id: str = run_id  # never None here (CxpaError's is, before a run is known)
        self.path = path
        self.errno = errno


class DownloadConsumedError(CxpaError, RuntimeError):
    """A download's body can be read once; it was already read or closed."""


class DeliveryVerificationError(CxpaError):
    """A delivery to a runtime (a trigger, resume or cancel payload) failed verification: answer it 401.

    Raised by `verify_delivery`, and by `parse_runtime_payload` and `AgentClient.from_payload` when
    they are given keys. The message names the check that failed and why, never a key or a secret.

    Examples:
        >>> try:                                                        # doctest: +SKIP
        ...     payload = verify_delivery(body, headers, secrets=secrets)
        ... except DeliveryVerificationError as exc:
        ...     return Response(status_code=401)  # exc.check says which check failed

    Attributes:
        check: Which check failed: `unsigned` (no `webhook-signature`), `malformed` (a header absent,
            repeated, too long, not ASCII, or not in the Standard Webhooks format), `signature` (no
            signature by a trusted key), `timestamp` (older or newer than the tolerance), or
            `replayed` (its `webhook-id` was seen before).
        delivery_id: The delivery's `webhook-id`, once it passed the id rule (None before).
    """

    def __init__(self, message: str, *, check: str, delivery_id: str | None = None) -> None:
        super().__init__(message)
        self.check = check
        self.delivery_id = delivery_id


class InvalidArgumentError(CxpaError, ValueError):
    """An argument's value is not allowed; raised before anything is sent. The message names it."""


class MissingConfigError(InvalidArgumentError):
    """Required settings were neither given nor found in their environment variables.

    One error names every missing setting at once (with nothing set: both the base URL and the key).

    Attributes:
        argument: The first missing parameter, such as `base_url`.
        env_var: The environment variable it falls back to, such as `CXPA_API_URL`.
        arguments: Every missing parameter, in order (`argument` is the first).
        env_vars: Their environment variables, in the same order (`env_var` is the first).
    """

    def __init__(self, argument: str, env_var: str, *, also: Sequence[tuple[str, str]] = ()) -> None:
        missing = ((argument, env_var), *also)
        self.argument = argument
        self.env_var = env_var
        self.arguments: tuple[str, ...] = tuple(name for name, _ in missing)
        self.env_vars: tuple[str, ...] = tuple(variable for _, variable in missing)
        # A CLI flag (`--base-url`) is passed as `--base-url ...`, a parameter as `base_url=...`.
        ways = [f"{name} ..." if name.startswith("-") else f"{name}=..." for name in self.arguments]
        verb = "is" if len(missing) == 1 else "are"
        comma = "," if len(missing) > 1 else ""
        super().__init__(
            f"{_and(self.arguments)} {verb} required: pass {_and(ways)}{comma} or set {_and(self.env_vars)}"
        )


def _and(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


class InvalidArgumentTypeError(CxpaError, TypeError):
    """An argument has the wrong type; raised before anything is sent. The message names it."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


# Codes that say the run exists (the request was applied), or that an earlier attempt with the same
# key is still being handled (it may yet be applied).
_APPLIED_CODES = frozenset({"run_failed", "wait_timeout", "download_not_replayable"})
NO_ENVELOPE = "no_envelope"
"""The `code` of an error answer that did not come in the platform's Error envelope (a proxy's page)."""
RUN_CANCELLED = "run_cancelled"
"""The code of a callback's 409 for a cancelled run (RunCancelledError)."""


def applied_by_answer(status: int, code: str | None) -> bool | None:
    """What an answer proves about its request: applied (True), not applied (False), or nothing (None).

    A 2xx was accepted. A 4xx in the platform's envelope (`code` given) was refused, unless its code
    says the run exists. A 5xx, or any answer without the envelope (`code` None: a proxy or load
    balancer may have answered after the platform acted), proves nothing.
    """
    if 200 <= status < 300:
        return True
    if code is None or code == "idempotency_in_progress":
        return None
    if code in _APPLIED_CODES:
        return True
    return False if 400 <= status < 500 else None


def status_error(
    status: int,
    *,
    code: str | None,
    message: str,
    run_id: str | None,
    request_id: str | None,
    attempts: int,
    idempotency_key: str | None,
    retry_after: float | None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> APIStatusError:
    """The typed error for an error answer: the class by status, 5xx as InternalServerError.

    `code` is None for an answer without the platform's Error envelope; the error's code is then
    `no_envelope`. `headers` and `body` are the answer's, secrets not masked yet (`scrub` does).
    """
    cls = _STATUS_ERRORS.get(status, InternalServerError if status >= 500 else APIStatusError)
    common: dict[str, Any] = {
        "status_code": status,
        "code": NO_ENVELOPE if code is None else code,
        "request_id": request_id,
        "run_id": run_id,
        "attempts": attempts,
        "idempotency_key": idempotency_key,
        "applied": applied_by_answer(status, code),
        "headers": headers,
        "body": body,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **common)
    if cls is ConflictError and code == RUN_CANCELLED:
        return RunCancelledError(f"the run was cancelled, so its runtime should stop its work: {message}", **common)
    return cls(message, **common)


def transport_error(
    what: str,
    detail: str,
    *,
    never_sent: bool,
    timed_out: bool,
    attempts: int,
    idempotency_key: str | None,
    status: int | None = None,
) -> APIConnectionError:
    """The typed error for a request that got no whole answer; says whether the request was applied.

    `what` names the failure's kind and `detail` what happened; `never_sent` is true when no
    connection was made. `status` is the answer's status when the failure came while reading its
    body: a 2xx status proves the request was applied.
    """
    cls = APITimeoutError if timed_out else APIConnectionError
    applied = False if never_sent else None if status is None else applied_by_answer(status, None)
    return cls(
        f"no answer from the platform: {what}: {detail or what}",
        attempts=attempts,
        idempotency_key=idempotency_key,
        applied=applied,
    )


MAX_REQUEST_ID = 200
"""The longest X-Request-Id taken as one request id."""


def answer_request_id(value: str | None, secrets: tuple[str, ...]) -> str | None:
    """An answer's X-Request-Id as one request id (secrets masked), or None when it is not one.

    Not one: absent or empty, repeated (a repeated header arrives with its values joined by `", "`,
    so a comma is refused), longer than MAX_REQUEST_ID, or holding anything but printable ASCII (a
    control character, a byte over 127). The raw value stays in an APIStatusError's `headers`.
    """
    if not value or not (value.isascii() and value.isprintable()) or len(value) > MAX_REQUEST_ID or "," in value:
        return None
    return mask(value, secrets)


def mask(text: str | None, secrets: tuple[str, ...]) -> str | None:
    """Text from the server with every secret replaced by `***` (a server may echo what it was sent)."""
    if text is not None:
        for secret in secrets:
            text = text.replace(secret, "***")
    return text


def scrub(error: CxpaError, secrets: tuple[str, ...]) -> CxpaError:
    """The error with every secret in its text fields, and an APIStatusError's headers and body, masked."""
    for name in ("message", "code", "run_id", "request_id"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            setattr(error, name, mask(value, secrets))
    error.args = (error.message,)
    if isinstance(error, APIStatusError) and secrets:
        error.headers = {name: mask(value, secrets) or "" for name, value in error.headers.items()}
        for secret in secrets:
            error.body = error.body.replace(secret.encode(), b"***")
    return error
