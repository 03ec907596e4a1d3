"""A DuckDB database file written through a federated connection keeps only the user's own objects: the views over
duckfed's per-process registrations are dropped when the connection closes (and, after a process that ended
without closing, when duckfed next opens the file), so plain DuckDB reopens it and finds no broken views."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import federation
from federation.sandbox import Sandbox


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with Sandbox(records=50, sources=["template"]) as sandbox:
        yield sandbox.url("template")


def views(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(path)) as con:
        return con.execute("SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()


def test_plain_duckdb_reopens_a_file_written_through_duckfed(url: str, tmp_path: Path) -> None:
    path = tmp_path / "own.duckdb"
    with federation.connect({"src": url}, database=str(path)) as con:
        con.execute("CREATE TABLE recent AS SELECT id, name FROM src.contacts WHERE id <= 5")
        assert con.execute("SELECT count(*) FROM contacts").fetchone() == (50,)  # src.contacts, unqualified
        con.execute("CREATE VIEW mine AS SELECT id FROM recent")  # the user's own view stays
        con.begin()
        con.execute("SELECT count(*) FROM src.companies").fetchall()  # registered inside an open transaction
    assert views(path) == [("main", "mine")]
    with duckdb.connect(str(path)) as plain:
        assert plain.execute("SELECT count(*) FROM mine").fetchone() == (5,)


def test_views_a_process_left_behind_are_dropped_when_duckfed_opens_the_file(url: str, tmp_path: Path) -> None:
    path = tmp_path / "crashed.duckdb"
    crash = (
        "import os, federation\n"
        f"con = federation.connect({{'src': {url!r}}}, database={str(path)!r})\n"
        "con.execute('SELECT count(*) FROM contacts').fetchall()\n"
        "con.duckdb.execute('CHECKPOINT')\n"
        "os._exit(0)  # ends without closing anything\n"
    )
    subprocess.run([sys.executable, "-c", crash], check=True, timeout=120)
    assert sorted(views(path)) == [("main", "contacts"), ("src", "contacts")]  # what the crash left
    federation.connect({"src": url}, database=str(path)).close()
    assert views(path) == []
