"""Salesforce record Ids: the 15-character case-sensitive form, the 18-character case-safe form, key prefixes.

An Id is a 3-character key prefix naming the object, 12 base-62 characters, and (in the 18-character form) a
3-character suffix that encodes which of the first 15 characters are upper case, so an 18-character Id survives
case-insensitive systems. The platform accepts both forms everywhere and always answers with 18 characters.
"""

from __future__ import annotations

import re
from functools import cache

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SHAPE = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
#: Characters 4-6 of an Id name the server pod and a reserved digit; ours are fixed so Ids sort by creation.
POD = "5g0"
_SERIAL_DIGITS = 9
# Generating 100,000 records makes 400,000 Ids: the last five serial digits and their checksum character come
# from tables of digit pairs instead of a loop per character.
_LOW = 62**5
_PAIR_SPAN = 62 * 62
_PAIRS = tuple(a + b for a in _BASE62 for b in _BASE62)
_UPPER = tuple(int(char.isupper()) for char in _BASE62)
_PAIR_BITS = tuple(_UPPER[a] | _UPPER[b] << 1 for a in range(62) for b in range(62))


def _chunk_code(chunk: str) -> str:
    bits = 0
    for position, char in enumerate(chunk):
        if "A" <= char <= "Z":
            bits |= 1 << position
    return _SUFFIX[bits]


def to18(id15: str) -> str:
    """The case-safe 18-character form of a 15-character Id."""
    return id15 + _chunk_code(id15[0:5]) + _chunk_code(id15[5:10]) + _chunk_code(id15[10:15])


def make_id(key_prefix: str, serial: int) -> str:
    """The 18-character Id of the `serial`-th record (1-based) of the object with this key prefix."""
    high, low = divmod(serial, _LOW)
    head = _head(key_prefix, high)
    first, rest = divmod(low, _PAIR_SPAN * _PAIR_SPAN)
    pair1, pair2 = divmod(rest, _PAIR_SPAN)
    bits = _UPPER[first] | _PAIR_BITS[pair1] << 1 | _PAIR_BITS[pair2] << 3
    return head[0] + _BASE62[first] + _PAIRS[pair1] + _PAIRS[pair2] + head[1] + _SUFFIX[bits]


@cache
def _head(key_prefix: str, high: int) -> tuple[str, str]:
    """The first ten characters of an Id and the two suffix characters they determine."""
    digits = []
    for _ in range(_SERIAL_DIGITS - 5):
        high, remainder = divmod(high, 62)
        digits.append(_BASE62[remainder])
    head = key_prefix + POD + "".join(reversed(digits))
    return head, _chunk_code(head[0:5]) + _chunk_code(head[5:10])


def serial_of(record_id: str) -> int:
    """The serial number `make_id` encoded into an (18-character, normalized) Id."""
    value = 0
    for char in record_id[6:15]:
        value = value * 62 + _BASE62.index(char)
    return value


def normalize(value: object) -> str | None:
    """The canonical 18-character Id for a 15- or 18-character Id, or None when `value` is not a well-formed Id.

    An 18-character Id is read case-insensitively, as the platform does: its suffix restores the case of the
    first 15 characters, and a suffix that contradicts them (a digit marked upper case) makes it malformed.
    """
    if not isinstance(value, str) or not _SHAPE.fullmatch(value):
        return None
    if len(value) == 15:
        return to18(value)
    chars = []
    for chunk in range(3):
        bits = _SUFFIX.find(value[15 + chunk].upper())
        if bits < 0:
            return None
        for position in range(5):
            char = value[chunk * 5 + position]
            upper = bool(bits & (1 << position))
            if upper and not char.isalpha():
                return None
            chars.append(char.upper() if upper else char.lower())
    return to18("".join(chars))
