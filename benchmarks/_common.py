"""What the SDK side and the raw httpx2 side share: key, bodies, headers, socket options, timeouts."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx2

REPO_ROOT = Path(__file__).resolve().parent.parent
API_KEY = "cxpa_bench_ingest_key"
TRIGGER_INPUT: dict[str, Any] = {"topic": "Q3 financial summary", "pages": 12, "tags": ["bench", "sdk"]}
TRIGGER_PATH = "/api/agents/1/runs/trigger"
DOWNLOAD_PATH = "/api/agents/4/runs/trigger-and-download"
# The SDK sets TCP_NODELAY on its sockets; raw httpx2 gets the same option so that neither side waits
# for delayed ACKs.
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
# The raw clients' timeouts: the SDK's, except the pool wait, which the SDK bounds by each call's deadline
# (pool=None) and these by 10 s, the SDK's default before 0.2 (row 10 passes pool=None).
TIMEOUT = httpx2.Timeout(connect=5.0, read=60.0, write=60.0, pool=10.0)
MIB = 1 << 20


def encode(body: dict[str, Any]) -> bytes:
    """A request body as the SDK encodes it: compact UTF-8 JSON."""
    return json.dumps(body, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode()


def raw_headers() -> dict[str, str]:
    """The headers the SDK sends with a POST: bearer key, a fresh Idempotency-Key, JSON content type."""
    return {
        "Authorization": f"Bearer {API_KEY}",
        "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def raw_client() -> httpx2.Client:
    """A plain sync httpx client with TCP_NODELAY, as the raw side of a comparison."""
    return httpx2.Client(transport=httpx2.HTTPTransport(socket_options=NODELAY), timeout=TIMEOUT)


def raw_async_client(limits: httpx2.Limits | None = None, timeout: httpx2.Timeout = TIMEOUT) -> httpx2.AsyncClient:
    """A plain async httpx client with TCP_NODELAY (optional pool limits and timeouts), as the raw side."""
    transport = httpx2.AsyncHTTPTransport(socket_options=NODELAY, limits=limits or httpx2.Limits())
    return httpx2.AsyncClient(transport=transport, timeout=timeout)
