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
from typing import Any, ClassVar, Self

from federation.auth import SessionAuth
from federation.catalog import MetadataCache, namespace, table_key
from federation.errors import ConfigurationError, NotSupportedError, UnknownTableError
from federation.handoff import SIGN_IN_PROPERTIES, AccessGrant, HandedLogin, rate_limit_text, share
from federation.http import HttpClient, ResponseCheck, RetryPolicy
from federation.ratelimit import AccountLimiter, RateLimit, limiter_for, parse_rate_limit
from federation.results import CachedTable
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
        #: Who this source reads as (scheme, endpoint and user, hashed; never a secret), once known: the key of
        #: its entries in the process's result cache (`CacheTTL`).
        self.account: str | None = None
        self._tables: dict[str, Table] = {}
        self._tables_lock = threading.Lock()

    def http_client(self, check: ResponseCheck, **options: Any) -> HttpClient:
        """An HTTP client for this source with the common settings applied (Timeout, MaxRetries); `options` are
        `HttpClient`'s others (limiter, quota_reader, headers)."""
        config = self.config
        retry = RetryPolicy(attempts=config.max_retries)
        return HttpClient(
            source=self.scheme, check=check, timeout=config.timeout, retry=retry, max_calls=config.max_calls, **options
        )

    def metadata_cache(self, *identity: str) -> MetadataCache:
        """The on-disk metadata cache of this source for one endpoint and user (`identity`, never a secret)."""
        config = self.config
        space = self.account = namespace(self.scheme, *identity)
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
                table = self._open_table(canonical)
                if self.config.cache_ttl > 0:
                    account = self.account or f"{self.scheme}@{id(self):x}"
                    table = CachedTable(table, account, self.config.cache_ttl)
                self._tables[canonical] = table
        return table

    def resolve(self, name: str) -> str | None:
        """The canonical name of table `name`, or None."""
        lowered = name.lower()
        return next((t for t in self.table_names() if t.lower() == lowered), None)

    def login(self) -> None:
        """Sign in now (storing the session or tokens where the settings say), instead of at the first call."""
        if self.http is not None and self.http.auth is not None:
            self.http.auth.prepare()

    def export_access(self, *, workers: int = 1) -> AccessGrant:
        """Sign in now (here, where tokens are stored) and return what `workers` processes need to call the API
        as this user without signing in themselves (`federation.handoff`): no secret but the access token, and
        each worker's share of the rate limit. Sources whose sign-in isn't OAuth can't hand over a session."""
        auth = self.http.auth if self.http is not None else None
        names = {p.name for p in self.all_properties()}
        if not isinstance(auth, SessionAuth) or not {"InitiateOAuth", "OAuthAccessToken"} <= names:
            raise NotSupportedError(
                "this source can't hand an access token to other processes (its sign-in is not OAuth)",
                source=self.scheme,
            )
        session = auth.session()
        secret = {p.name for p in self.all_properties() if p.secret}
        properties = {
            name: value
            for name, value in self.settings.items()
            if value is not None and name not in secret and name not in SIGN_IN_PROPERTIES
        }
        limit = self.http.limiter.limit if self.http is not None and self.http.limiter is not None else None
        rate = rate_limit_text(share(limit, workers)) if limit is not None and limit.windows else None
        return AccessGrant(self.scheme, properties, session, rate)

    @classmethod
    def from_access(cls, grant: AccessGrant) -> Self:
        """A connector that calls the API with the access token of `grant` (see `export_access`) and never signs
        in, refreshes or rotates a token: once the token expires its calls fail with an AuthenticationError."""
        if grant.scheme != cls.scheme:
            raise ConfigurationError(f"an access grant for {grant.scheme!r} can't open {cls.scheme!r}")
        # InitiateOAuth=OFF with the token: the source's own check of its settings passes without any secret.
        properties = {**grant.properties, "InitiateOAuth": "OFF", "OAuthAccessToken": grant.session.token}
        if grant.rate_limit is not None:
            properties["RateLimit"] = grant.rate_limit
        connector = cls(properties)
        auth = connector.http.auth if connector.http is not None else None
        if not isinstance(auth, SessionAuth):
            connector.close()
            raise NotSupportedError("this source can't use a handed-over access token", source=cls.scheme)
        auth.adopt(HandedLogin(grant.session, cls.scheme))
        return connector

    def call_limits(self) -> str | None:
        """The limits this source's calls count against, and what is left of a daily quota, as EXPLAIN shows them."""
        limiter = self.http.limiter if self.http is not None else None
        if limiter is None:
            return None
        parts = [w.describe() for w in limiter.limit.windows]
        left = limiter.daily_remaining()
        if left is not None:
            parts.append(f"{left:,} calls left of the daily quota")
        if self.config.max_calls:
            parts.append(f"MaxCalls={self.config.max_calls:,} a statement")
        return ", ".join(parts) or None

    def row_count(self, table: str) -> int | None:
        """The table's row count as a full scan last found it (kept with the metadata), for EXPLAIN's estimate of
        the calls a scan takes and DuckDB's join order; None before any full scan."""
        if self.cache is None:
            return None
        found = self.cache.get(f"rows:{table_key(table)}")
        return found if isinstance(found, int) else None

    def count_rows(self, table: str, rows: int) -> None:
        """Remember the row count a full scan of `table` found."""
        if self.cache is not None:
            self.cache.put(f"rows:{table_key(table)}", rows)

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

    def check_budget(self, calls: int, what: str) -> None:
        """Refuse `what`, before any of its `calls` API calls is sent, when they would pass `MaxCalls` or the daily
        quota left (`CallBudgetExceeded`)."""
        if self.http is not None:
            self.http.check_budget(calls, what)

    def close(self) -> None:
        """Release the connector's HTTP client."""
        if self.http is not None:
            self.http.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme}>"
