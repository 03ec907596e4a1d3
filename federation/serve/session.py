"""One client's session: its messages, in the simple and the extended query protocol, on its own DuckDB cursor.

Statements run through `federation.serve.runner` on the session's worker (`federation.serve.worker`), since DuckDB
and the sources block; their results go back through `federation.serve.sending`, encoded column-wise
(`federation.serve.encoding`). Catalog queries are answered by `federation.serve.catalog`.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass

from federation.connection import Connection
from federation.serve import protocol
from federation.serve import statements as canned
from federation.serve.catalog import Catalog
from federation.serve.limits import Limits
from federation.serve.parameters import bind_parameters
from federation.serve.protocol import Cursor, Message
from federation.serve.results import Portal, Prepared, Result, placeholder_count
from federation.serve.runner import Runner
from federation.serve.sending import send_result
from federation.serve.sqlstate import Failure
from federation.serve.types import TEXT
from federation.serve.worker import Worker

log = logging.getLogger("duckfed.serve")


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
        self.worker = Worker(server.executor, cursor, server.limits.statement_timeout)
        self.runner = Runner(cursor, server.catalog, self.worker)
        self.prepared: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}

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
                self.send(protocol.ready(self.runner.status))
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
        self.runner.failed()

    def stop(self, reason: str) -> None:
        """Stop the running statement (a cancel request, or the statement timeout); thread-safe."""
        self.worker.stop(reason)

    async def simple(self, sql: str) -> None:
        statements = canned.split(sql)
        if not statements:
            self.send(protocol.EMPTY_QUERY)
        for statement in statements:
            try:
                with self.worker.timed():
                    result = await self.runner.statement(statement, [])
                    await self.send_result(result, [False] * len(result.names), describe=True)
            except Failure as failed:
                self.fail(failed)
                break
        self.send(protocol.ready(self.runner.status))
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
            names, types = await self.runner.shape(prepared.sql, [None] * count)
            if names:
                self.send(protocol.row_description(names, types, [False] * len(names)))
            else:
                self.send(protocol.NO_DATA)
            return
        portal = self._portal(name)
        if portal.result is None:
            with self.worker.timed():
                portal.result = await self.runner.statement(portal.sql, portal.parameters)
        result = portal.result
        if result.batches is None:
            self.send(protocol.NO_DATA)
        else:
            self.send(protocol.row_description(result.names, result.types, portal.binary(len(result.names))))

    async def execute(self, portal: Portal, limit: int) -> None:
        with self.worker.timed():
            if portal.result is None:
                portal.result = await self.runner.statement(portal.sql, portal.parameters)
            result = portal.result
            binary = portal.binary(len(result.names))
            if await self.send_result(result, binary, describe=False, portal=portal, limit=limit):
                self.send(protocol.message(b"s"))  # PortalSuspended: Execute's row limit was reached

    async def send_result(
        self, result: Result, binary: list[bool], *, describe: bool, portal: Portal | None = None, limit: int = 0
    ) -> bool:
        """Send a result's rows and command tag; True when a row limit (Execute's) suspended it."""
        return await send_result(
            self.writer, self.worker, self.server.limits, result, binary, describe=describe, portal=portal, limit=limit
        )
