"""The platform's error answers: one exception that renders as the contract's Error envelope."""

from __future__ import annotations

from typing import Any


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
