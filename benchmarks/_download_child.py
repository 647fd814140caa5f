"""One download measurement in a fresh process: `python -m benchmarks._download_child SIDE URL SIZE DIR`.

SIDE is `sdk` (`save()`), `raw` (`stream()` + `iter_raw()` to a file), or `sdk-fsync` / `raw-fsync`,
the same with the file synced to disk before it is closed (`save(fsync=True)`, `os.fsync`). The async
sides: `sdk-async` (`AsyncCxpa`, `await save()`), `sdk-aiohttp` (the same on `http_backend="aiohttp"`),
and `httpx028-async` (raw httpx 0.28's `AsyncClient.stream()` + `aiter_raw()` to a file). Each async
side with `-stream` appended only counts the bytes as they come (`iter_bytes()`, `aiter_raw()`), as a
server forwarding the file does; `aiohttp-stream` does that with plain aiohttp, the floor.

Prints one JSON line: seconds (request sent to file closed), bytes written, and the peak RSS growth
during the download in KiB. The peak is measured by resetting VmHWM (writing 5 to
/proc/self/clear_refs) after the client is built, then reading VmHWM after the download, against
VmRSS before it; where that reset is not allowed it falls back to ru_maxrss after minus before.
The written file is deleted before the process exits.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

from benchmarks._common import API_KEY, DOWNLOAD_PATH, encode, raw_client, raw_headers
from cxpa_sdk import Cxpa


def _status_kib(field: str) -> int:
    """A /proc/self/status field in KiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS; whether the kernel allowed it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _sdk(base_url: str, size: int, folder: Path, fsync: bool) -> tuple[float, Path]:
    """`trigger_run_and_download(...).save(folder, fsync=...)`: seconds and the file written."""
    with Cxpa(base_url=base_url, ingest_api_key=API_KEY) as client:
        before, reset, rss_before = _baseline()
        started = time.perf_counter()
        with client.trigger_run_and_download(4, {"sizeBytes": size}) as download:
            path = download.save(folder, fsync=fsync)
        seconds = time.perf_counter() - started
        _report(seconds, path, before, reset, rss_before)
    return seconds, path


def _raw(base_url: str, size: int, folder: Path, fsync: bool) -> tuple[float, Path]:
    """`client.stream("POST", ...)` + `iter_raw()` written to a file (then fsynced): seconds and the file written."""
    body = encode({"input": {"sizeBytes": size}, "timeoutMs": 30_000})
    path = folder / "raw-bench.bin"
    with raw_client() as http:
        before, reset, rss_before = _baseline()
        started = time.perf_counter()
        with (
            http.stream("POST", base_url + DOWNLOAD_PATH, content=body, headers=raw_headers()) as response,
            path.open("wb") as file,
        ):
            if response.status_code != 200:
                raise RuntimeError(f"raw download answered {response.status_code}")
            for chunk in response.iter_raw():
                file.write(chunk)
            if fsync:
                file.flush()
                os.fsync(file.fileno())
        seconds = time.perf_counter() - started
        _report(seconds, path, before, reset, rss_before)
    return seconds, path


def _sdk_async(base_url: str, size: int, folder: Path, backend: str, stream: bool) -> None:
    """`await AsyncCxpa(...).trigger_run_and_download(...).save(folder)` on `backend`, or its `iter_bytes()`."""
    import asyncio  # noqa: PLC0415 - only the async sides need it

    from cxpa_sdk import AsyncCxpa  # noqa: PLC0415

    async def main() -> None:
        async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_backend=backend) as client:
            before, reset, rss_before = _baseline()
            started = time.perf_counter()
            async with client.trigger_run_and_download(4, {"sizeBytes": size}) as download:
                if stream:
                    got: Path | int = 0
                    async for chunk in download.iter_bytes():
                        got += len(chunk)
                else:
                    got = await download.save(folder)
            _report(time.perf_counter() - started, got, before, reset, rss_before)

    asyncio.run(main())


def _httpx028_async(base_url: str, size: int, folder: Path, stream: bool) -> None:
    """Raw httpx 0.28: `AsyncClient.stream("POST", ...)` + `aiter_raw()` written to a file, or only counted."""
    import asyncio  # noqa: PLC0415 - only the async sides need it

    import httpx  # noqa: PLC0415 - the peer, from the test group

    from benchmarks._common import NODELAY  # noqa: PLC0415

    body = encode({"input": {"sizeBytes": size}, "timeoutMs": 30_000})
    path = folder / "raw-bench.bin"

    async def main() -> None:
        transport = httpx.AsyncHTTPTransport(socket_options=NODELAY)
        async with httpx.AsyncClient(transport=transport, timeout=60.0) as http:
            before, reset, rss_before = _baseline()
            started = time.perf_counter()
            async with http.stream("POST", base_url + DOWNLOAD_PATH, content=body, headers=raw_headers()) as answer:
                if answer.status_code != 200:
                    raise RuntimeError(f"raw download answered {answer.status_code}")
                got: Path | int = 0
                if stream:
                    async for chunk in answer.aiter_raw():
                        got += len(chunk)
                else:
                    with path.open("wb") as file:
                        async for chunk in answer.aiter_raw():
                            file.write(chunk)
                    got = path
            _report(time.perf_counter() - started, got, before, reset, rss_before)

    asyncio.run(main())


def _aiohttp_stream(base_url: str, size: int) -> None:
    """Plain aiohttp: `ClientSession.post(...)` + `content.iter_any()`, only counted (the floor for async)."""
    import asyncio  # noqa: PLC0415 - only the async sides need it

    import aiohttp  # noqa: PLC0415 - the floor, from the aiohttp extra

    body = encode({"input": {"sizeBytes": size}, "timeoutMs": 30_000})

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            before, reset, rss_before = _baseline()
            started = time.perf_counter()
            async with session.post(base_url + DOWNLOAD_PATH, data=body, headers=raw_headers()) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"plain aiohttp download answered {answer.status}")
                got = 0
                async for chunk in answer.content.iter_any():
                    got += len(chunk)
            _report(time.perf_counter() - started, got, before, reset, rss_before)

    asyncio.run(main())


def _baseline() -> tuple[int, bool, int]:
    """RSS before the download (KiB), whether the peak was reset, and ru_maxrss before (KiB)."""
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return _status_kib("VmRSS"), _reset_peak(), rss_before


def _report(seconds: float, got: Path | int, before: int, reset: bool, maxrss_before: int) -> None:
    """Print the measurement as one JSON line: `got` is the file written, or the bytes streamed."""
    if reset:
        growth, method = _status_kib("VmHWM") - before, "VmHWM after reset - VmRSS before"
    else:
        growth, method = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before, "ru_maxrss delta"
    size = got if isinstance(got, int) else got.stat().st_size
    print(json.dumps({"seconds": seconds, "bytes": size, "rss_growth_kib": growth, "method": method}))


def main(argv: list[str]) -> None:
    """Command line: `SIDE URL SIZE DIR`."""
    side, base_url, size, folder = argv[0], argv[1], int(argv[2]), Path(argv[3])
    stream = side.endswith("-stream")
    kind = side.removesuffix("-stream")
    try:
        if kind in ("sdk-async", "sdk-aiohttp"):
            _sdk_async(base_url, size, folder, "httpx2" if kind == "sdk-async" else "aiohttp", stream)
        elif kind == "httpx028-async":
            _httpx028_async(base_url, size, folder, stream)
        elif side == "aiohttp-stream":
            _aiohttp_stream(base_url, size)
        else:
            measure = {"sdk": _sdk, "raw": _raw, "sdk-fsync": _sdk, "raw-fsync": _raw}[side]
            measure(base_url, size, folder, side.endswith("-fsync"))
    finally:
        for leftover in folder.iterdir():
            leftover.unlink()


if __name__ == "__main__":
    main(sys.argv[1:])
