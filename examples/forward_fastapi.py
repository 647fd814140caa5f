"""Forward a run's file to the browser with FastAPI: streamed as it arrives, closed when the browser leaves.

    CXPA_API_URL=... CXPA_INGEST_KEY=... python examples/forward_fastapi.py --port 8000
    then open http://127.0.0.1:8000/reports/Q3 in a browser: it saves report.pdf.

`open()` sends the trigger and hands the download's lifetime to the StreamingResponse: its body,
`iter_bytes()`, closes the download when the last byte is sent, when the upstream fails (the
browser then sees a failed download, never a short file), or when the browser goes away.
"""

import argparse
import contextlib
import socket
from collections.abc import AsyncGenerator

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from cxpa_sdk import AsyncCxpa, CxpaError

REPORT_AGENT = 4  # a file_download agent


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
    """One client, so one connection pool, for the app's whole life (configured from CXPA_* variables)."""
    async with AsyncCxpa() as client:
        app.state.cxpa = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/reports/{topic}")
async def report(topic: str, size: int = 1 << 20, filename: str = "report.pdf") -> StreamingResponse:
    """Start a report run and stream its file to the browser without holding it."""
    client: AsyncCxpa = app.state.cxpa
    run_input = {"topic": topic, "sizeBytes": size, "filename": filename}
    download = await client.trigger_run_and_download(REPORT_AGENT, run_input).open()
    return StreamingResponse(download.iter_bytes(), headers=download.forward_headers())


@app.exception_handler(CxpaError)
async def platform_error(request: Request, exc: CxpaError) -> JSONResponse:
    """A run that could not start or failed before its file: 502, with the run id when there is one."""
    return JSONResponse({"error": type(exc).__name__, "run_id": getattr(exc, "run_id", None)}, status_code=502)


def main() -> None:
    """Serve the app on 127.0.0.1 (`--port 0` picks a free port); print the address first."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    sock = socket.create_server(("127.0.0.1", args.port))
    print(f"serving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
