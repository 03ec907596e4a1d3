"""The options of `spark.read.format("duckfed")` and `df.write.format("duckfed")`, checked with clear errors.

```
url                 the source URL, as `federation.connect` takes it: template:///?URL=…&OAuthClientId=…
table               the table to read or write
partitions          read: how many partitions (default: about four API pages each, within the rate limit)
callsPerPartition   read: API calls one partition may spend before it fails (default: twice its estimate)
key                 write: the external key to upsert by (default: the table's one external key)
batchSize           write: rows per upsert call (default: the table's largest write batch)
```
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from federation.errors import ConfigurationError

_READ = ("url", "table", "partitions", "callsPerPartition")
_WRITE = ("url", "table", "key", "batchSize")


@dataclass(frozen=True)
class ReadOptions:
    url: str
    table: str
    partitions: int | None = None
    calls_per_partition: int | None = None


@dataclass(frozen=True)
class WriteOptions:
    url: str
    table: str
    key: str | None = None
    batch_size: int | None = None


def read_options(options: Mapping[str, str]) -> ReadOptions:
    given = _known(options, _READ, "reading")
    return ReadOptions(
        _required(given, "url"),
        _required(given, "table"),
        _positive(given, "partitions"),
        _positive(given, "callsPerPartition"),
    )


def write_options(options: Mapping[str, str]) -> WriteOptions:
    given = _known(options, _WRITE, "writing")
    return WriteOptions(
        _required(given, "url"), _required(given, "table"), given.get("key") or None, _positive(given, "batchSize")
    )


def _known(options: Mapping[str, str], known: tuple[str, ...], doing: str) -> dict[str, str]:
    """The options by their canonical names (Spark's option names are case-insensitive)."""
    by_lower = {name.lower(): name for name in known}
    given: dict[str, str] = {}
    for name, value in options.items():
        canonical = by_lower.get(name.lower())
        if canonical is None:
            close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
            hint = f"; did you mean {by_lower[close[0]]!r}?" if close else ""
            raise ConfigurationError(f"unknown option {name!r} for {doing} duckfed{hint} (options: {', '.join(known)})")
        given[canonical] = value
    return given


def _required(given: Mapping[str, str], name: str) -> str:
    value = given.get(name, "").strip()
    if not value:
        example = "template:///?URL=…" if name == "url" else "contacts"
        raise ConfigurationError(f'option {name!r} is required: .option("{name}", "{example}")')
    return value


def _positive(given: Mapping[str, str], name: str) -> int | None:
    text = given.get(name)
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ConfigurationError(f"option {name!r} takes a whole number of at least 1, not {text!r}")
    return int(text)
