"""PostgreSQL frontend/backend protocol 3.0 framing: reading a client's messages and building the server's.

Formats as the PostgreSQL documentation's "Message Formats" chapter gives them. Only what duckfed sends and reads is
here; the messages are handled in `federation.serve.session`.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from federation.serve.types import PgType

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102
#: The largest message a client may send (a statement with its parameters); PostgreSQL allows 1 GB.
MAX_MESSAGE = 64 * 1024 * 1024


class ProtocolViolation(Exception):
    """The client sent something that is not the protocol; the connection is closed."""


@dataclass(frozen=True)
class Message:
    kind: bytes
    body: bytes


class Reader:
    """Reads a client's messages from a stream."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def startup(self) -> tuple[int, bytes]:
        """The untyped first message: its code (protocol version or a request) and the rest."""
        (size,) = struct.unpack("!i", await self.stream.readexactly(4))
        if not 8 <= size <= 10_000:
            raise ProtocolViolation("invalid startup packet length")
        body = await self.stream.readexactly(size - 4)
        (code,) = struct.unpack("!i", body[:4])
        return code, body[4:]

    async def message(self) -> Message:
        head = await self.stream.readexactly(5)
        kind, size = head[:1], struct.unpack("!i", head[1:])[0]
        if not 4 <= size <= MAX_MESSAGE:
            raise ProtocolViolation(f"invalid message length {size}")
        return Message(kind, await self.stream.readexactly(size - 4))


def startup_parameters(body: bytes) -> dict[str, str]:
    parts = body.split(b"\x00")
    return {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2) if parts[i]}


class Cursor:
    """Reads the fields of one message body in order."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.at = 0

    def string(self) -> str:
        end = self.body.index(b"\x00", self.at)
        text = self.body[self.at : end].decode()
        self.at = end + 1
        return text

    def int16(self) -> int:
        (value,) = struct.unpack_from("!h", self.body, self.at)
        self.at += 2
        return int(value)

    def int32(self) -> int:
        (value,) = struct.unpack_from("!i", self.body, self.at)
        self.at += 4
        return int(value)

    def take(self, size: int) -> bytes:
        chunk = self.body[self.at : self.at + size]
        self.at += size
        return chunk

    def byte(self) -> bytes:
        return self.take(1)


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstring(text: str) -> bytes:
    return text.encode() + b"\x00"


def authentication(code: int, data: bytes = b"") -> bytes:
    return message(b"R", struct.pack("!i", code) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", _cstring(name) + _cstring(value))


def backend_key(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, secret))


def ready(status: bytes) -> bytes:
    return message(b"Z", status)


def row_description(names: Sequence[str], types: Sequence[PgType], formats: Sequence[bool]) -> bytes:
    body = struct.pack("!h", len(names))
    for name, kind, binary in zip(names, types, formats, strict=True):
        body += _cstring(name) + struct.pack("!ihihih", 0, 0, kind.oid, kind.size, kind.modifier, int(binary))
    return message(b"T", body)


def parameter_description(oids: Sequence[int]) -> bytes:
    return message(b"t", struct.pack(f"!h{len(oids)}i", len(oids), *oids))


def command_complete(tag: str) -> bytes:
    return message(b"C", _cstring(tag))


def copy_out(columns: int) -> bytes:
    return message(b"H", struct.pack(f"!bh{columns}h", 1, columns, *([1] * columns)))


def notice(severity: str, code: str, text: str) -> bytes:
    return message(b"N", _fields(severity, code, text))


def error(code: str, text: str, severity: str = "ERROR") -> bytes:
    return message(b"E", _fields(severity, code, text))


def _fields(severity: str, code: str, text: str) -> bytes:
    return b"S" + _cstring(severity) + b"V" + _cstring(severity) + b"C" + _cstring(code) + b"M" + _cstring(text) + b"\0"


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
EMPTY_QUERY = message(b"I")
COPY_DONE = message(b"c")
