"""`CacheTTL` (a repeated query costs no call; a write through duckfed drops the table's results) and `MaxCalls`
(a statement stops at its cap with an error, a write that would pass it or the daily quota is refused before its
first call), against the template emulator over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from federation.errors import CallBudgetExceeded
from federation.results import STORE

from ..template_source import template_properties


@pytest.fixture()
def emulator() -> Iterator[TemplateEmulator]:
    STORE.clear()
    with TemplateEmulator(records=450) as running:
        yield running
    STORE.clear()


def connect(emulator: TemplateEmulator, directory: Path, **extra: str) -> federation.Connection:
    """A connection with a token and the table's metadata already stored, as a user's second one finds them."""
    if extra and not (directory / "tokens.json").exists():
        connect(emulator, directory).close()
    props = template_properties(emulator, directory, PageSize="100", **extra)
    con = federation.connect({"tpl": {**props, "scheme": "template"}})
    con.execute("SELECT id FROM tpl.contacts LIMIT 1").fetchall()  # one call: tokens and metadata are on disk
    return con


def spent(emulator: TemplateEmulator, action: object) -> int:
    before = emulator.calls
    action()  # type: ignore[operator]
    return emulator.calls - before


QUERIES = [
    "SELECT id, name, city FROM tpl.contacts WHERE city = 'Paris' ORDER BY id",
    "SELECT city, count(*) FROM tpl.contacts GROUP BY city ORDER BY city NULLS FIRST",
    "SELECT id, name FROM tpl.contacts ORDER BY id",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_a_repeated_query_within_the_ttl_costs_no_call(emulator: TemplateEmulator, tmp_path: Path, sql: str) -> None:
    cached, uncached = connect(emulator, tmp_path, CacheTTL="60"), connect(emulator, tmp_path)
    first = spent(emulator, lambda: cached.execute(sql).fetchall())
    assert first >= 1
    rows: list[object] = []
    assert spent(emulator, lambda: rows.extend(cached.execute(sql).fetchall())) == 0
    # The same answer the API gives now, and another connection to the same account shares the results.
    assert rows == uncached.execute(sql).fetchall()
    other = connect(emulator, tmp_path, CacheTTL="60")
    assert spent(emulator, lambda: other.execute(sql).fetchall()) == 0


def test_the_cache_is_off_by_default_and_expires(emulator: TemplateEmulator, tmp_path: Path) -> None:
    sql = QUERIES[0]
    plain = connect(emulator, tmp_path)
    plain.execute(sql).fetchall()
    assert spent(emulator, lambda: plain.execute(sql).fetchall()) >= 1
    short = connect(emulator, tmp_path, CacheTTL="0.2")
    short.execute(sql).fetchall()
    time.sleep(0.3)
    assert spent(emulator, lambda: short.execute(sql).fetchall()) >= 1


def test_a_write_through_duckfed_drops_the_tables_results(emulator: TemplateEmulator, tmp_path: Path) -> None:
    sql = "SELECT count(*), count(*) FILTER (WHERE name = 'Zz cache') FROM tpl.contacts WHERE city = 'Paris'"
    reader, writer = connect(emulator, tmp_path, CacheTTL="60"), connect(emulator, tmp_path, CacheTTL="60")
    before = reader.execute(sql).fetchone()
    assert before is not None
    writer.execute(
        "INSERT INTO tpl.contacts (name, email, city, active) VALUES ('Zz cache', 'zz@example.com', 'Paris', true)"
    )
    after = reader.execute(sql).fetchone()
    assert after == (before[0] + 1, 1)  # read again from the API, on another connection too
    assert spent(emulator, lambda: reader.execute(sql).fetchall()) == 0


def test_a_scan_closed_early_keeps_nothing(emulator: TemplateEmulator, tmp_path: Path) -> None:
    con = connect(emulator, tmp_path, CacheTTL="60")
    # DuckDB stops reading after the first page; a LIMIT the planner pushes asks for 5 rows, not cached as all.
    con.execute("SELECT id FROM tpl.contacts WHERE active LIMIT 5").fetchall()
    full = con.execute("SELECT count(*) FROM tpl.contacts WHERE active").fetchone()
    assert full is not None
    plain = connect(emulator, tmp_path)
    assert full == plain.execute("SELECT count(*) FROM tpl.contacts WHERE active").fetchone()


def test_max_calls_stops_a_scan_with_an_error_never_a_partial_result(
    emulator: TemplateEmulator, tmp_path: Path
) -> None:
    con = connect(emulator, tmp_path, MaxCalls="3")
    assert len(con.execute("SELECT id FROM tpl.contacts WHERE city = 'Paris'").fetchall()) > 0  # 1 page
    with pytest.raises(CallBudgetExceeded, match=r"MaxCalls=3"):
        con.execute("SELECT id FROM tpl.contacts").fetchall()  # 5 pages of 100
    # The next statement has a whole budget again.
    assert con.execute("SELECT count(*) FROM tpl.contacts WHERE city = 'Paris'").fetchone() is not None


def test_max_calls_counts_each_cursors_statement_apart(emulator: TemplateEmulator, tmp_path: Path) -> None:
    # As `duckfed serve` runs each client's statements on a cursor of one connection: one client's calls never
    # count against another's statement, whose pages are read while the first runs its own.
    con = connect(emulator, tmp_path, MaxCalls="5")
    mine, other = con.cursor(), con.cursor()
    relation = mine.sql("SELECT id FROM tpl.contacts")  # its 5 pages of 100 are read when its rows are
    assert len(other.execute("SELECT id FROM tpl.contacts WHERE city = 'Paris'").fetchall()) > 0
    assert spent(emulator, lambda: len(relation.fetchall())) == 5


def test_max_calls_refuses_a_write_before_its_first_call(emulator: TemplateEmulator, tmp_path: Path) -> None:
    con = connect(emulator, tmp_path, MaxCalls="2")
    rows = ", ".join(f"('Budget {i}', 'b{i}@example.com', true)" for i in range(3))
    before = emulator.calls_by_kind.copy()
    with pytest.raises(CallBudgetExceeded, match=r"INSERT of 3 records in 'contacts' takes 3 API calls.*MaxCalls=2"):
        con.execute(f"INSERT INTO tpl.contacts (name, email, active) VALUES {rows}")
    assert emulator.calls_by_kind - before == {}  # nothing was sent
    assert con.execute("SELECT count(*) FROM tpl.contacts WHERE name LIKE 'Budget %'").fetchone() == (0,)


def test_a_write_past_the_daily_quota_left_is_refused_up_front(emulator: TemplateEmulator, tmp_path: Path) -> None:
    con = connect(emulator, tmp_path, RateLimit="4/day")
    rows = ", ".join(f"('Quota {i}', 'q{i}@example.com', true)" for i in range(4))
    with pytest.raises(CallBudgetExceeded, match=r"takes 4 API calls but only \d+ are left of the daily quota"):
        con.execute(f"INSERT INTO tpl.contacts (name, email, active) VALUES {rows}")


def requests(con: federation.Connection, sql: str) -> list[str]:
    return [value for key, value in con.execute(f"EXPLAIN {sql}").fetchall() if key == "api_request"]


def test_explain_counts_calls_from_the_row_count_a_full_scan_found(emulator: TemplateEmulator, tmp_path: Path) -> None:
    con = connect(emulator, tmp_path, MaxCalls="50")
    sql = "SELECT name FROM tpl.contacts WHERE city = 'Paris'"
    assert requests(con, sql)[0].endswith("| calls unknown (no row count)")
    con.execute("SELECT name FROM tpl.contacts").fetchall()  # 450 rows
    before = emulator.calls
    assert requests(con, sql)[0].endswith("| at most about 5 calls")  # 450 rows, 100 a page, before the filter
    assert requests(con, "SELECT * FROM tpl.contacts LIMIT 10")[0].endswith("| about 1 call")
    # Kept with the metadata: a new connection knows it too. And the last line names what the calls count against.
    other = connect(emulator, tmp_path, MaxCalls="50")
    lines = requests(other, "SELECT name FROM tpl.contacts")
    assert lines[0].endswith("| about 5 calls")
    assert lines[-1] == "tpl: quota: 10 calls per 1 s, MaxCalls=50 a statement"
    assert emulator.calls == before + 1  # the other connection's first query; EXPLAIN itself costs nothing


def test_explain_shows_a_writes_calls_before_any(emulator: TemplateEmulator, tmp_path: Path) -> None:
    con = connect(emulator, tmp_path)
    before = emulator.calls
    values = ", ".join(f"('E {i}', 'e{i}@example.com', true)" for i in range(3))
    assert requests(con, f"INSERT INTO tpl.contacts (name, email, active) VALUES {values}")[:1] == [
        "tpl.contacts: INSERT of 3 records | 3 calls (one call per record)"
    ]
    update = requests(con, "UPDATE tpl.contacts SET city = 'Nice' WHERE city = 'Paris'")
    assert update[0].startswith("tpl.contacts: GET /api/v1/tables/contacts/records?fields=id")
    assert '"value":"Paris"' in update[0]
    assert update[1] == "tpl.contacts: UPDATE by key of the records the scan finds | one call per record"
    delete = requests(con, "DELETE FROM tpl.contacts WHERE id = 3")
    assert delete[1] == "tpl.contacts: DELETE by key of the records the scan finds | one call per record"
    assert emulator.calls == before  # nothing was read or written
