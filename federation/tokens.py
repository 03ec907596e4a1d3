"""The token store: sessions and OAuth tokens in one file per `OAuthSettingsLocation`, safe to share.

Some APIs issue single-use refresh tokens (Exact Online, Act-On): a refresh invalidates the token it used, so two
connections that refresh with the same token at once leave one of them with `invalid_grant`, and some cap logins
per hour. So:

- the process holds one `TokenStore` per file (`TokenStore.at(path)`), shared by every connection and thread;
- `locked()` takes a thread lock and an exclusive file lock (`filelock`), so one refresh runs at a time across
  connections *and* processes; inside it the caller re-reads the file and adopts a token that another connection
  or process already rotated instead of spending its own stale refresh token;
- entries are keyed by source scheme, endpoint and user or client (`token_key`), so a token for another URL or
  another source is never used;
- the file is rewritten atomically (a temporary file renamed into place) with mode 0600, in a directory created
  0700, and holds nothing but these tokens.
"""

from __future__ import annotations

import abc
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import filelock
import orjson

from federation.auth import Session
from federation.errors import ConfigurationError

_FORMAT = "duckfed-tokens/1"


def token_key(scheme: str, endpoint: str, principal: str) -> str:
    """The entry name for one source, API endpoint and user or OAuth client."""
    return f"{scheme} {endpoint.rstrip('/')} {principal}"


class TokenStore:
    """One token file. Use `TokenStore.at(path)` to get the process's shared instance."""

    _instances: ClassVar[dict[Path, TokenStore]] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._file_lock = filelock.FileLock(str(path) + ".lock", mode=0o600)

    @classmethod
    def at(cls, path: Path) -> TokenStore:
        resolved = path.expanduser().absolute()
        with cls._instances_lock:
            found = cls._instances.get(resolved)
            if found is None:
                found = cls._instances[resolved] = cls(resolved)
            return found

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store exclusively (threads of this process and other processes)."""
        with self._thread_lock:
            self._ensure_directory()
            with self._file_lock:
                yield

    def read(self, key: str) -> dict[str, Any] | None:
        """The entry under `key`, read from the file now."""
        entry = self._entries().get(key)
        return dict(entry) if isinstance(entry, dict) else None

    def write(self, key: str, token: dict[str, Any]) -> None:
        """Store `token` under `key` (call inside `locked()`)."""
        with self.locked():
            entries = self._entries()
            entries[key] = token
            self._replace({"format": _FORMAT, "entries": entries})

    def delete(self, key: str) -> None:
        with self.locked():
            entries = self._entries()
            if entries.pop(key, None) is not None:
                self._replace({"format": _FORMAT, "entries": entries})

    def _entries(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, orjson.JSONDecodeError) as error:
            raise ConfigurationError(f"OAuthSettingsLocation {self.path} can't be read: {error}") from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("entries"), dict):
            # A file in another format (an older version, another tool's): start afresh rather than misread it.
            return {}
        return dict(data["entries"])

    def _ensure_directory(self) -> None:
        parent = self.path.parent
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700)

    def _replace(self, data: dict[str, Any]) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(data))
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def expiry(token: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(expires_at, lifetime) of a stored token, each None when unknown."""
    expires_at = token.get("expires_at")
    if expires_at is None:
        return None, None
    obtained_at = token.get("obtained_at")
    return float(expires_at), (float(expires_at) - float(obtained_at)) if obtained_at is not None else None


class StoredLogin(abc.ABC):
    """A `federation.auth.Login` whose tokens live in one `TokenStore` entry (or in memory without a store).

    Subclasses say how to get a new token from the previous one (`issue`: refresh it, or log in) and how a token
    becomes a `Session`. Both `login` and `renew` run under the store's lock and re-read the entry first, so a
    token another connection or process obtained in the meantime is adopted instead of spending a login or a
    single-use refresh token again.
    """

    def __init__(self, store: TokenStore | None, key: str, *, skew: float, initial: Mapping[str, Any] = {}) -> None:
        self.store = store
        self.key = key
        self.skew = skew
        self._memory: dict[str, Any] = dict(initial)
        self._initial = dict(initial)

    @abc.abstractmethod
    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        """A new token (with `access_token`, and `expires_in` seconds when known), given the previous one."""

    @abc.abstractmethod
    def session(self, token: Mapping[str, Any]) -> Session:
        """The session a stored token stands for."""

    def login(self) -> Session:
        with self._locked():
            token = self._read()
            if token.get("access_token") and not self._expired(token):
                return self.session(token)
            return self.session(self._issue(token))

    def renew(self, stale: Session) -> Session:
        with self._locked():
            token = self._read()
            if token.get("access_token") not in (None, stale.token) and not self._expired(token):
                return self.session(token)  # renewed elsewhere meanwhile: that one is live now
            return self.session(self._issue(token))

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return self.store.locked() if self.store is not None else contextlib.nullcontext()

    def _read(self) -> dict[str, Any]:
        if self.store is None:
            return dict(self._memory)
        stored = self.store.read(self.key)
        return {**self._initial, **stored} if stored else dict(self._initial)

    def _expired(self, token: Mapping[str, Any]) -> bool:
        expires_at, lifetime = expiry(token)
        if expires_at is None:
            return False
        # Renew `skew` seconds early, but never in the first nine tenths of a short-lived token's life.
        return time.time() >= expires_at - min(self.skew, 0.1 * lifetime if lifetime else self.skew)

    def _issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        token = self.issue(previous)
        kept = {k: v for k, v in token.items() if k != "expires_in"}
        kept["obtained_at"] = time.time()
        if token.get("expires_in") is not None:
            kept["expires_at"] = kept["obtained_at"] + float(token["expires_in"])
        if self.store is not None:
            self.store.write(self.key, kept)
        else:
            self._memory = kept
        return kept
