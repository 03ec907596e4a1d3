"""The machinery of deterministic data: per-record random bytes, Ids by index, wire-format dates, value pools.

Record ``i`` of an object is a pure function of (seed, object, i): its random bytes are a keyed BLAKE2b hash of
``i``, and a lookup names its target by index (``ctx.id_of("Account", j)``), so generating a Contact never
generates the Account it points at. One hash gives 64 bytes, enough for every choice a record makes; taking
single bytes keeps generation at a few microseconds per record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from . import ids
from .model import Record

#: Generated data spans these dates; fixed so the same seed gives the same data on any day.
DATA_START = int(dt.datetime(2016, 1, 1, tzinfo=dt.UTC).timestamp())
DATA_END = int(dt.datetime(2025, 6, 30, tzinfo=dt.UTC).timestamp())
_EPOCH = dt.date(1970, 1, 1)


@cache
def _day(days: int) -> str:
    return (_EPOCH + dt.timedelta(days=days)).isoformat()


def date_wire(epoch_seconds: int) -> str:
    """``YYYY-MM-DD`` for the UTC day of an epoch time."""
    return _day(epoch_seconds // 86400)


#: "Thh:mm" per minute of the day and ":ss.000+0000" per second: formatting a datetime is then two lookups.
_MINUTES = tuple(f"T{minute // 60:02d}:{minute % 60:02d}" for minute in range(1440))
_SECONDS = tuple(f":{second:02d}.000+0000" for second in range(60))


def datetime_wire(epoch_seconds: int) -> str:
    """The platform's datetime wire format (UTC, milliseconds, ``+0000``) for an epoch time in seconds."""
    days, second = divmod(epoch_seconds, 86400)
    minute, second = divmod(second, 60)
    return _day(days) + _MINUTES[minute] + _SECONDS[second]


#: Zero-padded numbers as strings: generators format phone numbers and postal codes by lookup.
DIGITS2 = tuple(f"{number:02d}" for number in range(100))
DIGITS4 = tuple(f"{number:04d}" for number in range(10000))


def u16(digest: bytes, at: int) -> int:
    """Two random bytes of `digest` as an int in [0, 65536)."""
    return digest[at] | digest[at + 1] << 8


@dataclass(frozen=True)
class GenContext:
    """What generation reads: the seed, each object's record count and key prefix."""

    seed: int
    counts: Mapping[str, int]
    prefixes: Mapping[str, str]
    _hashers: dict[str, hashlib.blake2b] = field(default_factory=dict, repr=False, compare=False)
    _users: list[str] = field(default_factory=list, repr=False, compare=False)

    def digest(self, obj: str, index: int) -> bytes:
        """64 random bytes for record `index` of `obj`: a pure function of (seed, obj, index)."""
        hasher = self._hashers.get(obj)
        if hasher is None:
            key = f"{self.seed}:{obj}".encode()[:64]
            hasher = self._hashers.setdefault(obj, hashlib.blake2b(key=key, digest_size=64))
        copy = hasher.copy()
        copy.update(index.to_bytes(8, "little"))
        return copy.digest()

    def count(self, obj: str) -> int:
        """How many records of `obj` are generated."""
        return self.counts[obj]

    def id_of(self, obj: str, index: int) -> str:
        """The Id of generated record `index` of `obj` (Ids of generated records are numbered from 1)."""
        return ids.make_id(self.prefixes[obj], index + 1)

    def user_id(self, index: int) -> str:
        """The Id of generated user `index` (audit fields name users on every record: these are cached)."""
        if not self._users:
            self._users.extend(self.id_of("User", user) for user in range(self.counts["User"]))
        return self._users[index]

    def pick_id(self, obj: str, digest: bytes, at: int) -> str:
        """The Id of a record of `obj` chosen by three bytes of `digest`."""
        return self.id_of(obj, (u16(digest, at) << 8 | digest[at + 2]) % self.counts[obj])

    def created_at(self, obj: str, index: int, digest: bytes) -> int:
        """A creation time (epoch seconds) that grows with `index`, as Ids grow with creation on the platform."""
        step = (DATA_END - DATA_START) / max(self.counts[obj], 1)
        return DATA_START + int((index + (digest[62] | digest[63] << 8) / 65536) * step)

    def audit(self, record: Record, created: int, digest: bytes, users: int) -> None:
        """Fill the audit fields of a record created at `created`: modified some time later, by one of `users`."""
        modified = min(created + (digest[60] | digest[61] << 8) * 600, DATA_END)
        record["CreatedDate"] = datetime_wire(created)
        record["CreatedById"] = self.user_id(digest[59] % users)
        record["LastModifiedDate"] = datetime_wire(modified)
        record["LastModifiedById"] = self.user_id(digest[58] % users)
        record["SystemModstamp"] = record["LastModifiedDate"]
        record["IsDeleted"] = False


#: Builds record `index` of one object.
Generator = Callable[[GenContext, int], Record]
