"""Statements that wait can be stopped, stale metadata heals itself, and a table's required filters are named:
against the template emulator, through real DuckDB."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from federation.connection import Connection
from federation.errors import Cancelled, MissingFilterError
from federation.table import TableInfo

from ..template_source import template_properties


@pytest.fixture()
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=300) as running:
        yield running


def properties(emulator: TemplateEmulator, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"scheme": "template", **template_properties(emulator, tmp_path, PageSize="50", **extra)}


def warmed(props: dict[str, str]) -> Connection:
    con = federation.connect({"src": props})
    con.execute("SELECT id FROM src.contacts LIMIT 1").fetchall()
    return con


def test_query_timeout_wakes_a_scan_waiting_on_the_rate_limiter(emulator: TemplateEmulator, tmp_path: Path) -> None:
    with warmed(properties(emulator, tmp_path, QueryTimeout="0.5", RateLimit="5/second")) as con:
        limiter = con.federation.sources["src"].http.limiter  # type: ignore[union-attr]
        assert limiter is not None
        limiter.pause(60, "the API answered 429")
        started = time.monotonic()
        with pytest.raises(Cancelled, match=r"ran past QueryTimeout=0.5 s"):
            con.execute("SELECT count(*) FROM src.contacts").fetchall()
        assert time.monotonic() - started < 5
        with pytest.raises(Cancelled):  # relations too
            con.sql("SELECT count(*) FROM src.contacts").fetchall()


def test_interrupt_from_another_thread_abandons_a_read_waiting_on_the_network(
    emulator: TemplateEmulator, tmp_path: Path
) -> None:
    with warmed(properties(emulator, tmp_path)) as con:
        emulator.latency = 10.0
        threading.Timer(0.3, con.interrupt, args=("stopped by the user",)).start()
        started = time.monotonic()
        with pytest.raises(Cancelled, match="stopped by the user"):
            con.execute("SELECT count(*) FROM src.contacts").fetchall()
        assert time.monotonic() - started < 5
        emulator.latency = 0.0
        assert con.execute("SELECT count(*) FROM src.contacts").fetchone() == (300,)  # the next statement runs


def test_interrupting_one_cursor_leaves_another_cursors_statement_running(
    emulator: TemplateEmulator, tmp_path: Path
) -> None:
    # As `duckfed serve` runs each client's statements on a cursor of one connection: a client's cancel request
    # stops its own statement, and another client's, reading the same source meanwhile, gets all of its rows.
    with warmed(properties(emulator, tmp_path)) as con:
        stopped, other = con.cursor(), con.cursor()
        emulator.latency = 0.25  # six pages of 50: the other cursor's scan waits on the network for 1.5 s
        read: list[int] = []
        reader = threading.Thread(
            target=lambda: read.append(len(other.execute("SELECT id FROM src.contacts").fetchall()))
        )
        reader.start()
        threading.Timer(0.5, stopped.interrupt, args=("stopped by its client",)).start()
        with pytest.raises(Cancelled, match="stopped by its client"):
            stopped.execute("SELECT id FROM src.contacts").fetchall()
        reader.join(30)
        assert read == [300]


def test_ctrl_c_raises_keyboard_interrupt_at_once(emulator: TemplateEmulator, tmp_path: Path) -> None:
    # In a child process: SIGINT in the test process itself would stop pytest.
    script = textwrap.dedent(
        f"""
        import os, signal, threading, time
        import federation
        con = federation.connect({{"src": {properties(emulator, tmp_path, RateLimit="5/second")!r}}})
        con.execute("SELECT id FROM src.contacts LIMIT 1").fetchall()
        con.federation.sources["src"].http.limiter.pause(60, "the API answered 429")
        threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        try:
            con.execute("SELECT count(*) FROM src.contacts").fetchall()
        except KeyboardInterrupt as error:
            print("KeyboardInterrupt after", time.monotonic() - started)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert "KeyboardInterrupt after" in done.stdout, done.stdout + done.stderr
    assert float(done.stdout.split()[-1]) < 5  # not the 60 s the rate limiter asked for


def test_a_removed_field_refreshes_the_metadata_and_the_statement_runs(
    emulator: TemplateEmulator, tmp_path: Path
) -> None:
    props = properties(emulator, tmp_path)
    with warmed(props) as con:
        assert [r[0] for r in con.execute("DESCRIBE src.contacts").fetchall()].count("rating") == 1
        emulator.removed.add(("contacts", "rating"))
        # A new connection reads the cached description, which still lists the field.
    with federation.connect({"src": props}) as con:
        before = emulator.calls_by_kind["describe"]
        rows = con.execute("SELECT * FROM src.contacts WHERE id <= 3").fetchall()
        assert len(rows) == 3 and len(rows[0]) == 9
        assert emulator.calls_by_kind["describe"] == before + 1
        assert "rating" not in [r[0] for r in con.execute("DESCRIBE src.contacts").fetchall()]


def test_a_required_filter_is_named_before_any_page_is_read(
    emulator: TemplateEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with warmed(properties(emulator, tmp_path)) as con:
        table = con.federation.sources["src"].table("companies")
        info = table.info
        columns = tuple(
            c if c.name != "country" else type(c)(**{**c.__dict__, "required_filter": True}) for c in info.columns
        )
        required = TableInfo(
            **{**{k: v for k, v in info.__dict__.items() if not k.startswith("_")}, "columns": columns}
        )
        monkeypatch.setattr(type(table), "info", property(lambda self: required))
        before = emulator.calls_by_kind["records"]
        with pytest.raises(MissingFilterError, match=r"'companies' can only be read with a filter on 'country'"):
            con.execute("SELECT count(*) FROM src.companies").fetchall()
        assert emulator.calls_by_kind["records"] == before
        assert con.execute("SELECT count(*) FROM src.companies WHERE country = 'US'").fetchone() is not None
