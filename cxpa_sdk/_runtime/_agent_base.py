"""What both agent clients share: checked settings, the run, its events, and how a `with` block ends."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx2

from .. import _config as check
from .._core import _operations as ops
from .._core._engine import Flow, Settings, T
from .._errors import RUN_CANCELLED, CxpaError, InvalidArgumentError, InvalidArgumentTypeError, RunCancelledError
from .._http._pools import ForkGuard
from .._logging import enable_env_logging, logger
from .._options import make_settings
from ..hooks import Hook, checked_hooks
from ..types import (
    CallbackAccepted,
    CancelPayload,
    Credential,
    ResumePayload,
    RunStatus,
    TriggerPayload,
)
from ..types._runtime import TRACE_CONTEXT_KEYS, valid_trace_context
from ._delivery import parse_runtime_payload
from ._signing import trusted_keys

ExitReport = tuple[Flow[CallbackAccepted], Callable[[CxpaError], None]]
"""What the end of a `with` block reports (a flow), and how a report that failed is logged."""


class AgentBase(ForkGuard):
    """What both agent clients share: checked settings, the run, the credentials token, the events."""

    _settings: Settings
    _owns_http: bool
    _last_status: RunStatus | None = None  # the run's status after the last event this client sent
    _cancelled = False  # whether an answer said the run was cancelled (it stays so: a terminal run never changes)
    _lease_seconds: int | None = None  # the lease the last `started` asked for and the platform took

    @property
    def lease_seconds(self) -> int | None:
        """The lease the run holds since this client's `started` (None: none asked, or the platform has no leases)."""
        return self._lease_seconds

    def _track(self, result: T) -> T:
        """Remember the run's status after an event or a status read, for the end of a `with` block."""
        if isinstance(result, CallbackAccepted):
            self._last_status = result.status
            self._cancelled = self._cancelled or result.cancelled
        return result

    def _note_cancel(self, error: RunCancelledError) -> None:
        """Remember that the run was cancelled (so a `with` block sends no fail), and name the run."""
        self._cancelled = True
        self._last_status = RunStatus.CANCELLED
        if error.run_id is None:
            error.run_id = self._run_id

    def _stopped_by_cancel(self, exc: BaseException | None) -> bool:
        """Whether a `with` block ends on a cancelled run: nothing is sent, the run has ended."""
        if self._cancelled or isinstance(exc, RunCancelledError):
            logger.debug("run %s was cancelled: its block ends without reporting", self._run_id)
            return True
        return False

    def _exit_report(
        self, exc: BaseException | None
    ) -> tuple[Flow[CallbackAccepted], Callable[[CxpaError], None]] | None:
        """What a `with` block that ends with `exc` (None: it ended well) reports, and how a failed report is logged.

        Nothing on a cancelled run, or when the run has ended or waits on a token; `fail(exc)` when the
        block raised an Exception; an IncompleteRunError failure when it ended with the run unfinished.
        """
        if self._stopped_by_cancel(exc):
            return None
        if isinstance(exc, Exception):
            return self._fail(exc, None, None), self._log_unreported_failure
        if exc is None and self._unfinished():
            return self._ended_without_outcome(), functools.partial(log_unreported, self._run_id)
        return None

    def _log_unreported_failure(self, error: CxpaError) -> None:
        logger.warning("could not report the failure of run %s: %s", self._run_id, error)

    def _unfinished(self) -> bool:
        """Whether a `with` block that ends now leaves the run neither ended nor waiting on a token."""
        status = self._last_status
        return status is None or not (status.terminal or status == RunStatus.WAITING)

    def _ended_without_outcome(self) -> Flow[CallbackAccepted]:
        message = (
            f"the `with {type(self).__name__}` block ended without complete() or fail(): the run was still "
            f"{self._last_status or 'running'}, so it is reported failed rather than left running"
        )
        return self._fail(message, "IncompleteRunError", None)

    def _setup(
        self,
        *,
        api_key: str,
        run_id: str,
        base_url: str | None,
        credentials_token: str | None,
        timeout: float | httpx2.Timeout | None,
        max_retries: int,
        deadline: float,
        allow_insecure: bool,
        default_headers: Mapping[str, str] | None,
        hooks: Sequence[Hook] | None,
        trace_context: Mapping[str, str] | None,
    ) -> None:
        enable_env_logging()
        if callable(api_key) and not isinstance(api_key, str):
            # The platform mints a run's agent key once, in the trigger payload, and never renews it:
            # there is nothing a callable could fetch that the payload did not already hold.
            raise InvalidArgumentTypeError(
                "api_key must be a str: an agent key is minted per run in the trigger payload and does not "
                "rotate (AgentClient.from_payload reads it)"
            )
        self._settings = make_settings(
            headers=default_headers,
            base_url=base_url,
            key=api_key,
            key_name="api_key",
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
        ).with_changes(hooks=checked_hooks(hooks), trace_context=checked_trace_context(trace_context))
        self._run_id = check.run_id(run_id)
        self._credentials_token = (
            None if credentials_token is None else check.secret(credentials_token, "credentials_token")
        )

    @property
    def run_id(self) -> str:
        """The run this client reports on."""
        return self._run_id

    @property
    def base_url(self) -> str:
        """The platform's base URL."""
        return self._settings.base_url

    def __repr__(self) -> str:
        run_id, settings = getattr(self, "_run_id", None), getattr(self, "_settings", None)
        if run_id is None or settings is None:  # the constructor refused an argument
            return f"{type(self).__name__}(not configured)"
        return f"{type(self).__name__}(run_id={run_id!r}, base_url={settings.base_url!r}, api_key='***')"

    def _event(self, event: Mapping[str, Any]) -> Flow[CallbackAccepted]:
        return ops.post_callback(self._settings, self._run_id, event)

    @staticmethod
    def _output_event(output: Any, outputs: int | None, **flags: bool) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "output", "output": output, **flags}
        if outputs is not None:
            event["outputs"] = check.non_negative_int(outputs, "outputs")
        return event

    def _started(self, lease_seconds: int | None = None) -> Flow[CallbackAccepted]:
        if lease_seconds is None:
            return self._event({"type": "started"})
        return self._event({"type": "started", "leaseSeconds": checked_lease(lease_seconds)})

    def _heartbeat(self) -> Flow[CallbackAccepted]:
        return self._event({"type": "heartbeat"})

    def _output(self, output: Any, outputs: int | None) -> Flow[CallbackAccepted]:
        return self._event(self._output_event(output, outputs))

    def _complete(self, output: Any, outputs: int | None) -> Flow[CallbackAccepted]:
        return self._event(self._output_event(output, outputs, complete=True))

    def _fail(self, error: BaseException | str, name: str | None, stack: str | None) -> Flow[CallbackAccepted]:
        return self._event({"type": "output", "failed": True, "error": ops.error_body(error, name=name, stack=stack)})

    def _waiting(self, token_id: str, description: str, output: Any) -> Flow[CallbackAccepted]:
        if not isinstance(description, str):
            raise check.InvalidArgumentTypeError(f"description must be a str, not {type(description).__name__}")
        event: dict[str, Any] = {
            "type": "waiting",
            "tokenId": check.token_id(token_id),
            "description": description,
        }
        if output is not ops._UNSET:
            event["output"] = output
        return self._event(event)

    def _status(self) -> Flow[CallbackAccepted]:
        return ops.get_run_status(self._settings, self._run_id)

    def _resolve(self, connection_id: str) -> Flow[Credential]:
        if self._credentials_token is None:
            raise InvalidArgumentError(
                "resolve_credential needs a credentials token: pass credentials_token= when creating the "
                "agent client (it comes in the trigger payload, or from register_run)"
            )
        return ops.resolve_credential(self._settings, connection_id, self._credentials_token)


MIN_LEASE_S = 2
MAX_LEASE_S = 3600
# The header of a runtime's 2xx answer to a trigger or resume delivery that gives the run a lease from
# then on, queued, resumed or running (openapi.yaml, the runtimeDelivery webhook's 202; docs/runtimes.md,
# "The lease").
LEASE_HEADER = "CXPA-Lease-Seconds"


def checked_lease(lease_seconds: object, argument: str = "lease_seconds") -> int:
    """A lease in whole seconds, MIN_LEASE_S to MAX_LEASE_S (openapi.yaml's StartedEvent.leaseSeconds)."""
    value = check.positive_int(lease_seconds, argument, MAX_LEASE_S)
    if value < MIN_LEASE_S:
        raise InvalidArgumentError(f"{argument} must be at least {MIN_LEASE_S} seconds, got {value}")
    return value


def keyed_payload(
    payload: TriggerPayload | ResumePayload | bytes | str | Mapping[str, Any],
    verification: Mapping[str, Any],
) -> TriggerPayload | ResumePayload:
    """The trigger or resume payload a client is made from; a cancel payload (which has no key) is refused.

    `verification` holds `parse_runtime_payload`'s options (headers, secrets, public_keys, tolerance,
    seen): given keys, the payload must be the delivery's raw bytes, and is verified first. A payload
    given as an object (built by hand, or by `from_dict`) keeps only its valid trace context, as
    `parse` does: an invalid one is dropped (logged at DEBUG), never a reason not to report.
    """
    if isinstance(payload, TriggerPayload | ResumePayload):
        if trusted_keys(verification.get("secrets", ()), verification.get("public_keys", ())):
            raise InvalidArgumentTypeError(
                "a delivery is verified over its raw body: pass the bytes as received, not a parsed payload"
            )
        return replace(payload, trace_context=valid_trace_context(payload.trace_context, "payload"))
    parsed = parse_runtime_payload(payload, **verification)
    if isinstance(parsed, CancelPayload):
        raise InvalidArgumentError(
            f"a cancel payload carries no agent key, so no client can be made from it: it says to stop the work "
            f"of run {parsed.run_id}"
        )
    return parsed


def checked_trace_context(trace_context: object) -> tuple[tuple[str, str], ...]:
    """The W3C trace context an agent client continues, as pairs: only `traceparent` and `tracestate`.

    Each value must be fit for a header; `tracestate` only beside a `traceparent` (W3C Trace Context).
    """
    if trace_context is None:
        return ()
    if not isinstance(trace_context, Mapping):
        raise InvalidArgumentTypeError(
            f"trace_context must be a mapping of traceparent and tracestate, not {type(trace_context).__name__}"
        )
    unknown = sorted(str(key) for key in trace_context if key not in TRACE_CONTEXT_KEYS)
    if unknown:
        raise InvalidArgumentError(f"trace_context takes only traceparent and tracestate, not {', '.join(unknown)}")
    if "tracestate" in trace_context and "traceparent" not in trace_context:
        raise InvalidArgumentError("trace_context has a tracestate without a traceparent (W3C Trace Context)")
    return tuple(
        (key, check.header_value(trace_context[key], f"trace_context[{key!r}]", 8192))
        for key in TRACE_CONTEXT_KEYS
        if key in trace_context
    )


def log_unreported(run_id: str, error: CxpaError) -> None:
    """Log that the end of a block could not end its run: DEBUG when the run had ended anyway (cancelled)."""
    if getattr(error, "code", None) in ("run_finished", RUN_CANCELLED):
        logger.debug("run %s had already ended when its block ended: %s", run_id, error)
    else:
        logger.warning("could not report that the block of run %s ended unfinished: %s", run_id, error)
