"""A real HTTP site for the web tests: a ThreadingHTTPServer on 127.0.0.1 (a free port), serving
a route table the test can change between requests, counting requests and keeping their headers.

A route is a ``Page`` (status, body, headers, an optional ETag answered with 304, a delay) or a
callable that gets the request's headers and returns one. Nothing here reaches beyond localhost.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""  # answered with 304 when the request's If-None-Match is this (or its
    # If-Modified-Since is the Last-Modified among ``headers``)
    delay: float = 0.0  # seconds to wait before answering (a hanging page), bounded by the test
    size: int = 0  # stream this many bytes of filler instead of ``body`` (a huge page)
    trickle: float = 0.0  # seconds between two pieces of the filler (a page that trickles in)

    def data(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


Route = Page | Callable[[dict[str, str]], Page]


class Site:
    """The routes, what was asked, and the server's address."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers), in order
        self.base = ""
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, headers: dict[str, str]) -> Page:
        with self._lock:
            self.hits[path] += 1
            self.requests.append((path, headers))
            route = self.routes.get(path)
        if route is None:
            return Page("not here", status=404, content_type="text/plain")
        return route(headers) if callable(route) else route


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            page = site.page(self.path, headers)
            if page.delay:
                time.sleep(min(page.delay, 5.0))
            modified = page.headers.get("Last-Modified")
            if (page.etag and headers.get("if-none-match") == page.etag) or (
                modified and headers.get("if-modified-since") == modified
            ):
                self.send_response(304)
                self.send_header("ETag", page.etag)
                self.end_headers()
                return
            data = page.data()
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.etag:
                self.send_header("ETag", page.etag)
            for name, value in page.headers.items():
                self.send_header(name, value)
            if page.size:  # no Content-Length: the client must find out while reading
                self.send_header("Connection", "close")
                self.end_headers()
                piece = b"<p>" + b"x" * 65_000 + b"</p>"
                sent = 0
                try:
                    while sent < page.size:
                        self.wfile.write(piece)
                        sent += len(piece)
                        if page.trickle:
                            time.sleep(page.trickle)
                except OSError:  # the client gave up, as it should
                    pass
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # the client gave up waiting (a hanging page), as it should
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_site(site: Site | None = None) -> Iterator[Site]:
    site = site or Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
