"""Table metadata cached on disk with a TTL, so a new connection within the TTL costs no metadata calls.

Entries are JSON files under `<cache dir>/<namespace>/`, one per key, written atomically (a temporary file
renamed into place) so a crash or a concurrent process never leaves half a file. The namespace is a hash of
the source, its endpoint and its user, never the credentials themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson


def default_cache_dir() -> Path:
    """`$DUCKFED_CACHE_DIR`, else `$XDG_CACHE_HOME/duckfed`, else `~/.cache/duckfed`."""
    explicit = os.environ.get("DUCKFED_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "duckfed"


def namespace(*parts: str) -> str:
    """A stable directory name for one source, endpoint and user."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class MetadataCache:
    """JSON values by key, fresh for `ttl` seconds, kept in memory too for the life of the object."""

    def __init__(self, directory: Path | None, space: str, ttl: float, *, scheme: str = "") -> None:
        self.directory = (directory or default_cache_dir()) / space
        self.ttl = ttl
        #: Written beside the entries so `duckfed cache clear SCHEME` finds one source's directories.
        self.scheme = scheme
        self._memory: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.directory / f"{_SAFE.sub('_', key)}.json"

    def get(self, key: str) -> Any | None:
        """The value stored under `key` if younger than the TTL, else None."""
        now = time.time()
        with self._lock:
            held = self._memory.get(key)
        if held is not None and now - held[0] < self.ttl:
            return held[1]
        path = self._path(key)
        try:
            stored_at = path.stat().st_mtime
            if now - stored_at >= self.ttl:
                return None
            value = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            # A missing, unreadable or corrupt entry is a miss: the caller fetches it again.
            return None
        with self._lock:
            self._memory[key] = (stored_at, value)
        return value

    def put(self, key: str, value: Any) -> None:
        """Store `value` under `key` (memory always; disk when the directory is writable)."""
        with self._lock:
            self._memory[key] = (time.time(), value)
        if self.ttl <= 0:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.scheme:
                (self.directory / "source").write_text(self.scheme)
            fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(value))
            os.replace(temporary, self._path(key))
        except OSError:
            # The cache is an optimisation: a read-only home directory must not break queries.
            return

    def clear(self, key: str | None = None) -> None:
        """Forget one entry, or every entry, in memory and on disk."""
        with self._lock:
            if key is None:
                self._memory.clear()
            else:
                self._memory.pop(key, None)
        paths = [self._path(key)] if key is not None else list(self.directory.glob("*.json"))
        for path in paths:
            path.unlink(missing_ok=True)


def table_key(table: str) -> str:
    """The cache key of one table's metadata (connectors store it under this name, so drift can drop it)."""
    return f"table-{table}"


def clear_all(directory: Path | None = None, scheme: str | None = None) -> int:
    """Remove cached metadata under `directory` (default: the user cache dir), of every source or of `scheme`'s
    only; returns how many entries were removed (`duckfed cache clear`)."""
    root = directory or default_cache_dir()
    removed = 0
    for space in root.glob("*"):
        if not space.is_dir():
            continue
        owner = space / "source"
        if scheme is not None and (not owner.exists() or owner.read_text().strip() != scheme):
            continue
        for path in space.glob("*.json"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
