"""The HTTP/1.1 server: connections, keep-alive, counting, latency and injected faults around every request.

Built on the standard library's `ThreadingHTTPServer` (one thread per connection, keep-alive with
``protocol_version = "HTTP/1.1"``): a loopback sandbox needs no more, and it adds no dependency. Each response is
written with one ``sendall`` so Nagle's algorithm never holds a body back behind its headers.
"""

from __future__ import annotations

import socket
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .calls import Reply, error_reply
from .errors import ApiError
from .faults import rest_error

if TYPE_CHECKING:
    from .emulator import SalesforceEmulator

_REASONS = {code: message for code, (message, _) in BaseHTTPRequestHandler.responses.items()}


class Server(ThreadingHTTPServer):
    """A threading HTTP server that knows the emulator it serves."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: SalesforceEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    """Reads one request at a time off a keep-alive connection and hands it to the emulator."""

    protocol_version = "HTTP/1.1"
    server: Server
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
        """Silent: the emulator counts requests instead of logging them."""

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
        base_url = f"{proto}://{headers['host']}" if "host" in headers else self.server.emulator.url
        exchange = Exchange(self.command, url.path, dict(parse_qsl(url.query)), headers, body, base_url)
        try:
            reply = self.server.emulator.serve(exchange)
        except Exception:
            # A bug in the emulator: answer as the platform does for its own, and leave the trace on stderr.
            traceback.print_exc()
            reply = error_reply(ApiError(500, *rest_error(500)))
        if reply is None:
            # An injected dropped connection: close without a byte of response.
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


class Exchange:
    """One parsed request as the emulator sees it."""

    __slots__ = ("base_url", "body", "headers", "method", "params", "path")

    def __init__(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str], body: bytes, base_url: str
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
        self.body = body
        #: scheme://host the client used (its Host header and X-Forwarded-Proto), for URLs in responses.
        self.base_url = base_url

    def form(self) -> dict[str, str]:
        """The form-encoded body (OAuth requests)."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))
