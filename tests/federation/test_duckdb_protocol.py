"""Pins what DuckDB's Arrow source protocol does that the bridge relies on.

If a DuckDB upgrade changes any of this, these tests fail before a query returns wrong rows: which predicates
`accepts` is offered and in what shape, what `stream` receives, that accepted predicates are not re-checked,
that a LIMIT stops pulling the stream, and that registrations are per connection.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator, Sequence

import duckdb
import pyarrow as pa
import pytest
from duckdb._sources import ArrowScanSource
from duckdb._sources.nodes import Node

SCHEMA = pa.schema(
    [
        ("Id", pa.string()),
        ("Name", pa.string()),
        ("Amount", pa.decimal128(18, 2)),
        ("Closed", pa.date32()),
        ("Created", pa.timestamp("us", tz="UTC")),
        ("Active", pa.bool_()),
        ("Employees", pa.int64()),
    ]
)
ROWS = [
    {
        "Id": f"r{i}",
        "Name": ["acme", "ACME", None][i % 3],
        "Amount": decimal.Decimal(i) / 4,
        "Closed": datetime.date(2024, 1, 1 + i),
        "Created": datetime.datetime(2024, 1, 1, i, tzinfo=datetime.UTC),
        "Active": i % 2 == 0,
        "Employees": i,
    }
    for i in range(9)
]


class Recording(ArrowScanSource):
    """Accepts everything, never filters, and records what DuckDB asked for."""

    schema_is_stable = True

    def __init__(self, batches: int = 3) -> None:
        super().__init__(None)
        self.offered: list[str] = []
        self.streams: list[tuple[Sequence[int] | None, list[str]]] = []
        self.pulled = 0
        self.batches = batches

    def __arrow_c_schema__(self) -> object:
        return SCHEMA.__arrow_c_schema__()

    def accepts(self, predicate: Node) -> bool:
        self.offered.append(predicate.fragment())
        return True

    def stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
        self.streams.append((None if columns is None else list(columns), [f.fragment() for f in filters]))

        def batches() -> Iterator[pa.RecordBatch]:
            for _ in range(self.batches):
                self.pulled += 1
                yield pa.RecordBatch.from_pylist(ROWS, schema=SCHEMA)

        return pa.RecordBatchReader.from_batches(SCHEMA, batches()).__arrow_c_stream__(), False


@pytest.fixture()
def con() -> Iterator[tuple[duckdb.DuckDBPyConnection, Recording]]:
    connection = duckdb.connect()
    source = Recording()
    connection._register_arrow_source("t", source)
    yield connection, source
    connection.close()


def test_conjuncts_are_offered_one_by_one_with_typed_literals(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, source = con
    connection.execute(
        "SELECT Name FROM t WHERE Name = 'acme' AND Amount > 1.5 AND Closed < DATE '2024-01-05' "
        "AND Created >= TIMESTAMPTZ '2024-01-01 02:00:00+00' AND Employees IN (1, 2, 3)"
    ).fetchall()
    # DuckDB picks the order; the set is what matters.
    assert sorted(source.offered) == [
        "(\"Amount\" > CAST('1.50' AS DECIMAL(18, 2)))",
        "(\"Closed\" < DATE '2024-01-05')",
        "(\"Created\" >= TIMESTAMPTZ '2024-01-01 02:00:00+00')",
        '("Employees" IN (1, 2, 3))',
        "(\"Name\" = 'acme')",
    ]
    columns, filters = source.streams[0]
    assert columns == [1]
    assert sorted(filters) == sorted(source.offered)


def test_or_not_null_and_between_arrive_as_trees(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, source = con
    connection.execute(
        "SELECT * FROM t WHERE (Name = 'a' OR Name IS NULL) AND NOT (Employees IN (3, 4)) "
        "AND NOT (Amount = 2) AND Employees BETWEEN 1 AND 5"
    ).fetchall()
    assert sorted(source.offered) == sorted(
        [
            '(("Name" = \'a\') OR ("Name" IS NULL))',
            '(("Employees" >= 1) AND ("Employees" <= 5))',
            "(\"Amount\" != CAST('2.00' AS DECIMAL(18, 2)))",  # NOT (x = v) arrives simplified
            '(NOT ("Employees" IN (3, 4)))',
        ]
    )
    assert source.streams[0][0] is None


def test_bare_boolean_columns_are_not_offered(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, source = con
    connection.execute("SELECT * FROM t WHERE NOT Active").fetchall()
    assert source.offered == []


def test_bound_parameters_arrive_as_literals(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, source = con
    connection.execute("SELECT Id FROM t WHERE Name = $1 AND Employees < $2", ["O'Brien", 4]).fetchall()
    assert source.offered == ["(\"Name\" = 'O''Brien')", '("Employees" < 4)']


def test_functions_and_like_are_never_offered(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, source = con
    rows = connection.execute("SELECT Id FROM t WHERE lower(Name) = 'acme' AND Name LIKE 'a%'").fetchall()
    assert source.offered == []
    assert len(rows) == 9  # DuckDB applied both itself: 3 matching rows in each of 3 batches


def test_accepted_predicates_are_not_rechecked(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, _ = con
    # The source accepts and ignores the filter, so every row comes back: DuckDB trusts `accepts`.
    assert connection.execute("SELECT count(*) FROM t WHERE Employees = 1").fetchone() == (27,)


def test_limit_stops_pulling_the_stream(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, source = con
    connection.execute("SELECT * FROM t LIMIT 2").fetchall()
    assert source.pulled == 1
    assert len(source.streams) == 1


def test_registrations_are_per_connection(con: tuple[duckdb.DuckDBPyConnection, Recording]) -> None:
    connection, _ = con
    with pytest.raises(duckdb.CatalogException):
        connection.cursor().execute("SELECT * FROM t")


def test_schema_is_read_at_registration() -> None:
    read = []

    class Lazy(Recording):
        def __arrow_c_schema__(self) -> object:
            read.append(True)
            return super().__arrow_c_schema__()

    connection = duckdb.connect()
    connection._register_arrow_source("t", Lazy())
    assert read, "registration reads the schema: the catalog must register tables lazily"
    connection.close()


def test_an_exception_in_the_stream_fails_the_query() -> None:
    class Failing(Recording):
        def stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
            def batches() -> Iterator[pa.RecordBatch]:
                yield pa.RecordBatch.from_pylist(ROWS, schema=SCHEMA)
                raise RuntimeError("page 2 failed")

            return pa.RecordBatchReader.from_batches(SCHEMA, batches()).__arrow_c_stream__(), False

    connection = duckdb.connect()
    connection._register_arrow_source("t", Failing())
    with pytest.raises(duckdb.Error, match="page 2 failed"):
        connection.execute("SELECT count(*) FROM t").fetchall()
    connection.close()
