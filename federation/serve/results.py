"""What a session keeps between messages (prepared statements, portals) and a statement's result: its columns, the
Arrow batches still to send, and their encoding into row messages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from federation.serve import encoding, protocol
from federation.serve.catalog import Answer
from federation.serve.sqlstate import Failure
from federation.serve.types import TEXT, PgType
from federation.statements import parse


@dataclass
class Prepared:
    """A statement of the extended protocol (Parse), and its parameters' type OIDs."""

    sql: str
    oids: list[int]


@dataclass
class Result:
    """A statement's rows (or none), ready to send."""

    names: list[str] = field(default_factory=list)
    types: list[PgType] = field(default_factory=list)
    batches: Iterator[pa.RecordBatch] | None = None
    tag: str = ""
    notice: str | None = None


@dataclass
class Portal:
    """A bound statement (Bind): its parameters and result formats, and its result once Describe or Execute ran it."""

    sql: str
    parameters: list[Any]
    formats: list[int]
    result: Result | None = None
    sent: int = 0
    leftover: pa.RecordBatch | None = None

    def binary(self, columns: int) -> list[bool]:
        if not self.formats:
            return [False] * columns
        if len(self.formats) == 1:
            return [self.formats[0] == 1] * columns
        return [f == 1 for f in self.formats]


def raise_limit(message: str) -> None:
    raise Failure("54000", message)


#: Rows encoded at once. What encoding a batch costs is mostly its kernel calls, a few per column whatever the rows
#: (`encoding.rows`), and DuckDB hands a streamed result over in vectors of about 2,048 rows whatever batch size is
#: asked for, so they are gathered up to this many first: a 20,000-row scan of 36 columns encodes in 85 ms instead
#: of 135 ms. Large enough for that, small enough that sending overlaps with the scan and memory stays flat.
BATCH_ROWS = 8_192


def next_batch(batches: Iterator[pa.RecordBatch]) -> pa.RecordBatch | None:
    """The result's next rows, as one batch of at least `BATCH_ROWS` unless the rows end first; None at the end."""
    first = next(batches, None)
    if first is None or first.num_rows >= BATCH_ROWS:
        return first
    gathered, rows = [first], first.num_rows
    while rows < BATCH_ROWS:
        more = next(batches, None)
        if more is None:
            break
        gathered.append(more)
        rows += more.num_rows
    return first if len(gathered) == 1 else pa.concat_batches(gathered)


def encode(kind: bytes, batch: pa.RecordBatch, types: list[PgType], binary: list[bool], header: bool) -> bytes:
    if batch.num_rows == 0:
        return b""
    if not header:
        return bytes(encoding.contiguous(encoding.rows(kind, batch, types, binary)))
    # A binary COPY's header travels in the first row's CopyData, as PostgreSQL sends it.
    first = bytes(encoding.contiguous(encoding.rows(kind, batch.slice(0, 1), types, binary)))
    glued = protocol.message(b"d", encoding.COPY_HEADER + first[5:])
    rest = batch.slice(1)
    return glued + (bytes(encoding.contiguous(encoding.rows(kind, rest, types, binary))) if rest.num_rows else b"")


def answered(answer: Answer) -> Result:
    table = answer.table
    types = list(answer.types) or [TEXT] * table.num_columns
    return Result(table.column_names, types, iter(table.to_batches()), tag=answer.tag)


def placeholder_count(sql: str) -> int:
    numbers = [int(p.name) for s in parse(sql) for p in s.find_all(exp.Placeholder) if str(p.name).isdigit()]
    return max(numbers, default=0)
