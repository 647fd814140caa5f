"""Forward a run's file to the browser with Flask: streamed as it arrives, closed when the browser leaves.

    CXPA_API_URL=... CXPA_INGEST_KEY=... python examples/forward_flask.py --port 8000
    then open http://127.0.0.1:8000/reports/Q3 in a browser: it saves report.pdf.

`open()` sends the trigger and hands the download's lifetime to the streamed Response: its body,
`iter_bytes()`, closes the download when the last byte is sent, when the upstream fails (the
browser then sees a failed download, never a short file), or when the browser goes away (the
WSGI server calls the body's close() when it next writes; while the platform is silent, the body's
10 s idle bound ends it first).
"""

import argparse
import logging

from flask import Flask, Response, abort, request
from werkzeug.serving import make_server

from cxpa_sdk import Cxpa, CxpaError

REPORT_AGENT = 4  # a file_download agent

app = Flask(__name__)
client = Cxpa()  # one client, so one connection pool, for the app's whole life (configured from CXPA_* variables)


@app.get("/reports/<topic>")
def report(topic: str) -> Response | tuple[dict[str, str], int]:
    """Start a report run and stream its file to the browser without holding it."""
    if request.method == "HEAD":
        # Flask answers HEAD on every GET route, with no body: a HEAD would start a run for nothing. Like FastAPI,
        # only GET.
        abort(405, valid_methods=["GET"])
    try:
        size = int(request.args.get("size", 1 << 20))
    except ValueError:
        return {"error": "size must be a whole number of bytes"}, 400
    filename = request.args.get("filename", "report.pdf")
    run_input = {"topic": topic, "sizeBytes": size, "filename": filename}
    download = client.trigger_run_and_download(REPORT_AGENT, run_input).open()
    return Response(download.iter_bytes(), headers=download.forward_headers())


@app.errorhandler(CxpaError)
def platform_error(exc: CxpaError) -> tuple[dict[str, object], int]:
    """A run that could not start or failed before its file: 502, with the run id when there is one."""
    return {"error": type(exc).__name__, "run_id": getattr(exc, "run_id", None)}, 502


def main() -> None:
    """Serve the app on 127.0.0.1 (`--port 0` picks a free port); print the address first."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request; errors still go to stderr
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    print(f"serving on http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        client.close()


if __name__ == "__main__":
    main()
