"""duckfed: SaaS business systems as SQL tables, on DuckDB and Apache Arrow.

`federation.connect({"fin": "financialforce:///?User=…"})` returns a DuckDB connection with each source's tables
as views; `create_engine("financialforce:///?…")` gives the same through SQLAlchemy.

Importing the package loads DuckDB, Arrow and the contract's plain types (errors, predicates, tables), which a
connector module imports first; Arrow's compute kernels, the SQL parser and the HTTP client load with the first
connection, and SQLAlchemy only through `create_engine`, so a script pays for what its code path uses
(`benchmarks/startup.py` measures it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb  # noqa: F401
import pyarrow  # noqa: F401

from federation import errors, predicates, table  # noqa: F401

if TYPE_CHECKING:
    from federation.connection import Connection, connect

__all__ = ["Connection", "connect"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from federation import connection

        return getattr(connection, name)
    raise AttributeError(f"module 'federation' has no attribute {name!r}")
