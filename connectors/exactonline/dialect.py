"""SQLAlchemy dialect `exactonline://`."""

from __future__ import annotations

from federation.dialect import FederationDialect


class ExactOnlineDialect(FederationDialect):
    scheme = "exactonline"
    # SQLAlchemy reads this from each concrete class; duckdb-engine's compiler does not support the cache.
    supports_statement_cache = False
