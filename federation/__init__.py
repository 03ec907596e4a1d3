"""duckfed: SaaS business systems as SQL tables, on DuckDB and Apache Arrow.

`federation.connect({"fin": "financialforce:///?User=…"})` returns a DuckDB connection with each source's tables
as views; `create_engine("financialforce:///?…")` gives the same through SQLAlchemy.
"""

from federation.connection import Connection, connect

__all__ = ["Connection", "connect"]
