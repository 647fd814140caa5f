"""The `cxpa_sdk` logger: its DEBUG lines never carry a key, a token or a body."""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("cxpa_sdk")


def enable_env_logging() -> None:
    """`CXPA_LOG=debug` (or info) shows the SDK's log lines on stderr without code; otherwise nothing."""
    level = os.environ.get("CXPA_LOG", "").upper()
    if level not in ("DEBUG", "INFO") or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
