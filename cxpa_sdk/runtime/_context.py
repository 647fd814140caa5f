"""What an agent function is given: `RunContext` (async functions) and `SyncRunContext` (sync functions)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Generic

from .._runtime._agent import AgentClient, AsyncAgentClient
from ..types import Credential, ResumePayload, TriggerPayload
from ._clients import RunClients
from ._state import RunState, cancelled_error

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    InputT = TypeVar("InputT", default=dict[str, Any])
else:
    from typing import TypeVar

    InputT = TypeVar("InputT")
    """The type of a run's input: `dict[str, Any]` unless the function names a model (`RunContext[MyInput]`)."""


class _ContextBase(Generic[InputT]):
    """What both contexts share: the run's ids and input, the cancel flag, and the outputs count."""

    def __init__(
        self, payload: TriggerPayload | ResumePayload, state: RunState, input: InputT, clients: RunClients
    ) -> None:
        self._clients = clients
        self._client = self._new_client(payload)  # first: a payload it cannot report for makes no context
        self._state = state
        self._input = input
        self._agent_id = payload.agent_id
        self.outputs: int | None = None
        """How many output units the run produced: sent with `complete` when the function sets it."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(run_id={self.run_id!r}, agent_id={self._agent_id})"

    def _new_client(self, payload: TriggerPayload | ResumePayload) -> Any:
        """The agent client the run reports with (each context's own kind), on the host's shared pool."""
        raise NotImplementedError

    @property
    def input(self) -> InputT:
        """The run's input, as its trigger payload carried it (a resume handler's: as the resume payload did).

        A dict, or an instance of the model the function's `run` parameter names
        (`run: RunContext[MyInput]`, a dataclass or a pydantic model), checked when the run arrived.
        """
        return self._input

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self._state.run_id

    @property
    def agent_id(self) -> int:
        """The platform's id of the agent the run belongs to."""
        return self._agent_id

    @property
    def cancelled(self) -> bool:
        """Whether to stop working: the run was cancelled, or the runtime shut down past its drain time.

        No request (see `is_cancelled`): set by a cancel delivery, or by the host's drain, which then
        fails the run itself. Either way nothing more is sent for the run.
        """
        return self._state.was_cancelled()

    def _check(self) -> None:
        """Refuse a call to the platform once the run was cancelled: nothing is sent after a cancel."""
        if self._state.was_cancelled():
            raise cancelled_error(self.run_id)


class RunContext(_ContextBase[InputT]):
    """What an async agent function is given: its run's input and ids, and the calls it reports with.

    Every call goes to the platform with the run's agent key. After a cancel delivery the function's
    task is cancelled (its next `await` raises `asyncio.CancelledError`) and any call here raises
    `RunCancelledError`: nothing more is sent for the run.

    Examples:
        >>> @runtime.agent("word-count")                                   # doctest: +SKIP
        ... async def word_count(run: RunContext) -> dict[str, int]:
        ...     await run.output({"progress": 0.5})
        ...     return {"words": len(run.input["text"].split())}

    Attributes:
        outputs: How many output units the run produced; sent with `complete` when set (None: not sent).
    """

    _client: AsyncAgentClient

    def _new_client(self, payload: TriggerPayload | ResumePayload) -> AsyncAgentClient:
        return self._clients.for_async(payload)

    async def output(self, output: Any, outputs: int | None = None) -> None:
        """Report an intermediate output (any JSON) and optionally a count of output units.

        Raises:
            RunCancelledError: The run was cancelled.
        """
        self._check()
        await self._client.output(output, outputs)
        self._state.reported()

    async def credential(self, connection_id: str) -> Credential:
        """A credential connection's values (secret: never shown in repr), resolved with the run's token.

        Raises:
            RunCancelledError: The run was cancelled.
        """
        self._check()
        return await self._client.resolve_credential(connection_id)

    async def is_cancelled(self) -> bool:
        """Whether the run was cancelled: True at once when this process was told, else one GET to the platform."""
        return self._state.was_cancelled() or await self._client.is_cancelled()

    async def wait_for_token(self, token_id: str, description: str) -> dict[str, Any]:
        """Report `waiting` on `token_id` and suspend until the run is resumed; the resumer's output.

        The run waits on the platform (its status `waiting`) and this function waits here, in place,
        until the resume delivery reaches this process. A resume that reaches another process, or
        this one after a restart, goes to the agent's `on_resume` handler instead.

        Args:
            token_id: The token a person or a system resumes the run with.
            description: What the run waits for, for people.

        Raises:
            RunCancelledError: The run was cancelled before the wait began.
        """
        self._check()
        future = self._state.expect_resume()
        try:
            await self._client.waiting(token_id, description)
            payload = await asyncio.wrap_future(future)
        finally:
            self._state.resume = None
        resumed = self._new_client(payload)
        old, self._client = self._client, resumed
        await old.aclose()
        await self._start()  # waiting -> running, taking a lease again
        return dict(payload.output)

    async def _start(self) -> None:
        """Report `started`, asking for the host's lease; an older platform's refusal stops leases host-wide."""
        asked = self._clients.lease_seconds
        await self._client.started(lease_seconds=asked)
        if asked is not None and self._client.lease_seconds is None:
            self._clients.refuse_lease()
        self._state.began(self._client.lease_seconds)

    async def _complete(self, output: Any) -> None:
        await self._client.complete(output, self.outputs)

    async def _fail(self, error: BaseException | str, name: str | None = None) -> None:
        await self._client.fail(error, name=name)

    async def _close(self) -> None:
        await self._client.aclose()


class SyncRunContext(_ContextBase[InputT]):
    """What a sync agent function is given (it runs on the host's thread pool): RunContext's calls, sync.

    A sync function cannot be interrupted: after a cancel delivery `cancelled` is True, a
    `wait_for_token` ends, and its next call here raises `RunCancelledError` without sending anything.

    Examples:
        >>> @runtime.agent("word-count")                                   # doctest: +SKIP
        ... def word_count(run: SyncRunContext) -> dict[str, int]:
        ...     run.output({"progress": 0.5})
        ...     return {"words": len(run.input["text"].split())}

    Attributes:
        outputs: How many output units the run produced; sent with `complete` when set (None: not sent).
    """

    _client: AgentClient

    def _new_client(self, payload: TriggerPayload | ResumePayload) -> AgentClient:
        return self._clients.for_sync(payload)

    def output(self, output: Any, outputs: int | None = None) -> None:
        """Report an intermediate output (any JSON) and optionally a count of output units.

        Raises:
            RunCancelledError: The run was cancelled.
        """
        self._check()
        self._client.output(output, outputs)
        self._state.reported()

    def credential(self, connection_id: str) -> Credential:
        """A credential connection's values (secret: never shown in repr), resolved with the run's token.

        Raises:
            RunCancelledError: The run was cancelled.
        """
        self._check()
        return self._client.resolve_credential(connection_id)

    def is_cancelled(self) -> bool:
        """Whether the run was cancelled: True at once when this process was told, else one GET to the platform."""
        return self._state.was_cancelled() or self._client.is_cancelled()

    def wait_for_token(self, token_id: str, description: str) -> dict[str, Any]:
        """Report `waiting` on `token_id` and block until the run is resumed; the resumer's output.

        As `RunContext.wait_for_token`; a cancel delivery ends the wait with `RunCancelledError`.

        Args:
            token_id: The token a person or a system resumes the run with.
            description: What the run waits for, for people.

        Raises:
            RunCancelledError: The run was cancelled.
        """
        self._check()
        future = self._state.expect_resume()
        try:
            self._client.waiting(token_id, description)
            payload = future.result()
        finally:
            self._state.resume = None
        resumed = self._new_client(payload)
        old, self._client = self._client, resumed
        old.close()
        self._start()  # waiting -> running, taking a lease again
        return dict(payload.output)

    def _start(self) -> None:
        """Report `started`, asking for the host's lease; an older platform's refusal stops leases host-wide."""
        asked = self._clients.lease_seconds
        self._client.started(lease_seconds=asked)
        if asked is not None and self._client.lease_seconds is None:
            self._clients.refuse_lease()
        self._state.began(self._client.lease_seconds)

    def _complete(self, output: Any) -> None:
        self._client.complete(output, self.outputs)

    def _fail(self, error: BaseException | str, name: str | None = None) -> None:
        self._client.fail(error, name=name)

    def _close(self) -> None:
        self._client.close()
