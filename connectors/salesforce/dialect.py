"""SQLAlchemy dialects `financialforce://` and `certinia://`."""

from __future__ import annotations

from federation.dialect import FederationDialect


class FinancialForceDialect(FederationDialect):
    scheme = "financialforce"
    # SQLAlchemy reads this from each concrete class; duckdb-engine's compiler does not support the cache.
    supports_statement_cache = False


class CertiniaDialect(FederationDialect):
    scheme = "certinia"
    supports_statement_cache = False
