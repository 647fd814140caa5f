"""Forward a run's file to the browser with Django: streamed as it arrives, closed when the browser leaves.

    CXPA_API_URL=... CXPA_INGEST_KEY=... python examples/forward_django.py --port 8000
    then open http://127.0.0.1:8000/reports/Q3 in a browser: it saves report.pdf.

Served over ASGI by uvicorn, which chunks a body without a Content-Length and cuts the connection of
a body that fails midway: a cut upstream reaches the browser as a failed download, never as a whole
file. (Django's own WSGI server sends such a body close-delimited, where a cut looks like the end.)
The view is async, so the body is `AsyncDownload.iter_bytes()`: under ASGI Django reads a sync
iterator whole before sending a byte. `open()` sends the trigger and hands the download's lifetime to
the StreamingHttpResponse: its body closes the download when the last byte is sent, when the upstream
fails, or when the browser goes away (Django then cancels the view's task). A single-file Django app:
no database, no installed apps.
"""

import argparse
import asyncio
import socket

import uvicorn
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from cxpa_sdk import AsyncCxpa, CxpaError

REPORT_AGENT = 4  # a file_download agent

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    LOGGING={
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        # No line per request, but a view's errors on stderr (DEBUG=False prints no traceback).
        "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
    },
)

# One client, so one connection pool, for the app's whole life (configured from CXPA_* variables); it is
# used and closed on uvicorn's event loop (`serve`).
client = AsyncCxpa()


@require_GET  # like FastAPI: a HEAD would start a run for nothing
async def report(request: HttpRequest, topic: str) -> HttpResponse | StreamingHttpResponse:
    """Start a report run and stream its file to the browser without holding it."""
    try:
        size = int(request.GET.get("size", 1 << 20))
    except ValueError:
        return JsonResponse({"error": "size must be a whole number of bytes"}, status=400)
    filename = request.GET.get("filename", "report.pdf")
    run_input = {"topic": topic, "sizeBytes": size, "filename": filename}
    try:
        download = await client.trigger_run_and_download(REPORT_AGENT, run_input).open()
    except CxpaError as exc:  # a run that could not start or failed before its file: 502, with its run id
        return JsonResponse({"error": type(exc).__name__, "run_id": getattr(exc, "run_id", None)}, status=502)
    # The forwarded headers include Content-Type, so Django adds no text/html one of its own.
    return StreamingHttpResponse(download.iter_bytes(), headers=download.forward_headers())


urlpatterns = [path("reports/<str:topic>", report)]
application = get_asgi_application()


async def serve(port: int) -> None:
    """Serve the app on 127.0.0.1 (`port` 0 picks a free one), printing the address first; close the client after."""
    sock = socket.create_server(("127.0.0.1", port))
    print(f"serving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    # Django speaks no ASGI lifespan: the client's life is this coroutine's.
    config = uvicorn.Config(application, lifespan="off", log_level="warning", timeout_graceful_shutdown=5)
    async with client:
        await uvicorn.Server(config).serve(sockets=[sock])


def main() -> None:
    """Serve the app on 127.0.0.1 (`--port 0` picks a free port); print the address first."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
