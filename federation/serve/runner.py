"""How one statement of a client runs: answered without running it (transaction control, `DISCARD ALL`, harmless
settings, catalog queries), or checked by `federation.serve.guard` and run on the client's DuckDB cursor — a query,
the query of a `COPY … TO STDOUT`, or a write through the connection's `execute`, that is, duckfed's DML routing
with its guards.

Transactions are the client's view only: each statement runs, and each write reaches the API, as it is sent (as
with `federation.connect`), so a ROLLBACK after writes warns that they stay.
"""

from __future__ import annotations

from typing import Any

import duckdb
from sqlglot import exp

from federation import errors
from federation.connection import Connection
from federation.errors import Error
from federation.serve import guard
from federation.serve import statements as canned
from federation.serve.catalog import Catalog
from federation.serve.results import BATCH_ROWS, Result, answered
from federation.serve.sqlstate import Failure
from federation.serve.types import PgType, pg_type
from federation.serve.worker import Worker
from federation.statements import parse

#: How often a read runs again when a concurrent client's registration of the same table won the race.
_REGISTRATION_ATTEMPTS = 3


class Runner:
    """Runs a client's statements on its cursor, and keeps the client's transaction status."""

    def __init__(self, cursor: Connection, catalog: Catalog, worker: Worker) -> None:
        self.cursor = cursor
        self.catalog = catalog
        self.worker = worker
        #: The transaction status ReadyForQuery reports: idle, in a transaction, or in a failed one.
        self.status = b"I"
        #: Records written since the client's BEGIN, for the warning a ROLLBACK gives.
        self.written = 0

    def failed(self) -> None:
        """A statement failed: a transaction block is aborted until its end, as in PostgreSQL."""
        if self.status == b"T":
            self.status = b"E"

    async def statement(self, sql: str, parameters: list[Any]) -> Result:
        """Run one statement (or answer it without running it) and return its result to send."""
        control = canned.transaction(sql)
        if control is not None:
            return self._transaction(control.tag)
        if self.status == b"E":
            raise Failure("25P02", "current transaction is aborted, commands ignored until end of transaction block")
        if canned.discard(sql):
            return Result(tag="DISCARD ALL")
        if canned.harmless_set(sql):
            return Result(tag="SET")
        answer = self.catalog.answer(sql)
        if answer is not None:
            return answered(answer)
        copy = canned.copy_to_stdout(sql)
        if copy is not None:
            if not copy.binary:
                raise Failure("0A000", 'COPY … TO STDOUT is served in FORMAT "binary" only')
            kind, _ = self._check(copy.query)
            if kind is not guard.Kind.READ:
                raise Failure("42501", "COPY serves a query only")
            result = await self.worker.run(self._query, copy.query, parameters)
            result.tag = "COPY"
            return result
        kind, statement = self._check(sql)
        if kind is guard.Kind.WRITE:
            return await self.worker.run(self._write, sql, parameters, statement)
        result = await self.worker.run(self._query, sql, parameters)
        result.tag = "EXPLAIN" if kind is guard.Kind.EXPLAIN else "SELECT"
        return result

    async def shape(self, sql: str, parameters: list[Any]) -> tuple[list[str], list[PgType]]:
        """A query's column names and types, found without running it (for Describe of a prepared statement)."""
        return await self.worker.run(self._shape, sql, parameters)

    def _transaction(self, tag: str) -> Result:
        notice = None
        if tag == "BEGIN":
            if self.status == b"I":
                self.written = 0
            self.status = b"T" if self.status == b"I" else self.status
        else:
            if self.status == b"E":
                tag = "ROLLBACK"
            if tag == "ROLLBACK" and self.written:
                notice = (
                    f"rollback can't undo the {self.written} records written since the transaction began: "
                    "the API applied each write as its statement ran"
                )
            self.status, self.written = b"I", 0
        return Result(tag=tag, notice=notice)

    def _check(self, sql: str) -> tuple[guard.Kind, exp.Expr | None]:
        try:
            kind = guard.check(sql, self.cursor.federation)
        except errors.UnknownTableError as error:
            raise Failure("42P01", error.message) from None
        except Error as error:
            raise Failure("42501", error.message) from None
        statements = parse(sql) if kind is guard.Kind.WRITE else []
        return kind, statements[0] if statements else None

    def _shape(self, sql: str, parameters: list[Any]) -> tuple[list[str], list[PgType]]:
        kind, _ = self._check(sql)
        if kind is guard.Kind.WRITE:
            return [], []
        relation = self.cursor.sql(sql, params=parameters or None)
        schema = relation.limit(0).to_arrow_table().schema
        duck_types = [str(t) for t in relation.types]
        return list(schema.names), [pg_type(f.type, d) for f, d in zip(schema, duck_types, strict=True)]

    def _query(self, sql: str, parameters: list[Any]) -> Result:
        attempt = 1
        while True:
            try:
                return self._query_once(sql, parameters)
            except duckdb.TransactionException as error:
                # Two clients registering the same source table at once: DuckDB's catalog lets one win; the
                # other's read finds the table registered when it runs again.
                if "conflict" not in str(error) or attempt == _REGISTRATION_ATTEMPTS:
                    raise
                attempt += 1

    def _query_once(self, sql: str, parameters: list[Any]) -> Result:
        relation = self.cursor.sql(sql, params=parameters or None)
        if relation is None:
            return Result(tag="SELECT")
        duck_types = [str(t) for t in relation.types]
        reader = relation.to_arrow_reader(BATCH_ROWS)
        types = [pg_type(f.type, d) for f, d in zip(reader.schema, duck_types, strict=True)]
        return Result(list(reader.schema.names), types, reader)

    def _write(self, sql: str, parameters: list[Any], statement: exp.Expr | None) -> Result:
        self.cursor.execute(sql, parameters or None)
        count = self.cursor.rowcount
        self.written += max(count, 0)
        verb = (
            "INSERT 0"
            if isinstance(statement, exp.Insert)
            else "UPDATE"
            if isinstance(statement, exp.Update)
            else "DELETE"
        )
        if statement is not None and statement.args.get("returning") is not None:
            reader = self.cursor.to_arrow_reader(BATCH_ROWS)
            types = [pg_type(f.type) for f in reader.schema]
            return Result(list(reader.schema.names), types, reader, tag=f"{verb} {count}")
        return Result(tag=f"{verb} {count}")
