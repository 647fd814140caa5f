"""RunStatus: where a run is in its life, kept as sent when a newer platform adds a status.

Re-exported by `cxpa_sdk.types`, its public home.
"""

from __future__ import annotations

import enum


class RunStatus(enum.StrEnum):
    """Where a run is in its life; compares equal to its string value (`RunStatus.COMPLETED == "completed"`)."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def _missing_(cls, value: object) -> RunStatus | None:
        """A status this SDK does not know yet becomes a member of its own rather than an error."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value.upper()
        unknown._value_ = value
        return unknown

    @property
    def terminal(self) -> bool:
        """Whether the run has ended: completed, failed or cancelled (it never changes again)."""
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)

    @property
    def known(self) -> bool:
        """Whether this SDK knows the status (False for one a newer platform added)."""
        return self.value in RunStatus._value2member_map_
