"""The one shape of the answers that are a run and its status: `TriggeredRun`, `IngestedRun`, `CallbackAccepted`.

This module does not postpone its annotations, so `typing.get_type_hints` resolves the fields these
answers inherit with no module namespace (pydantic and FastAPI read them wherever they live).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ._fields import (
    as_dict,
    attempts_field,
    extra_field,
    extra_of,
    replayed_field,
    request_id_field,
    unknown_properties,
)
from ._status import RunStatus


@dataclass(frozen=True, slots=True)
class RunAnswer:
    """An answer that is a run's id and its status (each public answer of this shape names its own meaning).

    Two answers of different classes never compare equal, even with the same fields.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"runId", "status"})

    run_id: str
    status: RunStatus
    request_id: str | None = request_id_field()
    replayed: bool = replayed_field()
    attempts: int = attempts_field()
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
