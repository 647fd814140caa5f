"""The shapes answers share: `Answer` (which request answered) and `RunAnswer` (a run and its status).

`Answer` holds the call's fields (`request_id`, `replayed`, `attempts`) once for every answer to a
call: `Run`, `RegisteredRun`, `Credential` and the `RunAnswer`s (`TriggeredRun`, `IngestedRun`,
`CallbackAccepted`, `WaitTimedOut`). They are keyword-only, so each answer's own fields keep their
positional order; in `dataclasses.fields` they come first, as a base class's fields do.

This module does not postpone its annotations, so `typing.get_type_hints` resolves the fields these
answers inherit with no module namespace (pydantic and FastAPI read them wherever they live).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from ._fields import CALL, as_dict, extra_field, extra_of, unknown_properties
from ._status import RunStatus


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to a call: its content (the subclass's fields), and which request answered it.

    The call's fields describe the request, not the answer: not compared, not in repr, not in `to_dict()`.
    Keyword-only, with defaults, so an answer built by hand needs none of them.
    """

    request_id: str | None = field(default=None, compare=False, repr=False, kw_only=True, metadata=CALL)
    replayed: bool = field(default=False, compare=False, repr=False, kw_only=True, metadata=CALL)
    attempts: int = field(default=1, compare=False, repr=False, kw_only=True, metadata=CALL)


@dataclass(frozen=True, slots=True)
class RunAnswer(Answer):
    """An answer that is a run's id and its status (each public answer of this shape names its own meaning).

    Two answers of different classes never compare equal, even with the same fields.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"runId", "status"})

    run_id: str
    status: RunStatus
    extra: Mapping[str, Any] = extra_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """From the spec's object of this answer (`runId`, `status`)."""
        return cls(data["runId"], RunStatus(data["status"]), extra=unknown_properties(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"run_id": ..., "status": ..., "extra": {}}`."""
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], RunStatus(data["status"]), extra=extra_of(data))
