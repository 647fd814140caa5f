"""What an agent client does for its run (sync): report, resolve credentials, and the `with` block's report.

Written by `scripts/unasync` from `_async_reporter.py`: edit that file, not this one.
The clients themselves (their constructors and pools) are written by hand on each side, in `_agent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .._core import _operations as ops
from .._errors import BadRequestError, CxpaError
from .._logging import logger
from ..types import CallbackAccepted, Credential, ResumePayload, TriggerPayload
from ._agent_base import AgentBase, keyed_payload
from ._delivery import DEFAULT_TOLERANCE_S, Headers
from ._seen import SeenDeliveries

if TYPE_CHECKING:
    from .._core._engine import Flow, T


class Reporter(AgentBase):
    """The operations of the sync agent client; the client supplies how a flow runs (`_do`) and `close`."""

    if TYPE_CHECKING:

        def __init__(self, **options: Any) -> None: ...  # the client's constructor (`_agent`)

        def _do(self, flow: Flow[T]) -> T: ...

        def close(self) -> None:
            """Close the client's connection pool (the client's own)."""

    @classmethod
    def from_payload(
        cls,
        payload: TriggerPayload | ResumePayload | bytes | str | Mapping[str, Any],
        *,
        base_url: str | None = None,
        headers: Headers | None = None,
        secrets: str | Sequence[str] = (),
        public_keys: str | Sequence[str] = (),
        tolerance: float = DEFAULT_TOLERANCE_S,
        seen: SeenDeliveries | None = None,
        **options: Any,
    ) -> Self:
        """The client for the run a trigger or resume payload describes: its key, run id, token, trace context.

        Given `secrets` or `public_keys`, the delivery is verified first, as `verify_delivery` does
        (`payload` must then be the body's raw bytes, and `headers` the request's); an unsigned one
        is refused. Verify a delivery once: one verified already is `replayed` the second time, so
        pass the payload `verify_delivery` returned instead, without keys. The other `options` are
        the constructor's.

        Raises:
            DeliveryVerificationError: Keys were given and the delivery failed a check.
            InvalidArgumentError: The payload is no trigger or resume payload (a cancel payload has no key).
        """
        verification = {
            "headers": headers,
            "secrets": secrets,
            "public_keys": public_keys,
            "tolerance": tolerance,
            "seen": seen,
        }
        parsed = keyed_payload(payload, verification)
        options.setdefault("trace_context", parsed.trace_context or None)  # a caller's own wins
        return cls(
            api_key=parsed.agent_api_key,
            run_id=parsed.run_id,
            base_url=base_url,
            credentials_token=parsed.credentials_token,
            **options,
        )

    def is_cancelled(self) -> bool:
        """Whether the run was cancelled, so the runtime should stop its work: one cheap GET, within `deadline`.

        True without a request once an answer said so (a cancelled run stays cancelled). Reads
        `GET /api/runs/{runId}/status`, an extension of the seed's contract.

        Raises:
            NotFoundError: The platform lacks the endpoint (an older platform; the message says
                so), or the run is unknown (code `run_not_found`).
        """
        if not self._cancelled:
            self._do(self._status())
        return self._cancelled

    def started(self, *, lease_seconds: int | None = None) -> CallbackAccepted:
        """Report that the runtime began work; the platform's answer (the run's status after it).

        Args:
            lease_seconds: Ask for a lease of this many seconds (2 to 3600; an extension of the seed's
                contract, docs/runtimes.md "The lease"): the platform then fails the run `RuntimeLost`
                when no callback arrives within it, so keep calling `heartbeat()` (or any report)
                more often. A platform without leases refuses the field (`400`): `started` is then
                sent again without it, and `lease_seconds` (the property) stays None.
        """
        if lease_seconds is None:
            self._lease_seconds = None
            return self._do(self._started())
        flow = self._started(lease_seconds)
        try:
            accepted = self._do(flow)
        except BadRequestError as error:  # the lease, the only field a plain `started` lacks: an older platform
            logger.info("run %s: the platform took no lease (%s): started without one", self._run_id, error.code)
            self._lease_seconds = None
            return self._do(self._started())
        self._lease_seconds = lease_seconds
        return accepted

    def heartbeat(self) -> CallbackAccepted:
        """Renew the run's lease, changing nothing else; the run's status (an extension of the seed's contract).

        Raises:
            RunCancelledError: The run was cancelled: stop its work.
            ConflictError: The run has ended (code `run_finished`; a lease that lapsed fails it).
            BadRequestError: The platform has no leases (an older one): stop sending heartbeats.
        """
        return self._do(self._heartbeat())

    def output(self, output: Any, outputs: int | None = None) -> CallbackAccepted:
        """Report an intermediate output (any JSON) and optionally a count of output units."""
        return self._do(self._output(output, outputs))

    def complete(self, output: Any, outputs: int | None = None) -> CallbackAccepted:
        """End the run completed with its output."""
        return self._do(self._complete(output, outputs))

    def fail(
        self, error: BaseException | str, *, name: str | None = None, stack: str | None = None
    ) -> CallbackAccepted:
        """End the run failed: an exception (its type, message and traceback are sent) or a message."""
        return self._do(self._fail(error, name, stack))

    def waiting(self, token_id: str, description: str, output: Any = ops._UNSET) -> CallbackAccepted:
        """Pause the run until `token_id` is resumed; `description` says what it waits for."""
        return self._do(self._waiting(token_id, description, output))

    def resolve_credential(self, connection_id: str) -> Credential:
        """A credential connection's values (needs the credentials token); never shown in repr."""
        return self._do(self._resolve(connection_id))

    def __enter__(self) -> Self:
        try:
            self.started()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if (report := self._exit_report(exc)) is not None:
                flow, log_failure = report
                try:
                    self._do(flow)
                except CxpaError as report_error:
                    log_failure(report_error)
        finally:
            self.close()
