"""What the conformance modules share: the cases, a case's sandbox seen from the tests, the differential check
and writes to the case's writable table.

`CASES` holds every `ConformanceCase` the `duckfed.sandbox` entry points declare. `Source` opens connections to
one case's emulator (with extra properties such as small pages or pushdown off), counts the calls the emulator
served, and names the case's tables in SQL. `Differential` runs one statement twice — through duckfed with
pushdown, and in plain DuckDB over a full local copy of the table — and insists on the same rows: the truth is
what DuckDB computes, whatever the API evaluated. `Writer` inserts the case's new rows and reads them back.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

import duckdb
import pyarrow as pa

import federation
from federation.connection import Connection
from federation.sandbox import GROUP, ConformanceCase, Sandbox, SandboxServer, SandboxSpec

#: Records per main object: a few pages at the smallest page size, and a page boundary not on a round number.
RECORDS = 1013
#: The schema every source is attached as.
SCHEMA = "src"
#: The suite sends hundreds of calls; at a vendor's published rate (the template's: 10 a second) that alone
#: would take minutes. Connections use this client-side limit unless a test checks the vendor's own.
UNTHROTTLED = {"RateLimit": "10000/second"}

Rows = list[tuple[Any, ...]]
Row = Mapping[str, object]


def discover() -> dict[str, ConformanceCase]:
    """The conformance case of every sandbox source that declares one, by scheme."""
    found: dict[str, ConformanceCase] = {}
    for entry in entry_points(group=GROUP):
        spec = entry.load()
        if isinstance(spec, SandboxSpec) and spec.conformance is not None:
            found[entry.name] = spec.conformance
    return dict(sorted(found.items()))


CASES = discover()


def quoted(name: str) -> str:
    """`name` as a DuckDB identifier, whatever characters a connector's table and column names hold."""
    return '"' + name.replace('"', '""') + '"'


def table_sql(name: str) -> str:
    """The source table `name` as SQL."""
    return f"{SCHEMA}.{quoted(name)}"


class Source:
    """One case's sandbox from the tests' side; `close` closes every connection it opened."""

    def __init__(self, sandbox: Sandbox, scheme: str, case: ConformanceCase) -> None:
        self.sandbox = sandbox
        self.scheme = scheme
        self.case = case
        self.opened: list[Connection] = []
        self.limits: dict[str, str] = dict(UNTHROTTLED)

    @property
    def server(self) -> SandboxServer:
        return self.sandbox.server(self.scheme)

    def properties(self, **extra: str) -> dict[str, str]:
        return {**self.sandbox.properties(self.scheme), **extra}

    def with_vendor_limits(self) -> Source:
        """From now on, open connections whose client-side rate limiter keeps the connector's defaults."""
        self.limits = {}
        return self

    def open(self, **extra: str) -> Connection:
        """A new connection (a new connector, so a new login) with `extra` properties."""
        con = federation.connect({SCHEMA: {**self.limits, **self.properties(**extra), "scheme": self.scheme}})
        self.opened.append(con)
        return con

    def warm(self, **extra: str) -> Connection:
        """A connection that has logged in and described the main table, so that the next call is a scan page."""
        con = self.open(**extra)
        con.execute(f"SELECT {quoted(self.case.key)} FROM {self.table()} LIMIT 1").fetchall()
        return con

    def table(self, name: str | None = None) -> str:
        """The main table (or `name`) as SQL."""
        return table_sql(name or self.case.table)

    def calls(self) -> int:
        return self.server.calls

    def by_kind(self) -> Counter[str]:
        return Counter(self.server.calls_by_kind)

    def keys(self, con: Connection) -> list[str]:
        """The main table's keys (as text, as the emulator's `Mutation` gives them) in the order the scan gave."""
        return [str(row[0]) for row in con.execute(f"SELECT {quoted(self.case.key)} FROM {self.table()}").fetchall()]

    def close(self) -> None:
        for con in self.opened:
            con.close()
        self.opened.clear()


def local_copy(table: str, data: pa.Table) -> duckdb.DuckDBPyConnection:
    """Plain DuckDB holding `data` as `src.<table>`, so the suite's SQL runs unchanged against it."""
    local = duckdb.connect()
    local.execute(f"CREATE SCHEMA {SCHEMA}")
    local.register("full_copy", data)
    local.execute(f"CREATE TABLE {SCHEMA}.{quoted(table)} AS SELECT * FROM full_copy")
    local.unregister("full_copy")
    return local


def sorted_rows(rows: Rows) -> Rows:
    return sorted(rows, key=repr)


class Differential:
    """Runs a statement with pushdown and against the local copy; they must agree."""

    def __init__(self, pushed: Connection, local: duckdb.DuckDBPyConnection) -> None:
        self.pushed = pushed
        self.local = local

    def check(self, sql: str, params: Sequence[object] | None = None) -> Rows:
        """The rows of `sql`, after asserting that pushdown returned exactly what DuckDB computes locally."""
        got = sorted_rows(self.pushed.execute(sql, params).fetchall())
        expected = sorted_rows(self.local.execute(sql, params).fetchall())
        assert got == expected, f"pushdown changed the result of {sql} {params}"
        return got


#: Numbers for `ConformanceCase.new_row`, unique for the session (each case writes to its own sandbox).
_serials = itertools.count(1)


class Writer:
    """SQL for the case's writable table, and what the API holds afterwards."""

    def __init__(self, source: Source, con: Connection) -> None:
        self.source = source
        self.case = source.case
        self.con = con
        self.table = source.table(self.case.writable_table)
        info = con.federation.sources[SCHEMA].table(self.case.writable_table).info
        assert info.primary_key is not None, f"{self.case.writable_table} declares no key to write by"
        #: The writable table's key column.
        self.key_column = info.primary_key.name
        self.key = quoted(self.key_column)

    def rows(self, count: int) -> list[Row]:
        return [self.case.new_row(next(_serials)) for _ in range(count)]

    def insert(self, rows: Sequence[Row], returning: Sequence[str] = ()) -> Rows:
        columns = list(rows[0])
        marks = ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in rows)
        sql = f"INSERT INTO {self.table} ({', '.join(quoted(c) for c in columns)}) VALUES {marks}"
        if returning:
            sql += " RETURNING " + ", ".join(quoted(c) for c in returning)
        self.con.execute(sql, [row[c] for row in rows for c in columns])
        returned: Rows = self.con.fetchall()
        return returned

    def insert_returning_keys(self, rows: Sequence[Row]) -> list[Any]:
        return [found[0] for found in self.insert(rows, [self.key_column])]

    def matching(self, row: Row) -> list[Any]:
        """Keys of the records holding every value of `row`, read through the API by a fresh connection."""
        where = " AND ".join(f"{quoted(c)} = ?" for c in row)
        found = self.source.open().execute(f"SELECT {self.key} FROM {self.table} WHERE {where}", list(row.values()))
        return [r[0] for r in found.fetchall()]

    def read(self, keys: Sequence[Any], columns: Sequence[str]) -> dict[Any, tuple[Any, ...]]:
        """`columns` of the records with `keys`, by key."""
        wanted = ", ".join(quoted(c) for c in columns)
        sql = f"SELECT {self.key}, {wanted} FROM {self.table} WHERE {self.key} IN ({', '.join('?' for _ in keys)})"
        return {r[0]: tuple(r[1:]) for r in self.con.execute(sql, list(keys)).fetchall()}
