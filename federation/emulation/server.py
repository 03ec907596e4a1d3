"""The HTTP/1.1 loopback server every emulator runs on, and the request and response values it passes.

Built on the standard library's `ThreadingHTTPServer` (one thread per connection, keep-alive with
``protocol_version = "HTTP/1.1"``): a sandbox needs no more, and it adds no dependency. Each response is written
with one ``sendall`` so Nagle's algorithm never holds a body back behind its headers. The server knows nothing of
any vendor: it parses a request into an `Exchange`, hands it to a `Handler` and writes the `Reply` back; a handler
that returns None makes it drop the connection without a byte of response.
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

#: A JSON value as a request or response body holds it.
Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]
JSON_CONTENT = "application/json;charset=UTF-8"
#: The only address an emulator listens on: the sandbox must never be reachable from another machine.
LOOPBACK = "127.0.0.1"

_REASONS = {code: message for code, (message, _) in BaseHTTPRequestHandler.responses.items()}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One parsed request: method, path (without the query), query parameters, lower-cased headers, body."""

    method: str
    path: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    #: scheme://host the client used (its Host header and X-Forwarded-Proto), for URLs in responses.
    base_url: str

    def form(self) -> dict[str, str]:
        """The form-encoded body (OAuth requests)."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Json:
        """The body as JSON; raises ValueError when it is not JSON."""
        value: Json = orjson.loads(self.body)
        return value


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = JSON_CONTENT
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_headers(self, headers: Mapping[str, str]) -> Reply:
        """This reply with `headers` added (replacing any of the same name)."""
        if not headers:
            return self
        return Reply(self.status, self.body, self.content_type, {**self.headers, **headers})


def json_reply(status: int, payload: object, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON response; orjson renders a 2,000-record page in milliseconds."""
    return Reply(status, orjson.dumps(payload), JSON_CONTENT, headers or {})


#: Answers one request; None means close the connection without answering (an injected drop).
Handler = Callable[[Exchange], "Reply | None"]


class LoopbackServer:
    """A threaded HTTP/1.1 keep-alive server on 127.0.0.1 that hands every request to `handler`."""

    def __init__(self, handler: Handler, *, host: str = LOOPBACK, port: int = 0, name: str = "emulator") -> None:
        if host != LOOPBACK:
            raise ValueError(f"an emulator listens on {LOOPBACK} only, not {host!r}")
        self._handler = handler
        self._port = port
        self._name = name
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the port (a free one when 0) and serve in a background thread."""
        if self._server is None:
            self._server = _HTTPServer((LOOPBACK, self._port), self._handler)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self._name, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._thread = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use it as a context manager")
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Handler) -> None:
        self.handler = handler
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on a request (a timeout, an interrupted statement) closed its socket: not an error
        # of the emulator's. Anything else is printed as the standard library does.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _RequestHandler(BaseHTTPRequestHandler):
    """Reads one request at a time off a keep-alive connection and hands it to the server's handler."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    #: An idle keep-alive connection is closed after this many seconds, freeing its thread.
    timeout = 120

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: emulators count requests instead of logging them."""

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        # URLs in responses name the host the client asked for, so a client that reached us under another host
        # name (through a host-mapping transport) keeps using that name.
        proto = headers.get("x-forwarded-proto", "http")
        host = headers.get("host") or f"{LOOPBACK}:{self.server.server_address[1]}"
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        exchange = Exchange(self.command, url.path, params, headers, body, f"{proto}://{host}")
        try:
            reply = self.server.handler(exchange)
        except Exception:
            # A bug in the emulator: answer 500 and leave the trace on stderr for the test that hit it.
            traceback.print_exc()
            reply = Reply(500, b"internal error in the emulator", "text/plain")
        if reply is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        lines = [
            f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, '')}",
            f"Date: {self.date_time_string()}",
            f"Content-Length: {len(reply.body)}",
        ]
        if reply.body or reply.status not in (204, 304):
            lines.append(f"Content-Type: {reply.content_type}")
        lines.extend(f"{name}: {value}" for name, value in reply.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + reply.body)
