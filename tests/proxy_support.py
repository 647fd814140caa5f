"""A small threaded HTTP forward proxy on 127.0.0.1 that records what went through it.

It forwards absolute-URI requests (`GET http://host:port/path HTTP/1.1`, any method), as an HTTP
proxy receives them, to their host on loopback only, and relays the answer. Each request that went
through is recorded as (method, absolute URL, the Proxy-Authorization it carried).
"""

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "upgrade"}


@dataclass
class ForwardProxy:
    """A running proxy: its URL, and what went through it."""

    url: str
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """The paths of the requests that went through, in order."""
        return [urlsplit(url).path for _, url, _ in self.seen]


class _Forwarder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: ForwardProxy

    def _forward(self) -> None:
        target = urlsplit(self.path)
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost"):
            self.send_error(403, "this test proxy forwards to loopback http:// only")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.proxy.seen.append((self.command, self.path, self.headers.get("Proxy-Authorization")))
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP | {"transfer-encoding", "content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


@contextmanager
def forward_proxy() -> Iterator[ForwardProxy]:
    """Serve a recording forward proxy on 127.0.0.1 for the block."""
    proxy = ForwardProxy(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Forwarder", (_Forwarder,), {"proxy": proxy}))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
