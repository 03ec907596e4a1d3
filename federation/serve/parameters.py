"""A Bind message's parameter values as the Python values DuckDB binds: text ones read by their declared type OID,
binary ones decoded from PostgreSQL's binary formats (big-endian integers and floats, raw bytes, UTF-8 text)."""

from __future__ import annotations

import decimal
import struct
from collections.abc import Sequence
from typing import Any

from federation.serve.protocol import Cursor
from federation.serve.sqlstate import Failure

_INTEGERS = {21: "!h", 23: "!i", 20: "!q"}
_FLOATS = {700: "!f", 701: "!d"}


def bind_parameters(body: Cursor, oids: Sequence[int]) -> list[Any]:
    """Bind's parameter values, as Python values DuckDB binds (text ones by their declared type)."""
    formats = [body.int16() for _ in range(body.int16())]
    values: list[Any] = []
    count = body.int16()
    for i in range(count):
        binary = (formats[0] if len(formats) == 1 else formats[i] if formats else 0) == 1
        oid = oids[i] if i < len(oids) else 0
        size = body.int32()
        if size < 0:
            values.append(None)
            continue
        raw = body.take(size)
        values.append(_binary_parameter(raw, oid) if binary else _text_parameter(raw.decode(), oid))
    return values


def _text_parameter(text: str, oid: int) -> Any:
    if oid == 16:
        return text.lower() in ("t", "true", "yes", "on", "1")
    if oid in _INTEGERS:
        return int(text)
    if oid in _FLOATS:
        return float(text)
    if oid == 1700:
        return decimal.Decimal(text)
    if oid == 17 and text.startswith("\\x"):
        return bytes.fromhex(text[2:])
    return text


def _binary_parameter(raw: bytes, oid: int) -> Any:
    if oid == 16:
        return raw != b"\x00"
    if oid in _INTEGERS:
        return struct.unpack(_INTEGERS[oid], raw)[0]
    if oid in _FLOATS:
        return struct.unpack(_FLOATS[oid], raw)[0]
    if oid == 17:
        return raw
    if oid in (0, 25, 1043, 19, 114, 2950):
        return raw.decode()
    raise Failure("0A000", f"binary parameters of type OID {oid} are not supported; send them as text")
