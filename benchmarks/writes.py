"""API calls and wall time of writes, measured on the sandbox's FinancialForce emulator.

    python benchmarks/writes.py [--rows 1000] [--latency 0.05]

Inserts `--rows` Accounts, updates half of them selected by a WHERE clause, then deletes those, first as SQL
through DuckDB's DB-API (`federation.connect`), then through the SQLAlchemy ORM (`session.add_all`, attribute
changes, `session.delete`, each written at commit). `--latency` adds that many seconds to every API request, as a
network would; the default 0 measures duckfed and the emulator alone.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import federation
from federation.sandbox import Sandbox


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "Account"

    Id: Mapped[str] = mapped_column(primary_key=True)
    Name: Mapped[str]
    Industry: Mapped[str | None]
    NumberOfEmployees: Mapped[int | None]


def measure(emulator: object, action: Callable[[], object]) -> tuple[Counter[str], float]:
    before = Counter(emulator.calls_by_kind)  # type: ignore[attr-defined]
    started = time.perf_counter()
    action()
    return Counter(emulator.calls_by_kind) - before, time.perf_counter() - started  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    rows, half = args.rows, args.rows // 2
    results: list[tuple[str, Counter[str], float]] = []
    with Sandbox(records=1000, sources=["financialforce"]) as sandbox:
        emulator = sandbox.server("financialforce")
        con = federation.connect({"fin": sandbox.url("financialforce")})
        con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in and describe first
        emulator.latency = args.latency  # type: ignore[attr-defined]

        steps: list[tuple[str, Callable[[], object]]] = [
            (
                f"SQL: INSERT {rows:,} rows (executemany)",
                lambda: con.executemany(
                    "INSERT INTO fin.Account (Name, NumberOfEmployees) VALUES (?, ?)",
                    [(f"bench {i:05}", i) for i in range(rows)],
                ),
            ),
            (
                f"SQL: UPDATE {half:,} rows selected by WHERE",
                lambda: con.execute(
                    "UPDATE fin.Account SET Industry = 'Energy' WHERE Name LIKE 'bench %' AND NumberOfEmployees % 2 = 0"
                ),
            ),
            (
                f"SQL: DELETE those {half:,} rows",
                lambda: con.execute("DELETE FROM fin.Account WHERE Industry = 'Energy' AND Name LIKE 'bench %'"),
            ),
        ]
        for title, action in steps:
            calls, seconds = measure(emulator, action)
            results.append((title, calls, seconds))
        con.close()

        engine = create_engine(sandbox.url("financialforce"))
        with Session(engine, expire_on_commit=False) as session:
            session.scalars(select(Account).limit(1)).all()
            accounts = [Account(Name=f"orm {i:05}", NumberOfEmployees=i) for i in range(rows)]

            def add() -> None:
                session.add_all(accounts)
                session.commit()

            def change() -> None:
                for account in accounts[::2]:
                    account.Industry = "Energy"
                session.commit()

            def remove() -> None:
                for account in accounts[::2]:
                    session.delete(account)
                session.commit()

            for title, action in [
                (f"ORM: add_all {rows:,} objects, commit", add),
                (f"ORM: change {half:,} objects, commit", change),
                (f"ORM: delete {half:,} objects, commit", remove),
            ]:
                calls, seconds = measure(emulator, action)
                results.append((title, calls, seconds))

    print(f"latency per API request: {args.latency * 1000:.0f} ms\n")
    print(f"{'what':<42} {'calls':>5} {'writes':>6} {'seconds':>8}  by kind")
    for title, calls, seconds in results:
        writes = sum(n for kind, n in calls.items() if kind.startswith("composite_"))
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(calls.items()))
        print(f"{title:<42} {sum(calls.values()):>5} {writes:>6} {seconds:>8.2f}  {kinds}")


if __name__ == "__main__":
    main()
