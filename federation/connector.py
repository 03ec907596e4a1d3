"""The connector contract: a source's settings, its HTTP client, and its tables.

A connector declares its settings once (a `Settings` dataclass, usually `CommonSettings` plus its own fields
and, for OAuth sources, `federation.oauth.OAuthSettings`), authenticates lazily on the first call, lists its
tables from cached metadata, and hands out `Table` objects. Everything DuckDB- or SQLAlchemy-specific lives
elsewhere, so a connector is plain Python over an API.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from federation.catalog import MetadataCache, namespace, table_key
from federation.errors import ConfigurationError, UnknownTableError
from federation.http import HttpClient, ResponseCheck, RetryPolicy
from federation.ratelimit import AccountLimiter, RateLimit, limiter_for, parse_rate_limit
from federation.settings import Kind, Property, Settings, setting
from federation.table import Table


@dataclass(frozen=True)
class CommonSettings(Settings):
    """Properties every connector takes."""

    url: str | None = setting(
        "URL", kind=Kind.URL, doc="Base URL of the API; defaults to the vendor's production host."
    )
    pushdown: bool = setting("Pushdown", default=True, doc="Send filters to the API (false: filter locally only).")
    timeout: float = setting("Timeout", default=60.0, doc="Seconds to wait for one API response.")
    max_retries: int = setting("MaxRetries", default=5, doc="Attempts for a request that fails transiently.")
    metadata_cache_ttl: float = setting(
        "MetadataCacheTTL", default=3600.0, doc="Seconds table metadata is reused from disk."
    )
    metadata_cache_dir: Path | None = setting(
        "MetadataCacheDir", doc="Where table metadata is cached (default: the user cache dir)."
    )
    rate_limit: str | None = setting(
        "RateLimit",
        doc="Calls allowed, to stay under a quota shared with other programs: e.g. `30/minute aligned`, "
        "`2/second`, `1000/day`, comma-separated (default: the vendor's published limits).",
    )
    query_timeout: float = setting(
        "QueryTimeout",
        default=0.0,
        doc="Seconds a statement may run before it is cancelled, waits for the network and rate limits included "
        "(0: no limit).",
    )
    allow_unscoped_writes: bool = setting(
        "AllowUnscopedWrites",
        default=False,
        doc="Allow UPDATE and DELETE without a WHERE clause (or with one that is always true); SaaS writes "
        "can't be rolled back, so they are refused by default.",
    )
    cache_ttl: float = setting(
        "CacheTTL",
        default=0.0,
        doc="Seconds a query's API results are reused: a repeated query within it costs no call, and a write "
        "through duckfed to the table drops them (0: no cache).",
    )
    max_calls: int = setting(
        "MaxCalls",
        default=0,
        doc="API calls one statement may spend; a statement that would need more is refused before its first "
        "call where the count is known up front, and stopped when it reaches the cap otherwise (0: no cap).",
    )
    progress: bool = setting(
        "Progress",
        default=True,
        doc="Show a progress bar for scans, syncs and writes that run longer than a second, on an interactive "
        "terminal or in a notebook (also off with the environment variable DUCKFED_PROGRESS=0).",
    )


class Connector(abc.ABC):
    """One configured source: a scheme (`financialforce`), validated settings and its tables."""

    #: The SQLAlchemy scheme and source name.
    scheme: ClassVar[str]
    #: The settings this connector takes (a subclass of `CommonSettings`).
    settings_class: ClassVar[type[CommonSettings]] = CommonSettings

    def __init__(self, properties: Mapping[str, object]) -> None:
        self.config: CommonSettings = self.settings_class.parse(properties, source=self.scheme)
        #: The same values keyed by property name (`settings["Pushdown"]`).
        self.settings = self.config.by_property()
        #: The connector's HTTP client and metadata cache, when it has them (interrupts and drift use them).
        self.http: HttpClient | None = None
        self.cache: MetadataCache | None = None
        self._tables: dict[str, Table] = {}
        self._tables_lock = threading.Lock()

    def http_client(self, check: ResponseCheck, **options: Any) -> HttpClient:
        """An HTTP client for this source with the common settings applied (Timeout, MaxRetries); `options` are
        `HttpClient`'s others (limiter, quota_reader, headers)."""
        retry = RetryPolicy(attempts=self.config.max_retries)
        return HttpClient(source=self.scheme, check=check, timeout=self.config.timeout, retry=retry, **options)

    def metadata_cache(self, *identity: str) -> MetadataCache:
        """The on-disk metadata cache of this source for one endpoint and user (`identity`, never a secret)."""
        config = self.config
        space = namespace(self.scheme, *identity)
        return MetadataCache(config.metadata_cache_dir, space, config.metadata_cache_ttl, scheme=self.scheme)

    def rate_limiter(self, *account: str, default: RateLimit) -> AccountLimiter:
        """The process-wide limiter for this account (keyed as the vendor counts: `account` parts), with the
        vendor's published `default` limits unless the `RateLimit` property overrides them."""
        limit = default
        if self.config.rate_limit:
            try:
                limit = parse_rate_limit(self.config.rate_limit)
            except ValueError as error:
                raise ConfigurationError(f"property RateLimit: {error}", source=self.scheme) from None
        return limiter_for((self.scheme, *account), limit)

    @classmethod
    def all_properties(cls) -> tuple[Property, ...]:
        return cls.settings_class.properties()

    @abc.abstractmethod
    def table_names(self) -> list[str]:
        """The names of every table, from cached metadata when fresh."""

    @abc.abstractmethod
    def _open_table(self, name: str) -> Table:
        """The table with exactly this canonical name."""

    def table(self, name: str) -> Table:
        """The table named `name`, matched case-insensitively like DuckDB identifiers (opened once)."""
        canonical = self.resolve(name)
        if canonical is None:
            raise UnknownTableError(f"no table {name!r}", source=self.scheme)
        with self._tables_lock:
            table = self._tables.get(canonical)
            if table is None:
                table = self._tables[canonical] = self._open_table(canonical)
        return table

    def resolve(self, name: str) -> str | None:
        """The canonical name of table `name`, or None."""
        lowered = name.lower()
        return next((t for t in self.table_names() if t.lower() == lowered), None)

    def login(self) -> None:
        """Sign in now (storing the session or tokens where the settings say), instead of at the first call."""
        if self.http is not None and self.http.auth is not None:
            self.http.auth.prepare()

    def forget_metadata(self, table: str | None = None) -> None:
        """Drop cached metadata (of one table, or all) so the next use reads it from the API again.

        Called when the API rejects a field the cached metadata lists (schema drift)."""
        if self.cache is not None:
            self.cache.clear(table_key(table) if table is not None else None)
        with self._tables_lock:
            if table is None:
                self._tables.clear()
            else:
                self._tables.pop(table, None)

    def interrupt(self, reason: str = "the statement was interrupted") -> None:
        """Wake any call waiting on the network or the rate limiter: it raises `Cancelled`."""
        if self.http is not None:
            self.http.cancel.cancel(reason)

    def resume(self) -> None:
        """Accept calls again after `interrupt` (at the start of the next statement)."""
        if self.http is not None:
            self.http.cancel.reset()

    def close(self) -> None:
        """Release the connector's HTTP client."""
        if self.http is not None:
            self.http.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme}>"
