"""Writes through SQLAlchemy against the emulator: the ORM's add, attribute changes and delete at commit, Core
INSERT/UPDATE/DELETE with RETURNING and rowcounts, stale-row checks, errors, and rollback after writes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from federation.dialect import orm_flush
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


class VendorBase(DeclarativeBase):
    pass


class StateAccount(VendorBase):
    """The vendors' published example maps BillingState as the primary key; the table's key is Id."""

    __tablename__ = "Account"

    BillingState: Mapped[str] = mapped_column(primary_key=True)
    Id: Mapped[str | None]
    Name: Mapped[str]
    Industry: Mapped[str | None]


def by_state(api: Any, state: str) -> list[dict[str, Any]]:
    return [r for r in api.store.records("Account") if r.get("BillingState") == state]


@pytest.fixture()
def states(engine: Engine, api: Any) -> Iterator[None]:
    """Accounts in two made-up states: three in ZQ, one in ZR."""
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO Account (Name, BillingState) VALUES (:n, :s)"),
            [{"n": f"state q{i}", "s": "ZQ"} for i in (1, 2, 3)] + [{"n": "state r1", "s": "ZR"}],
        )
    api.reset_counts()
    yield
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM Account WHERE BillingState IN ('ZQ', 'ZR')"))


def test_a_flush_that_would_change_several_records_writes_nothing(engine: Engine, api: Any, states: None) -> None:
    with Session(engine) as session:
        account = session.scalars(select(StateAccount).where(StateAccount.Name == "state q1")).one()
        account.Industry = "Floppy Disks"
        with pytest.raises(ProgrammingError, match=r"matches 3 records of 'Account', so nothing was written") as caught:
            session.commit()
    assert "`Id: Mapped[str] = mapped_column(primary_key=True)`" in str(caught.value)
    with Session(engine) as session:
        session.delete(session.scalars(select(StateAccount).where(StateAccount.Name == "state q2")).one())
        with pytest.raises(ProgrammingError, match=r"the ORM expected this DELETE to change one record"):
            session.commit()
    assert writes(api) == {}
    assert sorted((r["Name"], r["Industry"]) for r in by_state(api, "ZQ")) == [
        ("state q1", None),
        ("state q2", None),
        ("state q3", None),
    ]


def test_a_flush_whose_key_matches_one_record_writes_it(engine: Engine, api: Any, states: None) -> None:
    with Session(engine) as session:
        account = session.get(StateAccount, "ZR")
        assert account is not None
        account.Industry = "Floppy Disks"
        session.commit()
        assert [r["Industry"] for r in by_state(api, "ZR")] == ["Floppy Disks"]
        session.delete(account)
        session.commit()
    assert by_state(api, "ZR") == []
    assert writes(api) == {"composite_update": 1, "composite_delete": 1}


def test_sql_keeps_its_meaning_for_the_same_where(engine: Engine, api: Any, states: None) -> None:
    with engine.begin() as connection:
        plain = connection.execute(text("UPDATE Account SET Industry = 'Energy' WHERE BillingState = 'ZQ'"))
        assert plain.rowcount == 3
        changed = connection.execute(
            update(StateAccount).where(StateAccount.BillingState == "ZQ").values(Industry="Retail")
        )
        assert changed.rowcount == 3
    assert {r["Industry"] for r in by_state(api, "ZQ")} == {"Retail"}


def test_an_unset_server_assigned_key_is_not_given(engine: Engine, api: Any) -> None:
    with Session(engine) as session:
        session.add(StateAccount(BillingState="ZS", Name="state s1"))  # the ORM sends Id=None
        session.commit()
    [record] = by_state(api, "ZS")
    assert record["Name"] == "state s1" and record["Id"]
    with Session(engine) as session:
        session.add(StateAccount(BillingState="ZT", Name="state t1", Id="001000000000000AAA"))
        with pytest.raises(DatabaseError, match="column Id of 'Account' is assigned by the API"):
            session.commit()
    assert by_state(api, "ZT") == []


def test_the_dialect_recognises_exactly_the_flushs_updates_and_deletes(engine: Engine, api: Any) -> None:
    """Pins the reading of SQLAlchemy's internals `federation.dialect.orm_flush` relies on."""
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement.split()[0], orm_flush(context)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            account = Account(Name="flush pin")
            session.add(account)
            session.flush()
            account.Industry = "Energy"
            session.flush()
            session.execute(update(Account).where(Account.Name == "flush pin").values(Industry="Retail"))
            session.delete(account)
            session.commit()
        with engine.begin() as connection:
            connection.execute(update(Account).where(Account.Name == "flush pin").values(Industry="Retail"))
            cached = connection.execution_options(compiled_cache={})
            cached.execute(delete(Account).where(Account.Name == "flush pin"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    writes_seen = [(verb, flushed) for verb, flushed in seen if verb in ("INSERT", "UPDATE", "DELETE")]
    assert writes_seen == [
        ("INSERT", False),
        ("UPDATE", True),  # the flush of a changed attribute
        ("UPDATE", False),  # session.execute(update(...)): SQL meaning
        ("DELETE", True),  # the flush of session.delete
        ("UPDATE", False),  # Core
        ("DELETE", False),  # Core with a statement cache of its own
    ]
