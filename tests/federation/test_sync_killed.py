"""A `duckfed sync` process killed outright (SIGKILL) while it writes a table leaves the file as the previous run
left it: plain DuckDB and the DuckDB 1.5 CLI open it and find the previous rows and history, and the next run
applies everything."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

import federation
from federation.sandbox import Sandbox
from federation.sync import sync

DUCKFED = Path(sys.executable).parent / "duckfed"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_sync_killed_while_writing_a_table_leaves_the_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "crm.duckdb"
    with Sandbox(records=1200, sources=["template"]) as sandbox:
        emulator = sandbox.server("template")
        url = sandbox.url("template") + "&PageSize=100"
        with federation.connect({"src": url}) as con:
            sync(con, path, ["contacts"], say=lambda _: None)
            con.execute("UPDATE src.contacts SET city = 'Killtown' WHERE id IN (1, 2, 3)")
            con.execute("DELETE FROM src.contacts WHERE id = 9")
        before = rows(path, "SELECT * FROM src.contacts ORDER BY id")
        history = rows(path, "SELECT * FROM _duckfed_sync ORDER BY finished")

        # Slow pages, so the run is still inside the table's transaction when it is killed: it has upserted the
        # changed records and is reading the keys (12 pages) to find deletions.
        emulator.latency = 0.25
        emulator.reset_counts()
        process = subprocess.Popen(
            [str(DUCKFED), "sync", str(path), "--source", f"src={url}", "--table", "contacts"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while emulator.calls_by_kind.get("records", 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, "the sync ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        assert emulator.calls_by_kind["records"] < 12  # killed mid-scan

        # The previous run's rows and history, in Python's DuckDB and in the DuckDB 1.5 CLI.
        assert rows(path, "SELECT * FROM src.contacts ORDER BY id") == before
        assert rows(path, "SELECT * FROM _duckfed_sync ORDER BY finished") == history
        cli = subprocess.run(
            [
                str(DUCKDB_CLI),
                "-csv",
                str(path),
                "-c",
                "SELECT count(*), count(*) FILTER (city = 'Killtown') FROM src.contacts",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        assert cli.stdout.splitlines()[1] == f"{len(before)},0"

        # The next run starts from the last good mark and applies the changes the killed one had read.
        emulator.latency = 0.0
        with federation.connect({"src": url}) as con:
            (run,) = sync(con, path, ["contacts"], say=lambda _: None)
            assert (run.status, run.mode, run.deleted) == ("ok", "incremental", 1)
            expected = con.execute("SELECT * FROM src.contacts ORDER BY id").fetchall()
        assert rows(path, "SELECT * FROM src.contacts ORDER BY id") == expected
