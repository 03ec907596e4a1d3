"""The answers to the catalog queries PostgreSQL clients send: the DuckDB postgres extension's connection checks and
its catalog load (one schema per source, one table per source table, primary keys as constraints), and the health
check every client pool sends.

They are recognised by their text (`reference/pgwire.md` records each verbatim) and answered from the sources'
table metadata, since DuckDB's own `pg_catalog` describes DuckDB, not the served tables. Every table is reported
with `relpages = 0`, which keeps the extension off its parallel ctid-range scans (`pg_export_snapshot()`), which
make no sense here. Values are sent as text, as PostgreSQL's own text output renders them (`t`/`f`, `{1}`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from federation.serve.types import INT4, PgType, pg_type
from federation.sources import Federation

#: What `version()` answers: the extension and psql read the major version from it.
SERVER_VERSION = "15.0"
VERSION = f"PostgreSQL {SERVER_VERSION} (duckfed)"
#: OIDs of the schemas (one per source), after PostgreSQL's first OID for user objects.
FIRST_OID = 16384

_COLUMNS = [
    "namespace_id",
    "relname",
    "relpages",
    "attname",
    "type_name",
    "type_modifier",
    "ndim",
    "attnum",
    "notnull",
    "constraint_id",
    "constraint_type",
    "constraint_key",
    "type_schema",
    "column_comment",
    "table_comment",
]


@dataclass(frozen=True)
class Answer:
    """A canned result: its rows as text, and the command tag."""

    table: pa.Table
    tag: str
    #: The columns' types (text unless given): values are sent in text format either way.
    types: tuple[PgType, ...] = ()


def _table(names: list[str], rows: list[list[str | None]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({name: pa.array(list(values), pa.string()) for name, values in zip(names, columns, strict=True)})


def _rows(names: list[str], rows: list[list[str | None]]) -> Answer:
    return Answer(_table(names, rows), f"SELECT {len(rows)}")


def _normal(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip().rstrip(";").strip().lower()


class Catalog:
    """Answers catalog queries about the sources of a `Federation`."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self._answers: list[tuple[Callable[[str], bool], Callable[[], Answer]]] = [
            (lambda q: q == "select 1", lambda: Answer(_table(["?column?"], [["1"]]), "SELECT 1", (INT4,))),
            (lambda q: q.startswith("select version(), (select count(*) from pg_settings"), self._version),
            (lambda q: q == "select version()", lambda: _rows(["version"], [[VERSION]])),
            (lambda q: re.fullmatch(r"select to_regclass\('[^']*'\)", q) is not None, self._regclass),
            (lambda q: q.startswith("select oid, nspname from pg_namespace"), self._namespaces),
            (lambda q: q.startswith("select pg_namespace.oid as namespace_id, relname, relpages"), self._tables),
            (lambda q: "from pg_enum e" in q, lambda: _rows(["oid", "enumtypid", "typname", "enumlabel"], [])),
            (
                lambda q: "t.typrelid as id" in q and "from pg_type t" in q,
                lambda: _rows(["oid", "id", "type", "attname", "typname", "sub_type_schema"], []),
            ),
            (lambda q: "from pg_indexes" in q, lambda: _rows(["oid", "tablename", "indexname"], [])),
        ]

    def answer(self, sql: str) -> Answer | None:
        """The answer to `sql` when it is one of the catalog queries, else None."""
        query = _normal(sql)
        for matches, build in self._answers:
            if matches(query):
                return build()
        return None

    def _version(self) -> Answer:
        return _rows(["version", "count"], [[VERSION, "0"]])

    def _regclass(self) -> Answer:
        return _rows(["to_regclass"], [[None]])

    def _schemas(self) -> list[tuple[int, str]]:
        return [(FIRST_OID + i, key) for i, key in enumerate(self.federation.sources)]

    def _namespaces(self) -> Answer:
        return _rows(["oid", "nspname"], [[str(oid), key] for oid, key in self._schemas()])

    def _tables(self) -> Answer:
        rows: list[list[str | None]] = []
        constraint = FIRST_OID + len(self.federation.sources)
        for oid, key in self._schemas():
            connector = self.federation.sources[key]
            for name in sorted(connector.table_names()):
                info = connector.table(name).info
                keys = []
                for number, column in enumerate(info.columns, start=1):
                    kind = pg_type(column.type)
                    notnull = column.primary_key or not column.nullable
                    comment = column.description or None
                    rows.append(
                        [
                            *(str(oid), info.name, "0", column.name, kind.name, str(kind.modifier), "0", str(number)),
                            *("t" if notnull else "f", None, None, None, "pg_catalog", comment),
                            info.description or None,
                        ]
                    )
                    if column.primary_key:
                        keys.append(str(number))
                if keys:
                    constraint += 1
                    rows.append(
                        [str(oid), info.name]
                        + [None] * 7
                        + [str(constraint), "p", "{" + ",".join(keys) + "}"]
                        + [None] * 3
                    )
        return _rows(_COLUMNS, rows)
