"""String patterns and joins by key (issue 12, item 3): what the planner hands a scan beyond DuckDB's source
protocol gives exactly the rows DuckDB computes without pushdown, over hostile patterns, NULL keys, duplicate keys
and outer joins, and costs the calls it should. The template API is the source (`startswith` is its pattern
operator); `Pushdown=false` on the same API is the reference."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from federation.connection import Connection
from federation.keyed import MAX_KEYS, worth_keying
from federation.planner_joins import KeyedScan
from federation.table import TableInfo

#: Contacts whose names test the escaping of every pattern character, and companies with and without contacts.
EXTRA = ["Ann%Lee", "Ann_Lee", "Ann\\Lee", "ann lee", "ANN", "A'nn", "Ann", ""]


@pytest.fixture(scope="module")
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=1200) as running:
        for name in EXTRA:
            running.store.create("contacts", {"name": name, "company_id": 7, "active": True})
        running.store.create("companies", {"name": "Lonely Co"})  # a company no contact names
        yield running


@pytest.fixture(scope="module")
def con(emulator: TemplateEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    props = {**emulator.credentials, "URL": emulator.url, "scheme": "template"}
    props["MetadataCacheDir"] = str(tmp_path_factory.mktemp("cache"))
    with federation.connect({"src": props, "ref": {**props, "Pushdown": "false"}}) as connection:
        connection.execute("SELECT 1 FROM src.contacts LIMIT 1").fetchall()  # log in, describe
        connection.execute("SELECT 1 FROM src.companies LIMIT 1").fetchall()
        yield connection


def both(con: Connection, sql: str) -> tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]]:
    return Counter(con.execute(sql).fetchall()), Counter(con.execute(sql.replace("src.", "ref.")).fetchall())


def spent(emulator: TemplateEmulator, con: Connection, sql: str) -> tuple[int, list[tuple[object, ...]]]:
    before = emulator.calls
    rows = con.execute(sql).fetchall()
    return emulator.calls - before, rows


def keyed(con: Connection, sql: str) -> bool:
    """Whether the planner fetches one side of the statement's join by the other's keys."""
    return any(isinstance(s, KeyedScan) for s in con._planner.plan(sql).sources)


PATTERNS = [
    "SELECT id, name FROM src.contacts WHERE name LIKE 'Ann%'",
    "SELECT id, name FROM src.contacts WHERE name LIKE 'Ann_Lee'",  # `_` a wildcard: Ann%Lee, Ann_Lee, Ann\Lee
    "SELECT id, name FROM src.contacts WHERE name LIKE 'Ann!%%' ESCAPE '!'",  # a literal %
    "SELECT id, name FROM src.contacts WHERE name LIKE 'Ann\\%'",  # no escape: a backslash, then anything
    "SELECT id, name FROM src.contacts WHERE name LIKE '%'",
    "SELECT id, name FROM src.contacts WHERE name LIKE ''",
    "SELECT id, name FROM src.contacts WHERE name LIKE '%Lee'",  # no literal head: nothing to push
    "SELECT id, name FROM src.contacts WHERE name LIKE 'A''n%'",
    "SELECT id, name FROM src.contacts WHERE name LIKE 'x'' OR Name != ''%'",
    "SELECT id, name FROM src.contacts WHERE name LIKE '100\\% Pure%'",
    "SELECT id, name FROM src.contacts WHERE name LIKE 'Zü%' AND company_id > 3",
    "SELECT id, name FROM src.contacts WHERE starts_with(name, 'Ann%')",  # a literal % for starts_with
    "SELECT id, name FROM src.contacts WHERE prefix(city, 'Par') OR city IS NULL",  # not a conjunct: DuckDB's
    "SELECT id, city FROM src.contacts WHERE city ^@ 'Ber' ORDER BY id LIMIT 3",
    "SELECT id, name FROM src.contacts WHERE name NOT LIKE 'A%'",
    "SELECT id, name FROM src.contacts WHERE name ILIKE 'ann%'",
    "SELECT city, count(*) FROM src.contacts WHERE name LIKE 'A%' GROUP BY city",
    "SELECT c.id, k.name FROM src.contacts c LEFT JOIN src.companies k ON c.company_id = k.id "
    "WHERE k.name LIKE 'N%' OR k.name IS NULL",
    "SELECT c.id FROM src.contacts c WHERE c.name LIKE 'B%' AND EXISTS "
    "(SELECT 1 FROM src.companies k WHERE k.id = c.company_id AND k.name LIKE 'A%')",
]


@pytest.mark.parametrize("sql", PATTERNS)
def test_a_pushed_pattern_gives_duckdbs_rows(con: Connection, sql: str) -> None:
    pushed, reference = both(con, sql)
    assert pushed == reference


def test_patterns_reach_the_api(emulator: TemplateEmulator, con: Connection) -> None:
    assert "_duckfed_src_contacts_" in con._planner.plan(PATTERNS[0]).sql
    sql = "SELECT id FROM src.contacts WHERE name LIKE 'Ann%'"
    calls, rows = spent(emulator, con, sql)
    assert calls == 1 and sorted(rows) == sorted(con.execute(sql.replace("src.", "ref.")).fetchall())
    assert len(rows) >= 4  # Ann%Lee, Ann_Lee, Ann\Lee, Ann
    calls, _ = spent(emulator, con, "SELECT id FROM src.contacts WHERE name LIKE '%Lee'")
    assert calls == 3  # nothing to push: every page of 1,208 contacts
    explained = con.execute("EXPLAIN SELECT id FROM src.contacts WHERE starts_with(name, 'Ann')").fetchall()
    [request] = [value for key, value in explained if key == "api_request" and value.startswith("src.contacts:")]
    assert '"op":"startswith","value":"Ann"' in request


def test_a_bound_pattern_reaches_the_api(emulator: TemplateEmulator, con: Connection) -> None:
    # SQLAlchemy's `.like()` and `.startswith()` bind the pattern: the statement is planned with its values.
    for sql, parameters in [
        ("SELECT id FROM src.contacts WHERE name LIKE ?", ["Ann%"]),
        ("SELECT id FROM src.contacts WHERE starts_with(name, $1) AND company_id = $2", ["Ann", 7]),
        ("SELECT id FROM src.contacts WHERE name LIKE $pattern", {"pattern": "x'' OR %"}),
    ]:
        before = emulator.calls
        rows = con.execute(sql, parameters).fetchall()
        assert emulator.calls - before == 1  # pushed: one page, where the contacts are three
        assert sorted(rows) == sorted(con.execute(sql.replace("src.", "ref."), parameters).fetchall())
    rows = con.sql("SELECT count(*) FROM src.contacts WHERE name LIKE ?", params=["Ann%"]).fetchall()
    assert rows == con.execute("SELECT count(*) FROM ref.contacts WHERE name LIKE 'Ann%'").fetchall()


JOINS = [
    # a selective side, inner join, either order
    "SELECT k.name, c.id, c.name FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
    "SELECT k.name, c.id FROM src.contacts c JOIN src.companies k ON k.id = c.company_id WHERE k.name LIKE 'A%'",
    # the contacts drive: NULL and duplicate company ids among their keys
    "SELECT c.id, k.name FROM src.contacts c JOIN src.companies k ON c.company_id = k.id WHERE c.city = 'Paris'",
    "SELECT c.id, k.name FROM src.contacts c LEFT JOIN src.companies k ON c.company_id = k.id WHERE c.score > 90",
    # the preserved side drives; a company with no contacts keeps its row
    "SELECT k.id, c.id FROM src.companies k LEFT JOIN src.contacts c ON c.company_id = k.id WHERE k.name = 'Lonely Co'",
    "SELECT k.id, c.id FROM src.contacts c RIGHT JOIN src.companies k ON c.company_id = k.id WHERE k.id IN (3, 5)",
    # no key at all
    "SELECT k.id, c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = -1",
    # a filter only DuckDB evaluates: the companies are read whole, then drive
    "SELECT c.id, k.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE lower(k.name) LIKE 'a%'",
    # the driver's columns: a whole row, a star of one side, COLUMNS(), an unqualified name only one side has
    "SELECT k::VARCHAR, c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
    "SELECT k.*, c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
    "SELECT COLUMNS('c.*') FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
    "SELECT country, c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
    # more ON conditions, filters on both sides, aggregates around the join
    "SELECT k.id, count(*) FROM src.companies k JOIN src.contacts c ON c.company_id = k.id AND c.active "
    "WHERE k.id < 20 AND c.name LIKE 'A%' GROUP BY k.id",
]


@pytest.mark.parametrize("sql", JOINS)
def test_a_join_by_key_gives_duckdbs_rows(con: Connection, sql: str) -> None:
    pushed, reference = both(con, sql)
    assert pushed == reference
    assert keyed(con, sql)


NOT_KEYED = [
    "SELECT k.id, c.id FROM src.companies k FULL JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
    # the only selective side is the one a LEFT JOIN keeps whole
    "SELECT c.id, k.id FROM src.contacts c LEFT JOIN src.companies k ON c.company_id = k.id WHERE k.id = 7",
    # a condition on no one side, one with a subquery, an ON clause without a plain equality
    "SELECT c.id, k.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id "
    "WHERE k.id = (SELECT min(id) FROM src.companies)",
    "SELECT c.id, k.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7 OR c.id = 9",
    "SELECT c.id, k.id FROM src.companies k JOIN src.contacts c ON c.company_id + 0 = k.id WHERE k.id = 7",
]


@pytest.mark.parametrize("sql", NOT_KEYED)
def test_what_cant_be_keyed_is_left_to_duckdb(con: Connection, sql: str) -> None:
    assert not keyed(con, sql)
    pushed, reference = both(con, sql)
    assert pushed == reference


def test_a_join_of_one_company_with_its_contacts_costs_two_calls(emulator: TemplateEmulator, con: Connection) -> None:
    sql = "SELECT c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7"
    calls, rows = spent(emulator, con, sql)
    assert calls == 2 and len(rows) > len(EXTRA)  # the company, then its contacts by key
    calls, rows = spent(emulator, con, sql.replace("k.id = 7", "k.id = -1"))
    assert calls == 1 and rows == []  # no key: the contacts are not read at all
    # Without the keys, the contacts cost their three pages.
    calls, _ = spent(emulator, con, sql.replace("src.", "ref."))
    assert calls == 1 + 3  # no pushdown: the page of companies, every page of contacts


def test_a_join_on_a_filter_only_duckdb_evaluates(emulator: TemplateEmulator, con: Connection) -> None:
    sql = "SELECT c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE lower(k.name) = '{}'"
    name = con.execute("SELECT lower(name) FROM ref.companies WHERE id = 7").fetchall()[0][0]
    calls, rows = spent(emulator, con, sql.format(name))
    assert calls == 2 and sorted(rows) == sorted(con.execute(sql.format(name).replace("src.", "ref.")).fetchall())
    calls, rows = spent(emulator, con, sql.format("no such company"))
    assert calls == 1 and rows == []  # every company (one page), no key, no contact read


def test_a_thousand_keys_give_duckdbs_rows(con: Connection) -> None:
    sql = "SELECT count(*), sum(k.id) FROM src.contacts c JOIN src.companies k ON k.id = c.id WHERE c.id > 0"
    pushed, reference = both(con, sql)
    assert pushed == reference
    assert keyed(con, sql)


def test_keys_are_sent_only_while_cheaper_than_a_scan() -> None:
    unknown = TableInfo("t", (), page_size=200)
    assert worth_keying(unknown, MAX_KEYS) and not worth_keying(unknown, MAX_KEYS + 1)
    # 1,000 rows in pages of 200 are five calls; keys in chunks of 80 cost one call per chunk.
    known = TableInfo("t", (), page_size=200, estimated_rows=1000, keys_per_lookup=80)
    assert worth_keying(known, 320) and not worth_keying(known, 321)
    assert worth_keying(known, 0)
    # A row count a full scan found weighs more than the declared estimate.
    assert worth_keying(known, 400, rows=2000) and not worth_keying(known, 400, rows=1000)


def test_explain_names_the_keys_before_any_call(emulator: TemplateEmulator, con: Connection) -> None:
    before = emulator.calls
    rows = con.execute(
        "EXPLAIN SELECT c.id FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7"
    ).fetchall()
    requests = [value for key, value in rows if key == "api_request"]
    assert emulator.calls == before
    assert any(r.startswith("src.companies:") and "read once" in r for r in requests)
    assert any(r.startswith("src.contacts:") and "company_id IN (each id" in r for r in requests)
