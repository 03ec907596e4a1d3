"""The planner (issue 12): every pushed aggregate, order and limit gives exactly the rows DuckDB computes without
pushdown — over NULLs, mixed-case text, ties at a LIMIT boundary and empty groups — and what can't be pushed
exactly is left to DuckDB. The template API is the source: it sorts, groups and filters as DuckDB does, so most
shapes push; `Pushdown=false` on the same API is the reference."""

from __future__ import annotations

import decimal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from federation.connection import Connection

#: Mixed-case cities and tied scores added to the generated contacts.
EXTRA = [
    ("Ann", "paris", "99.97"),
    ("Bob", "PARIS", "99.97"),
    ("Cy", "Paris", None),
    ("Di", "Ärhus", "99.97"),
    ("Ed", "ärhus", "-5.00"),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=1200) as running:
        for name, city, score in EXTRA:
            running.store.create("contacts", {"name": name, "city": city, "score": score, "active": True})
        yield running


@pytest.fixture(scope="module")
def con(emulator: TemplateEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    props = {**emulator.credentials, "URL": emulator.url, "scheme": "template"}
    props["MetadataCacheDir"] = str(tmp_path_factory.mktemp("cache"))
    with federation.connect({"src": props, "ref": {**props, "Pushdown": "false"}}) as connection:
        connection.execute("SELECT 1 FROM src.contacts LIMIT 1").fetchall()  # log in, describe
        connection.execute("SELECT 1 FROM src.companies LIMIT 1").fetchall()
        yield connection


def both(con: Connection, sql: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The rows with pushdown, and DuckDB's own rows (no pushdown) for the same statement."""
    return con.execute(sql).fetchall(), con.execute(sql.replace("src.", "ref.")).fetchall()


def calls(emulator: TemplateEmulator, con: Connection, sql: str) -> tuple[int, list[tuple[object, ...]]]:
    before = emulator.calls
    rows = con.execute(sql).fetchall()
    return emulator.calls - before, rows


AGGREGATES = [
    "SELECT count(*) FROM src.contacts",
    "SELECT count(*) FROM src.contacts WHERE company_id = 3",
    "SELECT count(*), sum(score), min(score), max(name), count(email), avg(company_id) FROM src.contacts",
    "SELECT city, count(*), count(score), sum(score), min(name), max(birthday) FROM src.contacts GROUP BY city",
    "SELECT company_id, sum(company_id), avg(company_id), min(updated_at) FROM src.contacts GROUP BY 1",
    "SELECT active, city, count(*) FROM src.contacts WHERE score >= 50 OR score IS NULL GROUP BY active, city",
    "SELECT count(*), sum(score), max(city) FROM src.contacts WHERE company_id = -1",  # no rows: one row
    "SELECT city, count(*) FROM src.contacts WHERE company_id = -1 GROUP BY city",  # no rows: no groups
    "SELECT city, count(*) AS n FROM src.contacts GROUP BY city HAVING count(*) > 30 ORDER BY n DESC, city",
    "SELECT upper(city) AS u, count(*) + 1 FROM src.contacts WHERE NOT (company_id IN (1, 2, 3)) GROUP BY city",
    "SELECT birthday, count(*) FROM src.contacts WHERE birthday BETWEEN '1990-01-01' AND '1995-12-31' GROUP BY 1",
    "SELECT x.n FROM (SELECT city, count(*) AS n FROM src.contacts GROUP BY city) AS x WHERE x.city LIKE 'P%'",
    "SELECT c.name, t.n FROM src.companies c JOIN (SELECT company_id, count(*) n FROM src.contacts "
    "GROUP BY company_id) t ON t.company_id = c.id",
]


@pytest.mark.parametrize("sql", AGGREGATES)
def test_a_pushed_aggregate_gives_duckdbs_rows(con: Connection, sql: str) -> None:
    pushed, reference = both(con, sql)
    assert Counter(pushed) == Counter(reference)
    assert "__duckfed_agg" in con._planner.plan(sql).sql  # it was pushed, not left to DuckDB


def test_text_groups_keep_their_case_and_nulls_form_a_group(con: Connection) -> None:
    rows = dict(con.execute("SELECT city, count(*) FROM src.contacts GROUP BY city").fetchall())
    assert rows["paris"] == rows["PARIS"] == 1 and rows["Paris"] > 1  # Paris is also a generated city
    assert rows["Ärhus"] == rows["ärhus"] == 1
    assert rows[None] == 240  # every fifth generated contact has no city


NOT_PUSHED = [
    # Averages of decimals: DuckDB's own answer differs between plans (exact quotient or double sum / count).
    "SELECT city, avg(score) FROM src.contacts GROUP BY city",
    "SELECT sum(rating) FROM src.contacts",  # a float sum depends on the order of addition
    "SELECT rating, count(*) FROM src.contacts GROUP BY rating",  # float groups: -0.0, NaN
    "SELECT count(DISTINCT city) FROM src.contacts",
    "SELECT sum(score) FILTER (WHERE active) FROM src.contacts",
    "SELECT city, count(*) FROM src.contacts WHERE name LIKE 'A%' GROUP BY city",  # a WHERE the API can't apply
    "SELECT city, string_agg(name, ',') FROM src.contacts GROUP BY city",
    "SELECT city, count(*) OVER () FROM src.contacts GROUP BY city",
    "SELECT city, count(*) FROM src.contacts GROUP BY ALL",
    "SELECT lower(city), count(*) FROM src.contacts GROUP BY lower(city)",
]


@pytest.mark.parametrize("sql", NOT_PUSHED)
def test_what_the_api_cant_compute_exactly_is_left_to_duckdb(con: Connection, sql: str) -> None:
    assert "__duckfed_agg" not in con._planner.plan(sql).sql
    pushed, reference = both(con, sql)
    assert len(pushed) == len(reference)


def sort_keys(rows: list[tuple[object, ...]], width: int) -> Counter[tuple[object, ...]]:
    return Counter(row[:width] for row in rows)


TOP_N = [
    # (statement, how many leading columns are the sort key)
    ("SELECT score, id FROM src.contacts ORDER BY score DESC LIMIT 5", 1),  # ties at 99.97 across the boundary
    ("SELECT score, id FROM src.contacts ORDER BY score DESC NULLS LAST LIMIT 40", 1),
    ("SELECT score, id FROM src.contacts ORDER BY score NULLS FIRST LIMIT 200", 1),  # nulls first: the API's own
    ("SELECT name, id FROM src.contacts WHERE company_id = 3 ORDER BY name DESC LIMIT 3", 1),
    ("SELECT city, id FROM src.contacts WHERE city IN ('paris', 'PARIS', 'Paris') ORDER BY 1 DESC LIMIT 2", 1),
    ("SELECT score, id FROM src.contacts ORDER BY score DESC LIMIT 5 OFFSET 3", 1),
    ("SELECT s, id FROM (SELECT score AS s, id FROM src.contacts) ORDER BY s DESC LIMIT 4", 1),
    ("SELECT score AS s, id FROM src.contacts ORDER BY s DESC LIMIT 4", 1),
    ("SELECT birthday, id FROM src.contacts WHERE birthday IS NOT NULL ORDER BY 1 DESC LIMIT 6", 1),
]


@pytest.mark.parametrize(("sql", "width"), TOP_N)
def test_a_pushed_top_n_gives_duckdbs_rows_up_to_ties(con: Connection, sql: str, width: int) -> None:
    pushed, reference = both(con, sql)
    assert sort_keys(pushed, width) == sort_keys(reference, width)
    assert [r[:width] for r in pushed] == [r[:width] for r in reference]  # in order


def test_a_limit_without_order_gives_as_many_matching_rows(con: Connection) -> None:
    rows = con.execute("SELECT id, company_id FROM src.contacts WHERE company_id = 4 LIMIT 7").fetchall()
    assert len(rows) == 7 and {r[1] for r in rows} == {4}


def test_top_n_of_a_superset_filter_is_not_limited_by_the_api(emulator: TemplateEmulator, con: Connection) -> None:
    # `rating = 'NaN'` can't travel in JSON: the API gets no filter, so a limit would keep too few rows.
    sql = "SELECT id FROM src.contacts WHERE rating = 'NaN'::DOUBLE OR company_id = 2 ORDER BY score DESC LIMIT 3"
    pushed, reference = both(con, sql)
    assert len(pushed) == len(reference) == 3


def test_changed_sort_defaults_are_not_pushed(con: Connection) -> None:
    sql = "SELECT score FROM src.contacts ORDER BY score LIMIT 5"
    con.execute("SET default_null_order = 'nulls_first'")
    try:
        assert "_duckfed_src_contacts_" not in con._planner.plan(sql).sql
        pushed, reference = both(con, sql)
        assert pushed == reference and pushed[0] == (None,)
    finally:
        con.execute("RESET default_null_order")


def test_query_parameters_still_bind(con: Connection) -> None:
    sql = "SELECT id FROM src.contacts WHERE company_id = ? ORDER BY score DESC LIMIT 3"
    pushed = con.execute(sql, [5]).fetchall()
    assert pushed == con.execute(sql.replace("src.", "ref."), [5]).fetchall()
    grouped = "SELECT city, count(*) FROM src.contacts GROUP BY city HAVING count(*) > ? ORDER BY city"
    assert con.execute(grouped, [40]).fetchall() == con.execute(grouped.replace("src.", "ref."), [40]).fetchall()


def test_the_calls_are_the_minimum(emulator: TemplateEmulator, con: Connection) -> None:
    assert calls(emulator, con, "SELECT id FROM src.contacts ORDER BY score DESC LIMIT 5")[0] == 1
    assert calls(emulator, con, "SELECT id FROM src.contacts LIMIT 10")[0] == 1
    assert calls(emulator, con, "SELECT count(*) FROM src.contacts WHERE company_id = 7")[0] == 1
    spent, rows = calls(emulator, con, "SELECT company_id, count(*) FROM src.contacts GROUP BY company_id")
    assert spent == 1 and len(rows) == 121
    spent, rows = calls(emulator, con, "SELECT city, count(*) FROM src.contacts GROUP BY city")
    assert spent == 1 and len(rows) > 20
    # More groups than the API returns (1,000): the API says so, and DuckDB aggregates a scan of 3 pages.
    spent, rows = calls(emulator, con, "SELECT id, count(*) FROM src.contacts GROUP BY id")
    assert spent == 1 + 3 and len(rows) == 1205


def test_sums_are_exact(con: Connection) -> None:
    [(total, integers)] = con.execute("SELECT sum(score), sum(company_id) FROM src.contacts").fetchall()
    assert isinstance(total, decimal.Decimal) and isinstance(integers, int)
    types = con.execute("SELECT typeof(sum(score)), typeof(sum(company_id)), typeof(count(*)) FROM src.contacts")
    assert types.fetchall() == [("DECIMAL(38,2)", "HUGEINT", "BIGINT")]


def test_explain_shows_the_requests_before_any_call(emulator: TemplateEmulator, con: Connection) -> None:
    before = emulator.calls
    rows = con.execute(
        "EXPLAIN SELECT c.name, k.name FROM src.contacts c JOIN src.companies k ON c.company_id = k.id "
        "WHERE k.id = 4 AND c.score > 10"
    ).fetchall()
    requests = [value for key, value in rows if key == "api_request"]
    assert emulator.calls == before
    assert rows[0][0] == "physical_plan"
    assert any(r.startswith("src.contacts: GET /api/v1/tables/contacts/records?") and '"gt"' in r for r in requests)
    assert any(r.startswith("src.companies: GET /api/v1/tables/companies/records?") for r in requests)
    [(key, value), quota] = [
        r for r in con.execute("EXPLAIN SELECT count(*) FROM src.contacts WHERE company_id = 3").fetchall()[1:]
    ]
    assert key == "api_request" and "/aggregate?" in value and "measures=count" in value and "1 call" in value
    assert quota == ("api_request", "src: quota: 10 calls per 1 s")  # the template API's published limit
    top = con.sql("EXPLAIN SELECT id FROM src.contacts ORDER BY score DESC LIMIT 5").fetchall()
    assert "order=-score&limit=5" in top[-2][1] and "about 1 call" in top[-2][1]
    assert emulator.calls == before


def test_duckfed_explain(emulator: TemplateEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from federation.cli import main

    query = urlencode({**emulator.credentials, "URL": emulator.url, "MetadataCacheDir": str(tmp_path)})
    url = f"template:///?{query}"
    assert main(["explain", "SELECT count(*) FROM src.contacts WHERE company_id = 3", "--source", f"src={url}"]) == 0
    out = capsys.readouterr().out
    assert "Python Arrow Scan" in out and "api_request: src.contacts: GET /api/v1/tables/contacts/aggregate?" in out


def test_a_long_lived_connection_keeps_only_recent_per_statement_sources(con: Connection) -> None:
    for company in range(40):
        con.execute(f"SELECT id FROM src.contacts WHERE company_id = {company} ORDER BY score DESC LIMIT 2").fetchall()
    planned = [n for n in con._registered.sources if n.startswith("_duckfed_src_contacts_")]
    assert len(planned) <= 32
    registered = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE starts_with(table_name, '_duckfed_src_contacts_')"
    )
    assert 1 <= registered.fetchall()[0][0] <= 32
