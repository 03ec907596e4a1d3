"""The options a `COPY … TO 'x.parquet'` that reads source tables gets, so that it streams with flat memory.

DuckDB's Parquet writer buffers each row group whole (122,880 rows by default, however wide they are) and, to keep
the rows in order, holds the row groups that threads finished early until the earlier ones are written: an export
of a million wide records held hundreds of megabytes (`benchmarks/parquet_memory.py` measures it). Bounding row
groups by bytes (`ROW_GROUP_SIZE_BYTES`) is what flattens it, and DuckDB honours that only when the COPY need not
preserve the order (`PRESERVE_ORDER false`, DuckDB's "COPY Statement" and "Parquet Export" documentation).

So both are added, unless the statement already says how to write row groups or order, or its query ends in ORDER
BY: rows without an ORDER BY have no order in SQL (an API returns them in its own), rows with one stay in it.
"""

from __future__ import annotations

import re

from sqlglot import exp

from federation.statements import parse

#: The most DuckDB buffers of one row group: narrow tables keep the default of 122,880 rows, wide ones get fewer.
ROW_GROUP_BYTES = "8MB"
#: Options by which the statement itself decides how row groups are cut or ordered.
_DECIDED = frozenset({"ROW_GROUP_SIZE", "ROW_GROUP_SIZE_BYTES", "PRESERVE_ORDER", "PER_THREAD_OUTPUT"})
_COPY = re.compile(r"\s*copy\b", re.IGNORECASE)


def streaming(sql: str) -> str | None:
    """`sql` with the options that make its Parquet export stream, or None when it is no such COPY or decides
    them itself."""
    if not _COPY.match(sql):
        return None
    statements = parse(sql)
    if len(statements) != 1 or not isinstance(statements[0], exp.Copy):
        return None
    copy = statements[0]
    if copy.args.get("kind") or not _is_parquet(copy):  # kind is True for COPY … FROM
        return None
    if any(_name(p) in _DECIDED for p in copy.args.get("params") or []):
        return None
    query = copy.this.this if isinstance(copy.this, exp.Subquery) else None
    if query is not None and query.args.get("order") is not None:
        return None
    copy.append(
        "params",
        exp.CopyParameter(this=exp.var("ROW_GROUP_SIZE_BYTES"), expression=exp.Literal.string(ROW_GROUP_BYTES)),
    )
    copy.append("params", exp.CopyParameter(this=exp.var("PRESERVE_ORDER"), expression=exp.false()))
    return copy.sql(dialect="duckdb")


def _name(parameter: exp.Expr) -> str:
    return parameter.this.name.upper() if isinstance(parameter, exp.CopyParameter) else ""


def _is_parquet(copy: exp.Copy) -> bool:
    for parameter in copy.args.get("params") or []:
        if _name(parameter) == "FORMAT":
            value = parameter.args.get("expression")
            return value is not None and value.name.lower() == "parquet"
    files = copy.args.get("files") or []
    return len(files) == 1 and isinstance(files[0], exp.Literal) and files[0].name.lower().endswith(".parquet")
