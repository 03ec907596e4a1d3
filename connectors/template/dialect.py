"""SQLAlchemy dialect `template://`."""

from __future__ import annotations

from federation.dialect import FederationDialect


class TemplateDialect(FederationDialect):
    scheme = "template"
    # SQLAlchemy reads this from each concrete class; duckdb-engine's compiler does not support the cache.
    supports_statement_cache = False
