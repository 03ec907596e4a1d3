"""DuckDB's results with duckfed's errors: `Relation`, a DuckDB relation whose every method goes through the
connection's `run`, and `translated`, which wraps whatever a DuckDB call returns the same way.

A statement over a source table may read its scans long after the call that made it (a lazy relation printed,
an Arrow reader read batch by batch), and DuckDB reports a scan's failure as its own error: each such read must
go through `Connection.run` to raise the connector's typed error (`federation.failures`). This wrapping is the
connection's side of DuckDB's API, apart from the scan sources (`federation.bridge`), which speak DuckDB's source
protocol and never see a relation.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa


class Relation:
    """A DuckDB relation whose methods raise duckfed's errors (see `Connection.run`): a failed scan is the
    connector's typed error whether `fetchall`, `df`, `pl`, `write_parquet` or printing ran it. What it derives
    (`filter`, `join`, `group_by`, …) is wrapped too, and an Arrow reader (`.arrow()`) raises them as it is read.
    `.relation` is DuckDB's own relation."""

    __slots__ = ("_run", "relation")

    def __init__(self, relation: Any, run: Callable[..., Any]) -> None:
        self.relation = relation
        self._run = run

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # copy and pickle probe dunders, before `relation` is even set
        value = self._run(getattr, self.relation, name)
        if not callable(value) or _is_relation(value):
            return self._wrap(value)

        @functools.wraps(value)
        def method(*args: Any, **kwargs: Any) -> Any:
            unwrapped = {k: _unwrap(v) for k, v in kwargs.items()}
            return self._wrap(self._run(value, *map(_unwrap, args), **unwrapped))

        return method

    def _wrap(self, value: Any) -> Any:
        return translated(value, self._run)

    def __str__(self) -> str:
        return str(self._run(str, self.relation))

    def __repr__(self) -> str:
        return str(self._run(repr, self.relation))

    def __len__(self) -> int:
        return int(self._run(len, self.relation))

    def __contains__(self, name: str) -> bool:
        return bool(self._run(operator.contains, self.relation, name))

    def __getitem__(self, name: str) -> Any:
        return self._wrap(self._run(operator.getitem, self.relation, name))

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> Any:
        return self._wrap(self._run(self.relation.to_arrow_reader)).__arrow_c_stream__(requested_schema)


def translated(value: Any, run: Callable[..., Any]) -> Any:
    """A DuckDB call's result with duckfed's errors: a relation as a `Relation`, an Arrow reader as one whose
    reads go through `run`; anything else as it is."""
    if _is_relation(value):
        return Relation(value, run)
    if isinstance(value, pa.RecordBatchReader):
        return pa.RecordBatchReader.from_batches(value.schema, _read_through(value, run))
    return value


def _read_through(reader: pa.RecordBatchReader, run: Callable[..., Any]) -> Iterator[pa.RecordBatch]:
    try:
        while True:
            try:
                batch = run(reader.read_next_batch)
            except StopIteration:
                return
            yield batch
    finally:
        reader.close()


def _is_relation(value: object) -> bool:
    """A DuckDB relation or grouped relation (whose `agg` gives one)."""
    return type(value).__module__ == duckdb.DuckDBPyRelation.__module__


def _unwrap(value: Any) -> Any:
    return value.relation if isinstance(value, Relation) else value
