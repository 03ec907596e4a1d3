"""SQLAlchemy dialects `financialforce://` and `certinia://`."""

from __future__ import annotations

from federation.dialect import FederationDialect


class FinancialForceDialect(FederationDialect):
    scheme = "financialforce"


class CertiniaDialect(FederationDialect):
    scheme = "certinia"
