"""Writes through SQLAlchemy against the emulator: the ORM's add, attribute changes and delete at commit, Core
INSERT/UPDATE/DELETE with RETURNING and rowcounts, stale-row checks, errors, and rollback after writes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from federation.errors import IrreversibleWriteWarning, WriteError
from federation.sandbox import Sandbox

WRITE_KINDS = ("composite_create", "composite_update", "composite_delete")


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "Account"

    Id: Mapped[str] = mapped_column(primary_key=True)
    Name: Mapped[str]
    Industry: Mapped[str | None]
    AnnualRevenue: Mapped[Decimal | None]
    NumberOfEmployees: Mapped[int | None]


class Contact(Base):
    __tablename__ = "Contact"

    Id: Mapped[str] = mapped_column(primary_key=True)
    LastName: Mapped[str]
    Email: Mapped[str | None]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=20, sources=["financialforce"]) as running:
        yield running


@pytest.fixture(scope="module")
def engine(sandbox: Sandbox) -> Engine:
    engine = create_engine(sandbox.url("financialforce"))
    with Session(engine) as session:
        session.query(Account).limit(1).all()  # log in and describe up front
        session.query(Contact).limit(1).all()
    return engine


@pytest.fixture()
def api(sandbox: Sandbox) -> Any:
    server = sandbox.server("financialforce")
    server.reset_counts()
    return server


def stored(api: Any, prefix: str, obj: str = "Account") -> dict[str, dict[str, Any]]:
    """The live records the API holds whose name starts with `prefix`, by Id."""
    field = "LastName" if obj == "Contact" else "Name"
    return {r["Id"]: r for r in api.store.records(obj) if str(r.get(field) or "").startswith(prefix)}


def writes(api: Any) -> dict[str, int]:
    return {kind: n for kind, n in api.calls_by_kind.items() if kind in WRITE_KINDS}


def test_add_and_commit_gives_the_object_its_real_id(engine: Engine, api: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        account = Account(Name="orm one", Industry="Banking", AnnualRevenue=Decimal("1200"))
        session.add(account)
        session.commit()
    assert writes(api) == {"composite_create": 1}
    record = stored(api, "orm one")[account.Id]
    assert (record["Name"], record["Industry"], record["AnnualRevenue"]) == ("orm one", "Banking", 1200)


def test_add_all_sends_batches_and_each_object_gets_its_own_id(engine: Engine, api: Any) -> None:
    accounts = [Account(Name=f"bulk {i:03}", NumberOfEmployees=i) for i in range(450)]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(accounts)
        session.commit()
    assert writes(api) == {"composite_create": 3}
    held = stored(api, "bulk ")
    assert len(held) == 450
    assert all((held[a.Id]["Name"], held[a.Id]["NumberOfEmployees"]) == (a.Name, a.NumberOfEmployees) for a in accounts)


def test_changed_attributes_are_written_in_batches_at_commit(engine: Engine, api: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(Account(Name=f"change {i:03}") for i in range(300))
        session.commit()
        changing = session.scalars(select(Account).where(Account.Name.like("change %"))).all()
        api.reset_counts()
        for account in changing:
            account.Industry = "Retail" if int(account.Name[-3:]) % 2 else "Energy"
        session.commit()
    # The ORM sends the 300 changes as one executemany, which goes to the API in calls of 200.
    assert writes(api) == {"composite_update": 2}
    assert sorted({r["Name"]: r["Industry"] for r in stored(api, "change ").values()}.items()) == [
        (f"change {i:03}", "Retail" if i % 2 else "Energy") for i in range(300)
    ]


def test_deleted_objects_are_removed_in_batches(engine: Engine, api: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        doomed = [Account(Name=f"doomed {i:03}") for i in range(250)]
        session.add_all(doomed)
        session.commit()
        api.reset_counts()
        for account in doomed:
            session.delete(account)
        session.commit()
    assert writes(api) == {"composite_delete": 2}
    assert stored(api, "doomed ") == {}


def test_a_row_deleted_behind_the_orms_back_is_a_stale_row(engine: Engine, api: Any) -> None:
    with Session(engine, expire_on_commit=False) as session:
        kept, gone = Account(Name="stale kept"), Account(Name="stale gone")
        session.add_all([kept, gone])
        session.commit()
        with engine.begin() as other:
            other.execute(delete(Account).where(Account.Id == gone.Id))
        kept.Industry = gone.Industry = "Energy"
        with (
            pytest.raises(StaleDataError, match="expected to update 2 row"),
            pytest.warns(IrreversibleWriteWarning, match="can't undo the 1 record written"),
        ):
            session.commit()
    # The API wrote the record that still existed, and the warning said so.
    assert [r["Industry"] for r in stored(api, "stale ").values()] == ["Energy"]


def test_core_statements_return_keys_and_exact_rowcounts(engine: Engine, api: Any) -> None:
    with engine.begin() as connection:
        inserted = connection.execute(
            insert(Account).returning(Account.Id, Account.Name), [{"Name": f"core {i}"} for i in range(5)]
        ).all()
        changed = connection.execute(
            update(Account).where(Account.Name.in_(["core 1", "core 3"])).values(Industry="Energy")
        )
        assert changed.rowcount == 2
        removed = connection.execute(
            delete(Account).where(Account.Name.like("core %")).where(Account.Industry.is_(None))
        )
        assert removed.rowcount == 3
        remaining = connection.execute(select(func.count()).select_from(Account).where(Account.Name.like("core %")))
        assert remaining.scalar() == 2
    assert [name for _, name in inserted] == [f"core {i}" for i in range(5)]
    assert set(stored(api, "core ")) == {i for i, name in inserted if name in ("core 1", "core 3")}


def test_text_sql_with_named_parameters(engine: Engine, api: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO Account (Name, NumberOfEmployees) VALUES (:name, :n)"),
            [{"name": "text a", "n": 1}, {"name": "text b", "n": 2}],
        )
        result = connection.execute(
            text("UPDATE Account SET NumberOfEmployees = NumberOfEmployees + :d WHERE Name LIKE :p"),
            {"d": 10, "p": "text %"},
        )
        assert result.rowcount == 2
    assert sorted(r["NumberOfEmployees"] for r in stored(api, "text ").values()) == [11, 12]


def test_a_reflected_table_gets_its_keys_back(engine: Engine, api: Any) -> None:
    accounts = Table("Account", MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        result = connection.execute(insert(accounts).values(Name="reflected"))
        [key] = result.inserted_primary_key
    assert list(stored(api, "reflected")) == [key]


def test_missing_required_values_fail_before_any_call(engine: Engine, api: Any) -> None:
    with Session(engine) as session:
        session.add(Contact(Email="nobody@example.com"))  # LastName is required
        with pytest.raises(IntegrityError, match="'LastName' can't be null"):
            session.commit()
    assert writes(api) == {}


def test_the_apis_refusal_reaches_the_orm_with_its_account(engine: Engine, api: Any) -> None:
    with Session(engine) as session:
        session.add_all(
            [Contact(LastName="refused ok", Email="ok@example.com"), Contact(LastName="refused bad", Email="bad")]
        )
        with pytest.raises(DatabaseError) as caught:
            session.commit()
    error = caught.value.orig
    assert isinstance(error, WriteError) and error.written == 0
    assert [(f.position, f.code) for f in error.failures] == [(1, "INVALID_EMAIL_ADDRESS")]
    assert stored(api, "refused", "Contact") == {}


def test_rollback_after_a_flush_warns_and_commit_does_not(engine: Engine, api: Any) -> None:
    with Session(engine) as session:
        session.add(Account(Name="flushed"))
        session.flush()
        with pytest.warns(IrreversibleWriteWarning, match="1 record written to financialforce"):
            session.rollback()
        session.add(Account(Name="committed"))
        with warnings.catch_warnings():
            warnings.simplefilter("error", IrreversibleWriteWarning)
            session.commit()
            session.close()
    assert len(stored(api, "flushed")) == 1 and len(stored(api, "committed")) == 1
