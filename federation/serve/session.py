"""One client's session: its messages (simple and extended query protocol) run on its own DuckDB cursor.

Statements run on a worker thread, since DuckDB and the sources block; their results stream back one Arrow batch
at a time, encoded column-wise (`federation.serve.encoding`), so memory stays flat and a slow client slows the scan
instead of filling the server. Each statement is checked by `federation.serve.guard` before it runs; catalog
queries are answered by `federation.serve.catalog`. Writes go through the connection's `execute`, that is,
duckfed's DML routing with its guards.

Transactions are the client's view only: each statement runs, and each write reaches the API, as it is sent (as
with `federation.connect`), so a ROLLBACK after writes warns that they stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from federation import errors
from federation.connection import Connection
from federation.errors import Cancelled, Error
from federation.serve import encoding, guard, protocol
from federation.serve import statements as canned
from federation.serve.catalog import Catalog
from federation.serve.limits import Limits
from federation.serve.parameters import bind_parameters
from federation.serve.protocol import Cursor, Message
from federation.serve.results import (
    Portal,
    Prepared,
    Result,
    answered,
    encode,
    next_batch,
    placeholder_count,
    raise_limit,
)
from federation.serve.sqlstate import Failure, failure
from federation.serve.types import TEXT, PgType, pg_type
from federation.statements import parse

log = logging.getLogger("duckfed.serve")
T = TypeVar("T")
#: Rows per Arrow batch read from DuckDB: large enough for the encoders to be vectorised, small enough to stream.
BATCH_ROWS = 16_384
#: How often a read runs again when a concurrent client's registration of the same table won the race.
_REGISTRATION_ATTEMPTS = 3


@dataclass(frozen=True)
class Host:
    """What a session uses of its server: the catalog answers, the worker threads and the limits."""

    catalog: Catalog
    executor: Executor
    limits: Limits


class Session:
    """One client connection after authentication."""

    def __init__(
        self,
        server: Host,
        cursor: Connection,
        reader: protocol.Reader,
        writer: asyncio.StreamWriter,
        user: str,
    ) -> None:
        self.server = server
        self.cursor = cursor
        self.reader = reader
        self.writer = writer
        self.user = user
        self.status = b"I"
        self.prepared: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        #: Records written since the client's BEGIN, for the warning a ROLLBACK gives.
        self.written = 0
        #: Why the running statement is being stopped (a cancel request, the statement timeout).
        self._stop: str | None = None
        self._running = False
        self._lock = threading.Lock()

    # -- the message loop ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        skipping = False  # after an error in the extended protocol, until Sync
        while True:
            message = await self.reader.message()
            kind = message.kind
            if kind == b"X":
                return
            if kind == b"Q":
                await self.simple(Cursor(message.body).string())
                continue
            if kind == b"S":
                skipping = False
                self.portals.pop("", None)
                self.send(protocol.ready(self.status))
                await self.writer.drain()
                continue
            if kind == b"H":
                await self.writer.drain()
                continue
            if skipping:
                continue
            try:
                await self.extended(message)
            except Failure as failed:
                self.fail(failed)
                skipping = True
            await self.writer.drain()

    def send(self, data: bytes | memoryview) -> None:
        self.writer.write(data)

    def fail(self, failed: Failure) -> None:
        log.info("statement failed: %s %s", failed.code, failed.message)
        self.send(protocol.error(failed.code, failed.message))
        if self.status == b"T":
            self.status = b"E"

    async def simple(self, sql: str) -> None:
        statements = canned.split(sql)
        if not statements:
            self.send(protocol.EMPTY_QUERY)
        for statement in statements:
            try:
                with self._timed():
                    result = await self.statement(statement, [])
                    await self.send_result(result, [False] * len(result.names), describe=True)
            except Failure as failed:
                self.fail(failed)
                break
        self.send(protocol.ready(self.status))
        await self.writer.drain()

    async def extended(self, message: Message) -> None:
        body = Cursor(message.body)
        if message.kind == b"P":
            name, sql = body.string(), body.string()
            oids = [body.int32() for _ in range(body.int16())]
            self.prepared[name] = Prepared(sql, oids)
            self.send(protocol.PARSE_COMPLETE)
        elif message.kind == b"B":
            portal, name = body.string(), body.string()
            prepared = self._prepared(name)
            parameters = bind_parameters(body, prepared.oids)
            formats = [body.int16() for _ in range(body.int16())]
            self.portals[portal] = Portal(prepared.sql, parameters, formats)
            self.send(protocol.BIND_COMPLETE)
        elif message.kind == b"D":
            which, name = body.byte(), body.string()
            await self.describe(which, name)
        elif message.kind == b"E":
            name, limit = body.string(), body.int32()
            await self.execute(self._portal(name), limit)
        elif message.kind == b"C":
            which, name = body.byte(), body.string()
            if which == b"S":
                self.prepared.pop(name, None)
            else:
                self.portals.pop(name, None)
            self.send(protocol.CLOSE_COMPLETE)
        else:
            raise Failure("08P01", f"unsupported message type {message.kind!r}")

    def _prepared(self, name: str) -> Prepared:
        try:
            return self.prepared[name]
        except KeyError:
            raise Failure("26000", f'prepared statement "{name}" does not exist') from None

    def _portal(self, name: str) -> Portal:
        try:
            return self.portals[name]
        except KeyError:
            raise Failure("34000", f'portal "{name}" does not exist') from None

    async def describe(self, which: bytes, name: str) -> None:
        if which == b"S":
            prepared = self._prepared(name)
            count = placeholder_count(prepared.sql)
            oids = (prepared.oids + [0] * count)[:count]
            self.send(protocol.parameter_description([oid or TEXT.oid for oid in oids]))
            names, types = await self.work(self._shape, prepared.sql, [None] * count)
            if names:
                self.send(protocol.row_description(names, types, [False] * len(names)))
            else:
                self.send(protocol.NO_DATA)
            return
        portal = self._portal(name)
        if portal.result is None:
            with self._timed():
                portal.result = await self.statement(portal.sql, portal.parameters)
        result = portal.result
        if result.batches is None:
            self.send(protocol.NO_DATA)
        else:
            self.send(protocol.row_description(result.names, result.types, portal.binary(len(result.names))))

    async def execute(self, portal: Portal, limit: int) -> None:
        with self._timed():
            if portal.result is None:
                portal.result = await self.statement(portal.sql, portal.parameters)
            result = portal.result
            binary = portal.binary(len(result.names))
            if await self.send_result(result, binary, describe=False, portal=portal, limit=limit):
                self.send(protocol.message(b"s"))  # PortalSuspended: Execute's row limit was reached

    # -- statements ---------------------------------------------------------------------------------------------

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
        answer = self.server.catalog.answer(sql)
        if answer is not None:
            return answered(answer)
        copy = canned.copy_to_stdout(sql)
        if copy is not None:
            if not copy.binary:
                raise Failure("0A000", 'COPY … TO STDOUT is served in FORMAT "binary" only')
            kind, _ = self._check(copy.query)
            if kind is not guard.Kind.READ:
                raise Failure("42501", "COPY serves a query only")
            result = await self.work(self._query, copy.query, parameters)
            result.tag = "COPY"
            return result
        kind, statement = self._check(sql)
        if kind is guard.Kind.WRITE:
            return await self.work(self._write, sql, parameters, statement)
        result = await self.work(self._query, sql, parameters)
        result.tag = "EXPLAIN" if kind is guard.Kind.EXPLAIN else "SELECT"
        return result

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
        """A query's column names and types, found without running it (for Describe of a prepared statement)."""
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
        return Result(list(reader.schema.names), types, iter(reader))

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
            return Result(list(reader.schema.names), types, iter(reader), tag=f"{verb} {count}")
        return Result(tag=f"{verb} {count}")

    # -- running on a worker thread, with cancel and timeout ----------------------------------------------------

    async def work(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking call on the server's workers, as this session's running statement."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.server.executor, self._guarded, function, *args)

    def _guarded(self, function: Callable[..., T], *args: Any) -> T:
        with self._lock:
            self._running = True
        try:
            if self._stop is not None:
                raise Cancelled(self._stop)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # DuckDB's notes about copies; the rollback warning goes as a notice
                return function(*args)
        except (Error, duckdb.Error, pa.ArrowException, OSError) as error:
            if self._stop is not None and isinstance(error, Cancelled | duckdb.InterruptException):
                raise Failure("57014", f"canceling statement: {self._stop}") from None
            raise failure(error) from None
        finally:
            with self._lock:
                self._running = False

    def stop(self, reason: str) -> None:
        """Stop the running statement (a cancel request, or the statement timeout); thread-safe."""
        self._stop = reason
        with self._lock:
            running = self._running
        if running:
            self.cursor.interrupt(reason)

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        """A statement's run: a cancel before it is forgotten, and the statement timeout runs."""
        self._stop = None
        timeout = self.server.limits.statement_timeout
        timer = None
        if timeout:
            timer = threading.Timer(timeout, self.stop, args=(f"it ran past the statement timeout of {timeout:g} s",))
            timer.daemon = True
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()

    # -- sending results ----------------------------------------------------------------------------------------

    async def send_result(
        self,
        result: Result,
        binary: list[bool],
        *,
        describe: bool,
        portal: Portal | None = None,
        limit: int = 0,
    ) -> bool:
        """Send a result's rows and command tag; True when a row limit (Execute's) suspended it."""
        if result.notice:
            self.send(protocol.notice("WARNING", "01000", result.notice))
        if result.batches is None:
            self.send(protocol.command_complete(result.tag))
            return False
        copying = result.tag == "COPY"
        if copying:
            self.send(protocol.copy_out(len(result.names)))
            binary = [True] * len(result.names)
        elif describe:
            self.send(protocol.row_description(result.names, result.types, binary))
        sent = portal.sent if portal else 0
        header = copying
        limits = self.server.limits
        size = 0
        this_call = 0  # rows this Execute sent, against its row limit
        while True:
            batch = portal.leftover if portal and portal.leftover is not None else None
            if portal:
                portal.leftover = None
            if batch is None:
                batch = await self.work(next_batch, result.batches)
            if batch is None:
                break
            if limit and this_call + batch.num_rows > limit:
                assert portal is not None
                portal.leftover = batch.slice(limit - this_call)
                batch = batch.slice(0, limit - this_call)
            if limits.max_rows is not None and sent + batch.num_rows > limits.max_rows:
                raise_limit(f"the result has more than {limits.max_rows} rows, the server's --max-rows")
            kind = b"d" if copying else b"D"
            chunk = await self.work(encode, kind, batch, result.types, binary, header)
            header = header and batch.num_rows == 0
            size += len(chunk)
            if limits.max_bytes is not None and size > limits.max_bytes:
                raise_limit(f"the result is larger than {limits.max_bytes} bytes, the server's --max-bytes")
            self.send(chunk)
            sent += batch.num_rows
            this_call += batch.num_rows
            await self.writer.drain()
            if portal and portal.leftover is not None:
                portal.sent = sent
                return True
        if copying:
            if header:
                self.send(protocol.message(b"d", encoding.COPY_HEADER + encoding.COPY_TRAILER))
            else:
                self.send(protocol.message(b"d", encoding.COPY_TRAILER))
            self.send(protocol.COPY_DONE)
            self.send(protocol.command_complete(f"COPY {sent}"))
        else:
            tag = result.tag if result.tag not in ("SELECT",) else f"SELECT {sent}"
            self.send(protocol.command_complete(tag))
        return False
