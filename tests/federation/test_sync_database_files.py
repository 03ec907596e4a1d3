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


def cli(path: Path, sql: str) -> list[str]:
    """`sql`'s CSV rows from the DuckDB 1.5 CLI (the package index's `duckdb-cli`) on the file."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "duckdb"), "-csv", str(path), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[1:]


def test_the_duckdb_cli_opens_a_file_written_through_duckfed(url: str, tmp_path: Path) -> None:
    path = tmp_path / "own.duckdb"
    with federation.connect({"src": url}, database=str(path)) as con:
        con.execute("CREATE TABLE recent AS SELECT id, name, city FROM src.contacts WHERE id <= 5")
        con.execute("CREATE VIEW paris AS SELECT id FROM recent WHERE city = 'Paris'")
        expected = con.execute("SELECT count(*) FROM paris").fetchone()
    # Created in the storage version the 1.5 CLI reads, and kept in it when DuckDB 2.0 writes the file again.
    with duckdb.connect(str(path)) as plain:
        plain.execute("CREATE TABLE later AS SELECT 1 AS one")
    assert cli(path, "SELECT count(*) FROM recent") == ["5"]
    assert cli(path, "SELECT count(*) FROM paris") == [str(expected[0] if expected else None)]
    assert cli(path, "SELECT view_name FROM duckdb_views() WHERE NOT internal") == ["paris"]
    assert cli(path, "SELECT one FROM later") == ["1"]


def test_a_view_stored_in_a_file_cannot_read_a_source_table(url: str, tmp_path: Path) -> None:
    path = tmp_path / "own.duckdb"
    with federation.connect({"src": url}, database=str(path)) as con:
        with pytest.raises(federation.errors.NotSupportedError, match=r"CREATE VIEW v reads source tables \(src\."):
            con.execute("CREATE VIEW v AS SELECT id FROM contacts WHERE id < 3")
        with pytest.raises(federation.errors.NotSupportedError, match="TEMP VIEW"):
            con.execute("CREATE OR REPLACE VIEW main.w AS SELECT c.id FROM src.companies c")
        # For this connection only, or a copy of the rows: both fine.
        con.execute("CREATE TEMP VIEW few AS SELECT id FROM src.contacts WHERE id < 3")
        con.execute("CREATE TABLE copied AS SELECT id FROM src.contacts WHERE id < 3")
        assert con.execute("SELECT count(*) FROM few").fetchone() == (2,)
    assert views(path) == []
    assert cli(path, "SELECT count(*) FROM copied") == ["2"]
    # In memory, a view dies with the connection like the source tables it reads: allowed.
    with federation.connect({"src": url}) as con:
        con.execute("CREATE VIEW v AS SELECT id FROM src.contacts WHERE id < 3")
        assert con.execute("SELECT count(*) FROM v").fetchone() == (2,)
