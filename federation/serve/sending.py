"""Sending a statement's result: its rows as DataRows (or a binary COPY's CopyData), then its command tag.

Rows go out a batch at a time, so memory stays flat and a slow client slows the scan instead of filling the server.
Reading the next batch from DuckDB and encoding it (`Chunks.next`, on the session's worker thread) overlaps with
the event loop writing the previous one to the client, one chunk ahead and no more: the scan, the encoding and the
transfer run at once rather than one after another. The server's row and byte limits fail the statement before a
chunk beyond them is sent, never cutting a result short silently.
"""

from __future__ import annotations

import asyncio

from federation.serve import encoding, protocol
from federation.serve.limits import Limits
from federation.serve.results import Portal, Result, encode, next_batch, raise_limit
from federation.serve.worker import Worker


class Chunks:
    """A result's rows as wire-ready chunks, one batch each, counted against the limits and Execute's row limit."""

    def __init__(self, result: Result, binary: list[bool], limits: Limits, portal: Portal | None, limit: int) -> None:
        assert result.batches is not None
        self.batches = result.batches
        self.types = result.types
        self.binary = binary
        self.limits = limits
        self.portal = portal
        self.limit = limit
        self.copying = result.tag == "COPY"
        #: Whether a binary COPY's header is still to send (it travels with the first row).
        self.header = self.copying
        #: Rows of the result sent so far, across a portal's Executes.
        self.sent = portal.sent if portal else 0
        #: Rows this Execute sent, against its row limit.
        self.this_call = 0
        self.size = 0
        #: No chunk follows: the rows ended, or Execute's row limit was reached.
        self.done = False

    def next(self) -> bytes | None:
        """The next chunk to send, or None when the rows have ended (blocks: run it on the worker)."""
        portal = self.portal
        batch = portal.leftover if portal and portal.leftover is not None else None
        if portal:
            portal.leftover = None
        if batch is None:
            batch = next_batch(self.batches)
        if batch is None:
            self.done = True
            return None
        if self.limit and self.this_call + batch.num_rows > self.limit:
            assert portal is not None
            portal.leftover = batch.slice(self.limit - self.this_call)
            batch = batch.slice(0, self.limit - self.this_call)
        limits = self.limits
        if limits.max_rows is not None and self.sent + batch.num_rows > limits.max_rows:
            raise_limit(f"the result has more than {limits.max_rows} rows, the server's --max-rows")
        chunk = encode(b"d" if self.copying else b"D", batch, self.types, self.binary, self.header)
        self.header = self.header and batch.num_rows == 0
        self.size += len(chunk)
        if limits.max_bytes is not None and self.size > limits.max_bytes:
            raise_limit(f"the result is larger than {limits.max_bytes} bytes, the server's --max-bytes")
        self.sent += batch.num_rows
        self.this_call += batch.num_rows
        if portal and portal.leftover is not None:
            portal.sent = self.sent
            self.done = True
        return chunk


async def send_result(
    writer: asyncio.StreamWriter,
    worker: Worker,
    limits: Limits,
    result: Result,
    binary: list[bool],
    *,
    describe: bool,
    portal: Portal | None = None,
    limit: int = 0,
) -> bool:
    """Send a result's rows and command tag; True when a row limit (Execute's) suspended it."""
    if result.notice:
        writer.write(protocol.notice("WARNING", "01000", result.notice))
    if result.batches is None:
        writer.write(protocol.command_complete(result.tag))
        return False
    copying = result.tag == "COPY"
    if copying:
        writer.write(protocol.copy_out(len(result.names)))
        binary = [True] * len(result.names)
    elif describe:
        writer.write(protocol.row_description(result.names, result.types, binary))
    chunks = Chunks(result, binary, limits, portal, limit)
    ahead: asyncio.Future[bytes | None] | None = asyncio.ensure_future(worker.run(chunks.next))
    try:
        while ahead is not None:
            chunk = await ahead
            ahead = None
            if chunk is None:
                break
            if not chunks.done:
                ahead = asyncio.ensure_future(worker.run(chunks.next))
            writer.write(chunk)
            await writer.drain()
    finally:
        if ahead is not None:
            # The session's cursor is not free until the read ahead is over (a failed send, a client gone); its
            # own error, if any, is not the one to report.
            await asyncio.wait([ahead])
            if not ahead.cancelled():
                ahead.exception()
            # A failed read's error would otherwise hold this frame, and so the result's open DuckDB stream, in a
            # reference cycle; the stream must close as the failure is reported, for the cursor's next statement.
            ahead = None
    if portal and portal.leftover is not None:
        return True
    if copying:
        if chunks.header:
            writer.write(protocol.message(b"d", encoding.COPY_HEADER + encoding.COPY_TRAILER))
        else:
            writer.write(protocol.message(b"d", encoding.COPY_TRAILER))
        writer.write(protocol.COPY_DONE)
        writer.write(protocol.command_complete(f"COPY {chunks.sent}"))
    else:
        tag = result.tag if result.tag not in ("SELECT",) else f"SELECT {chunks.sent}"
        writer.write(protocol.command_complete(tag))
    return False
