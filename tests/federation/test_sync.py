"""`duckfed sync` end to end on the sandbox: the released DuckDB 1.5 CLI opens the synced file, later runs pick up
inserts, updates and deletes made through the API (from a deletion feed where the connector has one), and a table
whose sync fails stays as the previous run left it."""

from __future__ import annotations

import dataclasses
import datetime
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import federation
from connectors.template.connector import TemplateConnector
from federation.cli import main
from federation.sandbox import Sandbox
from federation.sync import DeletionFeed, sync
from federation.table import Deletions, ScanRequest, Table, TableInfo, WriteResult

#: The DuckDB CLI from the package index (`duckdb-cli`, a dev dependency), installed beside this interpreter.
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"


@pytest.fixture()
def template() -> Iterator[Sandbox]:
    with Sandbox(records=1200, sources=["template"]) as running:
        yield running


def cli(path: Path, sql: str) -> str:
    """Run `sql` in the DuckDB 1.5 CLI on the file, as CSV."""
    done = subprocess.run([str(DUCKDB_CLI), "-csv", str(path), "-c", sql], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def history(path: Path) -> list[tuple[Any, ...]]:
    return rows(path, 'SELECT "table", mode, status, "rows", deleted FROM _duckfed_sync ORDER BY finished')


def test_the_duckdb_cli_opens_a_synced_file_and_runs_queries(
    template: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crm.duckdb"
    url = template.url("template") + "&PageSize=500"
    assert main(["sync", str(path), "--source", f"src={url}", "--table", "contacts", "--table", "src.companies"]) == 0
    out = capsys.readouterr().out
    assert "src.contacts: full copy (first run): 1,200 rows, 4 calls" in out  # describe + 3 pages of 500

    assert cli(path, "SELECT library_version FROM pragma_version()").splitlines()[1].startswith("v1.5.")
    joined = cli(
        path,
        "SELECT c.country, count(*) AS n FROM src.contacts p JOIN src.companies c ON p.company_id = c.id "
        "GROUP BY ALL ORDER BY n DESC, c.country NULLS LAST LIMIT 3",
    )
    with federation.connect({"src": url}) as con:
        expected = con.execute(
            "SELECT c.country, count(*) AS n FROM src.contacts p JOIN src.companies c ON p.company_id = c.id "
            "GROUP BY ALL ORDER BY n DESC, c.country NULLS LAST LIMIT 3"
        ).fetchall()
    assert joined.splitlines()[1:] == [f"{country or 'NULL'},{n}" for country, n in expected]
    # Plain tables, nothing that needs duckfed: the CLI lists them and the run history.
    assert cli(path, "SELECT count(*) FROM duckdb_views() WHERE NOT internal").splitlines()[1] == "0"
    assert cli(path, "SELECT status, count(*) FROM _duckfed_sync GROUP BY ALL").splitlines()[1:] == ["ok,2"]


@pytest.mark.parametrize(
    ("source", "table", "insert", "update", "delete"),
    [
        (
            "template",
            "contacts",
            "INSERT INTO src.contacts (name, active) VALUES ('Synced Newcomer', true)",
            "UPDATE src.contacts SET city = 'Synctown' WHERE id = 5",
            "DELETE FROM src.contacts WHERE id = 7",
        ),
        (
            "financialforce",
            "Account",
            "INSERT INTO src.Account (Name) VALUES ('Synced Newcomer')",
            "UPDATE src.Account SET BillingCity = 'Synctown' WHERE Id = (SELECT min(Id) FROM src.Account)",
            "DELETE FROM src.Account WHERE Id = (SELECT max(Id) FROM src.Account WHERE Name != 'Synced Newcomer')",
        ),
        (
            "exactonline",
            "Accounts",
            "INSERT INTO src.Accounts (Name) VALUES ('Synced Newcomer')",
            "UPDATE src.Accounts SET City = 'Synctown' WHERE ID = (SELECT min(ID) FROM src.Accounts)",
            "DELETE FROM src.Accounts WHERE ID = (SELECT max(ID) FROM src.Accounts WHERE Name != 'Synced Newcomer')",
        ),
    ],
)
def test_an_incremental_sync_picks_up_an_insert_an_update_and_a_delete(
    source: str, table: str, insert: str, update: str, delete: str, tmp_path: Path
) -> None:
    path = tmp_path / "synced.duckdb"
    with Sandbox(records=300, sources=[source]) as sandbox, federation.connect({"src": sandbox.url(source)}) as con:
        info = con.federation.sources["src"].table(table).info
        quiet: list[str] = []
        sync(con, path, [table], say=quiet.append)
        for statement in (insert, update, delete):
            con.execute(statement)
        sync(con, path, [table], say=quiet.append)
        expected = con.execute(f"SELECT * FROM src.{table} ORDER BY ALL").fetchall()
    assert rows(path, f"SELECT * FROM src.{table} ORDER BY ALL") == expected
    assert rows(
        path, f"SELECT count(*) FROM src.{table} WHERE {'name' if source == 'template' else 'Name'} = 'Synced Newcomer'"
    ) == [(1,)]
    # Incremental where the connector declares a modified column: only the inserted and the updated record, and
    # the one stamped at the mark, read again (the overlap); otherwise copied whole, and the output says why.
    if info.modified_column is not None:
        # Deletions from Salesforce's delete log (getDeleted) and Exact's sync/Deleted; the template API lists none:
        # its keys are read.
        assert ("key scan" if source == "template" else "deletion feed") in quiet[-1]
        last = history(path)[-1]
        assert last[:3] == (table, "incremental", "ok") and last[4] == 1
        # The changed records and those stamped within the overlap before the mark: a small part of the table.
        assert 2 <= last[3] < 50 if source != "template" else last[3] == 3
    else:
        assert history(path)[-1][:3] == (table, "full", "ok") and "no modified column" in quiet[-1]


def test_a_sync_that_fails_on_a_later_page_leaves_the_previous_state_and_says_so(
    template: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "synced.duckdb"
    emulator = template.server("template")
    url = template.url("template") + "&PageSize=500&MaxRetries=2"
    said: list[str] = []
    with federation.connect({"src": url}) as con:
        sync(con, path, ["contacts", "companies"], say=said.append)
        before = rows(path, "SELECT * FROM src.contacts ORDER BY id")
        con.execute("UPDATE src.contacts SET city = 'Changed' WHERE id IN (1, 2, 3)")
        con.execute("DELETE FROM src.contacts WHERE id = 9")
        con.execute("UPDATE src.companies SET country = 'Changed' WHERE id = 4")
        # The contacts' changes arrive in one page and are upserted; the key scan's second page then fails longer
        # than the retries last.
        emulator.inject(500, times=2, kinds={"records"}, skip=2)
        runs = sync(con, path, ["contacts", "companies"], say=said.append)
        assert [run.status for run in runs] == ["failed", "ok"]
        assert rows(path, "SELECT * FROM src.contacts ORDER BY id") == before
        assert rows(path, "SELECT country FROM src.companies WHERE id = 4") == [("Changed",)]
        # companies: the updated record and the one stamped at the mark (read again: the overlap).
        assert history(path)[-2:] == [("contacts", "-", "failed", 0, 0), ("companies", "incremental", "ok", 2, 0)]
        assert rows(path, "SELECT error FROM _duckfed_sync WHERE status = 'failed'")[0][0].startswith("template: ")
        assert said[-2].startswith("src.contacts: FAILED after ")

        # The next run starts again from the last good mark and applies everything.
        runs = sync(con, path, ["contacts"], say=said.append)
        assert runs[0].status == "ok" and (runs[0].rows, runs[0].deleted) == (4, 1)
        assert (
            rows(path, "SELECT * FROM src.contacts ORDER BY id")
            == con.execute("SELECT * FROM src.contacts ORDER BY id").fetchall()
        )


def test_where_syncs_matching_records_and_drops_those_that_stop_matching(template: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "synced.duckdb"
    said: list[str] = []
    with federation.connect({"src": template.url("template")}) as con:
        sync(con, path, ["contacts"], {"contacts": "city = 'Paris' OR id = 2"}, say=said.append)
        con.execute("UPDATE src.contacts SET city = 'Paris' WHERE id = 1")
        con.execute("UPDATE src.contacts SET city = 'Lyon' WHERE id = 2")
        sync(con, path, ["contacts"], {"contacts": "city = 'Paris' OR id = 2"}, say=said.append)
        expected = con.execute("SELECT * FROM src.contacts WHERE city = 'Paris' OR id = 2 ORDER BY id").fetchall()
    assert rows(path, "SELECT * FROM src.contacts ORDER BY id") == expected
    assert "incremental" in said[-1] and "key scan" in said[-1]
    with pytest.raises(federation.errors.ConfigurationError, match="not a SQL condition"):
        sync(con, path, ["contacts"], {"contacts": "1 = 1); DROP TABLE src.contacts; --"})


class _ListsDeletions(Table):
    """A template table whose API, like Salesforce's queryAll, lists what was deleted (here: through this table)."""

    def __init__(self, inner: Table) -> None:
        self.inner = inner
        self.deleted: list[tuple[object, datetime.datetime]] = []

    @property
    def info(self) -> TableInfo:
        return dataclasses.replace(self.inner.info, deletions=Deletions.FEED)

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        return self.inner.scan(request)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        return self.inner.update(keys, values)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        result = self.inner.delete(keys)
        now = datetime.datetime.now(datetime.UTC)
        self.deleted.extend((key, now) for key in result.keys)
        return result

    def deleted_since(self, since: datetime.datetime) -> Sequence[tuple[object, datetime.datetime]]:
        return [(key, at) for key, at in self.deleted if at >= since]


class _FeedConnector(TemplateConnector):
    def _open_table(self, name: str) -> Table:
        return _ListsDeletions(super()._open_table(name))


def test_deletions_come_from_the_connectors_feed_without_a_key_scan(template: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "synced.duckdb"
    emulator = template.server("template")
    said: list[str] = []
    connector = _FeedConnector({**template.properties("template"), "PageSize": "500"})
    assert isinstance(connector.table("contacts"), DeletionFeed)
    with federation.connect({"src": connector}) as con:
        sync(con, path, ["contacts"], say=said.append)
        con.execute("DELETE FROM src.contacts WHERE id IN (10, 11)")
        con.execute("UPDATE src.contacts SET city = 'Feedville' WHERE id = 12")
        emulator.reset_counts()
        sync(con, path, ["contacts"], say=said.append)
        assert emulator.calls_by_kind["records"] == 1  # the changed records' one page; no key scan
        expected = con.execute("SELECT * FROM src.contacts ORDER BY id").fetchall()
    assert rows(path, "SELECT * FROM src.contacts ORDER BY id") == expected
    assert "2 deleted (deletion feed)" in said[-1]


def test_a_record_restored_after_the_feed_listed_its_deletion_stays(template: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "synced.duckdb"
    said: list[str] = []
    connector = _FeedConnector(template.properties("template"))
    with federation.connect({"src": connector}) as con:
        sync(con, path, ["contacts"], say=said.append)
        feed = connector.table("contacts")
        assert isinstance(feed, _ListsDeletions)
        # Listed as deleted a minute ago, but modified since (restored): read again as changed, and kept.
        feed.deleted.append((12, datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)))
        con.execute("UPDATE src.contacts SET city = 'Restored' WHERE id = 12")
        con.execute("DELETE FROM src.contacts WHERE id = 13")
        sync(con, path, ["contacts"], say=said.append)
        expected = con.execute("SELECT * FROM src.contacts ORDER BY id").fetchall()
    assert rows(path, "SELECT * FROM src.contacts ORDER BY id") == expected
    assert rows(path, "SELECT city FROM src.contacts WHERE id = 12") == [("Restored",)]
    assert "1 deleted (deletion feed)" in said[-1]


def test_a_file_in_a_newer_storage_version_is_refused(template: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    duckdb.connect(str(path)).close()  # DuckDB 2.0's own format, which the 1.5 CLI can't read
    with (
        federation.connect({"src": template.url("template")}) as con,
        pytest.raises(federation.errors.ConfigurationError, match="sync into a new file"),
    ):
        sync(con, path, ["contacts"], say=lambda _: None)
