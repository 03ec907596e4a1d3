"""The vendor's published SQLAlchemy example (CData's "SQLAlchemy ORM to access Sage Intacct" article), run as
pasted against the emulator: its connection string plus the sandbox's `URL=` (the emulator accepts the
example's placeholder credentials). The ORM maps `Customer` with `Name` as the primary key and the elided
columns the article's steps use (`CustomerId`, `TotalDue`, matched case-insensitively)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import Column, String, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from federation.sandbox import Sandbox

EXAMPLE = (
    "sageintacct:///?User=myusername&CompanyId=TestCompany&Password=mypassword&SenderId=Test&SenderPassword=abcde123"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=50, sources=["sageintacct"]) as running:
        yield running


PASTED = pytest.param(Column(String), id="as-pasted")


@pytest.mark.parametrize("total_due", [PASTED, pytest.param(Column("Totaldue", String), id="canonical-case")])
def test_the_vendor_example_runs(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], total_due: Column[str]) -> None:
    engine = create_engine(f"{EXAMPLE}&URL={quote(sandbox.endpoint('sageintacct'), safe='')}")
    base = declarative_base()

    class Customer(base):  # type: ignore[valid-type,misc]
        __tablename__ = "Customer"
        Name = Column(String, primary_key=True)
        TotalDue = total_due
        CustomerId = Column(String)

    session = sessionmaker(bind=engine)()
    for instance in session.query(Customer).filter_by(CustomerId="12345"):
        print("Name: ", instance.Name)
        print("TotalDue: ", instance.TotalDue)
        print("---------")
    assert "Name:  Textiles 7" in capsys.readouterr().out

    Customer_table = Customer.metadata.tables["Customer"]
    found = list(session.execute(Customer_table.select().where(Customer_table.c.CustomerId == "12345")))
    assert [row.Name for row in found] == ["Textiles 7"]

    # The article inserts with a placeholder name; the API assigns RECORDNO and the print-as name is filled in.
    new_rec = Customer(Name="placeholder", CustomerId="67890")
    session.add(new_rec)
    session.commit()
    api = sandbox.server("sageintacct")
    created = [r for r in api.company.tables["CUSTOMER"].values() if r["CUSTOMERID"] == "67890"]  # type: ignore[attr-defined]
    assert len(created) == 1 and created[0]["DISPLAYCONTACT.PRINTAS"] == "placeholder"

    updated_rec = session.query(Customer).filter_by(CustomerId="67890").first()
    assert updated_rec is not None
    updated_rec.CustomerId = "67891"
    session.commit()
    assert created[0]["CUSTOMERID"] == "67891"

    deleted_rec = session.query(Customer).filter_by(CustomerId="67891").first()
    session.delete(deleted_rec)
    session.commit()
    assert not [r for r in api.company.tables["CUSTOMER"].values() if r["CUSTOMERID"] == "67891"]  # type: ignore[attr-defined]
