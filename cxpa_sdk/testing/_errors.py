"""The platform's error answers: one exception that renders as the contract's Error envelope."""

from __future__ import annotations

from typing import Any

MAX_BODY_BYTES = 1 << 20
"""The largest request body, in bytes (the contract's 1 MiB); `trigger_runs_batch` has its own limit."""


class ApiError(Exception):
    """An error answer of the local platform: HTTP status, snake_case code, message, optional run id."""

    def __init__(
        self, status: int, code: str, message: str, *, run_id: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.run_id = run_id
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The Error envelope."""
        detail: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.run_id is not None:
            detail["runId"] = self.run_id
        return {"error": detail}


def conflict(code: str, message: str, run_id: str | None = None) -> ApiError:
    """A 409 state conflict."""
    return ApiError(409, code, message, run_id=run_id)


def payload_too_large(limit: int) -> ApiError:
    """The 413 for a body over `limit` bytes."""
    return ApiError(413, "payload_too_large", f"request body is over {limit} bytes")
