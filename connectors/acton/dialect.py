"""SQLAlchemy dialect `acton://`."""

from __future__ import annotations

from federation.dialect import FederationDialect


class ActOnDialect(FederationDialect):
    scheme = "acton"
    # SQLAlchemy reads this from each concrete class; duckdb-engine's compiler does not support the cache.
    supports_statement_cache = False
