"""A Parquet export of source tables streams: `COPY … TO 'x.parquet'` gets row groups bounded by bytes and no order
to keep, unless it decides those itself or ends in ORDER BY (whose order the file keeps); other statements are
left as they are. The memory this saves is measured by `benchmarks/parquet_memory.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import federation
from federation.cli import main
from federation.copy_options import ROW_GROUP_BYTES, streaming
from federation.sandbox import Sandbox

ADDED = f"ROW_GROUP_SIZE_BYTES '{ROW_GROUP_BYTES}', PRESERVE_ORDER FALSE"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "COPY (SELECT * FROM src.contacts WHERE name = 'a;b') TO 'x.parquet'",
            f"COPY (SELECT * FROM src.contacts WHERE name = 'a;b') TO 'x.parquet' WITH ({ADDED})",
        ),
        ("copy src.contacts to 'X.PARQUET'", f"COPY src.contacts TO 'X.PARQUET' WITH ({ADDED})"),
        (
            "COPY (FROM src.contacts) TO 'out' (FORMAT 'parquet', COMPRESSION zstd)",
            f"COPY (SELECT * FROM src.contacts) TO 'out' WITH (FORMAT 'parquet', COMPRESSION zstd, {ADDED})",
        ),
        ("COPY (SELECT * FROM src.contacts ORDER BY name) TO 'x.parquet'", None),
        ("COPY (SELECT * FROM src.contacts) TO 'x.parquet' (ROW_GROUP_SIZE 5000)", None),
        ("COPY (SELECT * FROM src.contacts) TO 'x.parquet' (PRESERVE_ORDER true)", None),
        ("COPY (SELECT * FROM src.contacts) TO 'x.csv'", None),
        ("COPY (SELECT * FROM src.contacts) TO 'x.parquet' (FORMAT csv)", None),
        ("COPY mine FROM 'x.parquet'", None),
        ("SELECT 'COPY' FROM src.contacts", None),
    ],
)
def test_which_copies_get_the_options(sql: str, expected: str | None) -> None:
    assert streaming(sql) == expected


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with Sandbox(records=300, sources=["template"]) as sandbox:
        yield sandbox.url("template") + "&PageSize=100"


def parquet(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect() as con:
        return con.execute(sql.replace("FILE", f"'{path}'")).fetchall()


def test_an_export_holds_every_row_and_an_ordered_one_keeps_its_order(url: str, tmp_path: Path) -> None:
    with federation.connect({"src": url}) as con:
        expected = con.execute("SELECT * FROM src.contacts ORDER BY name DESC, id").fetchall()
        con.execute(f"COPY (SELECT * FROM src.contacts) TO '{tmp_path / 'all.parquet'}'")
        con.execute(f"COPY (SELECT * FROM src.contacts ORDER BY name DESC, id) TO '{tmp_path / 'sorted.parquet'}'")
    assert parquet(tmp_path / "all.parquet", "SELECT * FROM FILE ORDER BY name DESC, id") == expected
    assert parquet(tmp_path / "sorted.parquet", "SELECT * FROM FILE") == expected


def test_duckfed_query_writes_parquet_through_the_same_export(url: str, tmp_path: Path) -> None:
    out = tmp_path / "top.parquet"
    sql = "SELECT id, name FROM src.contacts WHERE id <= 50 ORDER BY id DESC;"
    assert main(["query", sql, "--source", f"src={url}", "--format", "parquet", "--output", str(out)]) == 0
    assert parquet(out, "SELECT id FROM FILE") == [(n,) for n in range(50, 0, -1)]
