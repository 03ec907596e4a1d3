"""SQLAlchemy end to end: engines from the vendors' URL form, the ORM, Core, text SQL, reflection, pandas."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from urllib.parse import quote

import pandas as pd
import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, func, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from federation.sandbox import Sandbox


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "Account"

    Id: Mapped[str] = mapped_column(primary_key=True)
    Name: Mapped[str]
    Industry: Mapped[str | None]
    AnnualRevenue: Mapped[Decimal | None]
    NumberOfEmployees: Mapped[int | None]


@pytest.fixture(scope="module")
def engine(sf_sandbox: Sandbox) -> Engine:
    return create_engine(sf_sandbox.url("financialforce"))


def test_the_vendors_url_form_works_as_written(sf_sandbox: Sandbox) -> None:
    endpoint = quote(sf_sandbox.endpoint("financialforce"), safe="")
    url = f"financialforce:///?User=myUser&Password=myPassword&Security Token=myToken&URL={endpoint}"
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM Account")).scalar() == 1000
    assert "myPassword" not in repr(engine.url) and "myToken" not in repr(engine.url)
    assert "myPassword" not in str(engine.url)


def test_orm_filter_by_is_sent_to_the_api(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    with Session(engine) as session:
        session.query(Account).limit(1).all()  # connect and describe first
        caplog.set_level(logging.DEBUG, logger="duckfed.salesforce")
        banks = session.query(Account).filter_by(Industry="Banking").all()
    assert banks and all(a.Industry == "Banking" for a in banks)
    sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SOQL:")]
    assert any("WHERE Industry = 'Banking'" in soql for soql in sent), sent
    with Session(engine) as session:
        everyone = session.query(Account).all()
    assert len(banks) == sum(a.Industry == "Banking" for a in everyone)


def test_orm_objects_carry_typed_values(engine: Engine) -> None:
    with Session(engine) as session:
        rich = session.scalars(
            select(Account).where(Account.AnnualRevenue > Decimal("1000000")).order_by(Account.Id).limit(5)
        ).all()
    assert rich and all(isinstance(a.AnnualRevenue, Decimal) and a.AnnualRevenue > 1000000 for a in rich)
    # Exactly the currency field's scale (0 for AnnualRevenue): no float round trip, no padding.
    assert {a.AnnualRevenue.as_tuple().exponent for a in rich if a.AnnualRevenue is not None} == {0}


def test_core_select_with_a_where(engine: Engine) -> None:
    table = Table("Account", MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        rows = connection.execute(table.select().where(table.c.Industry == "Technology")).all()
        total = connection.execute(select(func.count()).select_from(table)).scalar()
    assert rows and all(row.Industry == "Technology" for row in rows)
    assert total == 1000
    with Session(engine) as session:
        same = session.execute(table.select().where(table.c.Industry == "Technology")).all()
    assert sorted(r.Id for r in same) == sorted(r.Id for r in rows)


def test_text_sql_with_join_group_by_window_and_limit(engine: Engine) -> None:
    sql = text(
        """
        SELECT a.Industry, count(*) AS contacts,
               rank() OVER (ORDER BY count(*) DESC, a.Industry) AS position
        FROM Contact c JOIN Account a ON c.AccountId = a.Id
        WHERE a.Industry IS NOT NULL
        GROUP BY a.Industry
        ORDER BY position
        LIMIT :n
        """
    )
    with engine.connect() as connection:
        rows = connection.execute(sql, {"n": 3}).all()
    assert len(rows) == 3
    assert [r.position for r in rows] == [1, 2, 3]
    assert rows[0].contacts >= rows[1].contacts >= rows[2].contacts


def test_reflection_lists_tables_and_columns(engine: Engine) -> None:
    inspector = inspect(engine)
    names = inspector.get_table_names()
    assert {"Account", "Contact", "Opportunity", "c2g__codaInvoice__c"} <= set(names)
    assert not any(n.startswith("pse__") for n in names), "PSA objects belong to the certinia profile"
    columns = {c["name"]: c for c in inspector.get_columns("Account")}
    assert columns["Id"]["nullable"] is False
    assert str(columns["AnnualRevenue"]["type"]).startswith("NUMERIC")
    assert inspector.get_pk_constraint("Account")["constrained_columns"] == ["Id"]


def test_certinia_lists_the_psa_objects(sf_sandbox: Sandbox) -> None:
    names = inspect(create_engine(sf_sandbox.url("certinia"))).get_table_names()
    assert {"pse__Proj__c", "pse__Timecard_Header__c", "c2g__codaInvoice__c", "Account"} <= set(names)


def test_pandas_read_sql(engine: Engine) -> None:
    frame = pd.read_sql("SELECT Name, NumberOfEmployees FROM Account ORDER BY Name LIMIT 7", engine)
    assert list(frame.columns) == ["Name", "NumberOfEmployees"]
    assert len(frame) == 7
    assert frame["Name"].is_monotonic_increasing


def test_misspelt_and_unknown_properties_are_masked_in_the_engine_url() -> None:
    engine = create_engine(
        "financialforce:///?User=myUser&Pasword=secret1&SecurityTokn=secret2&Security Token=secret3"
        "&Region=eu&PageSize=500"
    )
    for shown in (repr(engine.url), str(engine.url), repr(engine)):
        assert not {"secret1", "secret2", "secret3", "eu"} & set(re.split(r"[=&?]", shown)), shown
        assert "User=myUser" in shown and "PageSize=500" in shown  # known not to be secret
