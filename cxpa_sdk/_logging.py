"""The `cxpa_sdk` logger: INFO tells retries and waits that give up, DEBUG each request; never a secret."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ._errors import WaitTimeoutError

logger = logging.getLogger("cxpa_sdk")
WaitTimeoutErrorT = TypeVar("WaitTimeoutErrorT", bound="WaitTimeoutError")


def enable_env_logging() -> None:
    """`CXPA_LOG=debug` (or info) shows the SDK's log lines on stderr without code; otherwise nothing."""
    level = os.environ.get("CXPA_LOG", "").upper()
    if level not in ("DEBUG", "INFO") or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


def gave_up(error: WaitTimeoutErrorT) -> WaitTimeoutErrorT:
    """The error of a wait that gives up on its own clock, told on one INFO line (it names runs, no secret)."""
    logger.info("gave up waiting: %s", error.message)
    return error
