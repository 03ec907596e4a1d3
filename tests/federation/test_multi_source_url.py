"""`duckfed:///?fin=…&tpl=…`: several sources in one SQLAlchemy engine, joining them as `federation.connect` does."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pandas as pd
import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, func, inspect, make_url, select, text

import federation
from federation.errors import ConfigurationError, UnknownTableError
from federation.sandbox import Sandbox

#: Contacts per city beside accounts per billing city, for the cities both sources have.
CITIES = """
SELECT c.city, count(DISTINCT c.id) AS contacts, count(DISTINCT a.Id) AS accounts
FROM tpl.contacts AS c JOIN fin.Account AS a ON a.BillingCity = c.city
GROUP BY c.city ORDER BY c.city
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=200, sources=["financialforce", "template"]) as running:
        yield running


def duckfed_url(**sources: str) -> str:
    return "duckfed:///?" + "&".join(f"{name}={quote(url, safe='')}" for name, url in sources.items())


@pytest.fixture(scope="module")
def engine(sandbox: Sandbox) -> Iterator[Engine]:
    engine = create_engine(duckfed_url(fin=sandbox.url("financialforce"), tpl=sandbox.url("template")))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def expected(sandbox: Sandbox) -> list[tuple[object, ...]]:
    con = federation.connect({"fin": sandbox.url("financialforce"), "tpl": sandbox.url("template")})
    try:
        rows: list[tuple[object, ...]] = con.sql(CITIES).fetchall()
        return rows
    finally:
        con.close()


def test_a_core_join_across_sources_equals_federation_connect(
    engine: Engine, expected: list[tuple[object, ...]]
) -> None:
    metadata = MetaData()
    account = Table("Account", metadata, schema="fin", autoload_with=engine)
    contacts = Table("contacts", metadata, schema="tpl", autoload_with=engine)
    query = (
        select(
            contacts.c.city,
            func.count(contacts.c.id.distinct()).label("contacts"),
            func.count(account.c.Id.distinct()).label("accounts"),
        )
        .join(account, account.c.BillingCity == contacts.c.city)
        .group_by(contacts.c.city)
        .order_by(contacts.c.city)
    )
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(query)]
    assert len(expected) > 5 and rows == expected


def test_pandas_read_sql_joins_across_sources(engine: Engine, expected: list[tuple[object, ...]]) -> None:
    frame = pd.read_sql(text(CITIES), engine)
    assert list(frame.columns) == ["city", "contacts", "accounts"]
    assert list(frame.itertuples(index=False, name=None)) == expected


def test_reflection_answers_per_source(engine: Engine) -> None:
    inspector = inspect(engine)
    assert inspector.get_schema_names() == ["fin", "tpl"]
    assert sorted(inspector.get_table_names(schema="tpl")) == ["companies", "contacts"]
    assert "Account" in inspector.get_table_names(schema="fin")
    assert "contacts" not in inspector.get_table_names(schema="fin")
    # The default schema is the user's own DuckDB one: no source's tables are there.
    assert inspector.get_table_names() == []
    assert inspector.has_table("account", schema="FIN") and not inspector.has_table("contacts", schema="fin")
    assert {c["name"] for c in inspector.get_columns("contacts", schema="tpl")} >= {"id", "city", "email"}
    assert inspector.get_pk_constraint("Account", schema="fin")["constrained_columns"] == ["Id"]
    with pytest.raises(UnknownTableError, match="fin, tpl"):
        inspector.get_columns("Account", schema="crm")


def test_the_url_hides_every_secret_of_every_source(sandbox: Sandbox, engine: Engine) -> None:
    # A misspelt secret is masked too (the connection would refuse it, so this engine never connects).
    fin = sandbox.url("financialforce") + "&Pasword=misspelt-secret"
    misspelt = create_engine(duckfed_url(fin=fin, tpl=sandbox.url("template")))
    secrets = ["myPassword", "myToken", "misspelt-secret", sandbox.properties("template")["OAuthClientSecret"]]
    for url in (engine.url, misspelt.url):
        for shown in (repr(url), str(url), url.render_as_string(hide_password=False)):
            assert not [s for s in secrets if s in shown], shown
    nested = make_url(str(misspelt.url.query["fin"]))
    assert nested.query["User"] == "myUser" and nested.query["Password"] == "***"
    assert nested.query["Pasword"] == "***"
    # The pool still connects with the real values.
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM fin.Account")).scalar() == 200


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (duckfed_url(fin="nosuchsource:///?Password=hunter2"), r"^fin: unknown source 'nosuchsource'"),
        (duckfed_url(fin="hunter2"), r"^fin: the value is not a source URL"),
        (duckfed_url(**{"my-source": "template:///"}), r"source name 'my-source' must be a plain identifier"),
        (duckfed_url(main="template:///"), r"source name 'main' must be a plain identifier"),
        ("duckfed:///?fin=template:///&FIN=template:///", r"^FIN: source names differ only in case"),
        ("duckfed:///?fin=template:///&fin=template:///", r"^fin: the source is given more than once"),
        ("duckfed:///", r"needs at least one source"),
        ("duckfed:///file.db?fin=template:///", r"in the query string only"),
    ],
)
def test_a_bad_source_is_refused_when_the_engine_is_created(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        create_engine(url)
    assert "hunter2" not in str(raised.value)
