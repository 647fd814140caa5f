"""Forward a run's file to the browser with Django: streamed as it arrives, closed when the browser leaves.

    CXPA_API_URL=... CXPA_INGEST_KEY=... python examples/forward_django.py --port 8000
    then open http://127.0.0.1:8000/reports/Q3 in a browser: it saves report.pdf.

`open()` sends the trigger and hands the download's lifetime to the StreamingHttpResponse: its
body, `iter_bytes()`, closes the download when the last byte is sent, when the upstream fails (the
browser then sees a failed download, never a short file), or when the browser goes away (the WSGI
server calls the response's close()). A single-file Django app: no database, no installed apps.
"""

import argparse

from django.conf import settings
from django.core.servers import basehttp
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from cxpa_sdk import Cxpa, CxpaError

REPORT_AGENT = 4  # a file_download agent

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    LOGGING={
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        "loggers": {
            # No line per request, but errors on stderr: a view's traceback (DEBUG=False prints none) and 5xx lines.
            "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
            "django.server": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        },
    },
)

client = Cxpa()  # one client, so one connection pool, for the app's whole life (configured from CXPA_* variables)


@require_GET  # like FastAPI: a HEAD would start the run and Django's server would read the whole file for it
def report(request: HttpRequest, topic: str) -> HttpResponse | StreamingHttpResponse:
    """Start a report run and stream its file to the browser without holding it."""
    try:
        size = int(request.GET.get("size", 1 << 20))
    except ValueError:
        return JsonResponse({"error": "size must be a whole number of bytes"}, status=400)
    filename = request.GET.get("filename", "report.pdf")
    run_input = {"topic": topic, "sizeBytes": size, "filename": filename}
    try:
        download = client.trigger_run_and_download(REPORT_AGENT, run_input).open()
    except CxpaError as exc:  # a run that could not start or failed before its file: 502, with its run id
        return JsonResponse({"error": type(exc).__name__, "run_id": getattr(exc, "run_id", None)}, status=502)
    # The forwarded headers include Content-Type, so Django adds no text/html one of its own.
    return StreamingHttpResponse(download.iter_bytes(), headers=download.forward_headers())


urlpatterns = [path("reports/<str:topic>", report)]
application = get_wsgi_application()


class ServerHandler(basehttp.ServerHandler):
    """Django's dev-server response writer, which also ends the connection of a response that fails midway."""

    # Set by wsgiref and by RequestHandler below; declared here because the stubs do not name them.
    headers_sent: bool
    request_handler: basehttp.WSGIRequestHandler

    def handle_error(self) -> None:
        """Log the error, as Django does; if the headers are already out, end the connection as well.

        Django keeps an HTTP/1.1 connection open after a body that raised, when its response has a
        Content-Length: the browser, still owed the rest of that length, would wait for it until it
        timed out. Closing the connection short of that length is how HTTP says the body failed.
        (This server never chunks: a file without a Content-Length goes out close-delimited, and a cut
        there looks like its end. Serve such files with a server that chunks and aborts a failed body.)
        """
        if self.headers_sent:
            self.request_handler.close_connection = True
        super().handle_error()


class RequestHandler(basehttp.WSGIRequestHandler):
    """Django's dev-server request handler, writing responses with the ServerHandler above."""

    def handle_one_request(self) -> None:
        """Django's own (django/core/servers/basehttp.py), with ServerHandler above for basehttp.ServerHandler."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error response was sent
            return
        handler = ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ())
        handler.request_handler = self  # as Django sets it
        handler.run(application)


def main() -> None:
    """Serve the app on 127.0.0.1 (`--port 0` picks a free port); print the address first."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    server = basehttp.ThreadedWSGIServer(("127.0.0.1", args.port), RequestHandler)
    server.set_app(application)
    print(f"serving on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        client.close()


if __name__ == "__main__":
    main()
