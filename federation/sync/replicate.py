"""One table's sync: a full copy, or the records modified since the last run upserted by key with deletions
applied, in one transaction on the target file together with its `_duckfed_sync` row.

Every statement that writes goes to the attached file only (DuckDB lets a transaction write one database; the
staging tables are temporary, which DuckDB allows beside it), and source tables are registered before the
transaction begins, so a failure rolls the table back to what the previous run left, whole.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from federation.connection import Connection
from federation.connector import Connector
from federation.errors import Error
from federation.sync.calls import CallCounter
from federation.sync.history import History, Previous, Run
from federation.table import Deletions, Table, TableInfo

_CHANGED = "_duckfed_sync_changed"
_KEYS = "_duckfed_sync_keys"
_DELETED = "_duckfed_sync_deleted"


@runtime_checkable
class DeletionFeed(Protocol):
    """A table whose API lists deleted records by date (`Deletions.FEED`): Salesforce's getDeleted."""

    def deleted_since(self, since: datetime.datetime) -> Sequence[tuple[object, datetime.datetime]] | None:
        """(key, when deleted) of each record deleted at or after `since` (UTC); None when the feed can't vouch
        for the whole span (it reaches back less far, or was purged): the sync then reads the keys instead."""


@dataclass(frozen=True)
class FeedRead:
    """What a `CursorFeed` read: (key, when deleted) of each record, and the cursor the next read starts from."""

    deleted: Sequence[tuple[object, datetime.datetime]]
    cursor: str


@runtime_checkable
class CursorFeed(Protocol):
    """A table whose API lists deleted records by a counter of its own rather than by date (`Deletions.FEED`):
    Exact's `sync/Deleted`, paged by its Timestamp row version. `_duckfed_sync` keeps the cursor between runs."""

    def deleted_after(self, cursor: str | None, since: datetime.datetime) -> FeedRead | None:
        """The records deleted after `cursor` (from the previous read) or, with none, at or after `since` (UTC),
        and where to read next; None when the feed can't vouch for every deletion since `since` (its log keeps
        less): the sync then reads the keys instead."""


@dataclass(frozen=True)
class Job:
    """A table to sync: source key, connector, canonical table name, and the `--where` condition (DuckDB SQL)."""

    source: str
    connector: Connector
    table: str
    where: str | None = None


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _moment(kind: str, at: datetime.datetime) -> object | None:
    """`at` (UTC) as a value of a modified column of DuckDB type `kind`, or None when the column is no time."""
    if kind == "TIMESTAMP WITH TIME ZONE":
        return at
    if kind.startswith("TIMESTAMP"):
        return at.replace(tzinfo=None)
    if kind == "DATE":
        return at.date()
    return None


def _calls(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


class _Names:
    """How one sync's statements name the source table, its copy in the file, and its key."""

    def __init__(self, catalog: str, job: Job, keys: list[str]) -> None:
        self.job = job
        self.source = f"{quote(job.source)}.{quote(job.table)}"
        self.target = f"{quote(catalog)}.{self.source}"
        self.where = f" WHERE ({job.where})" if job.where else ""
        self.keys = ", ".join(quote(k) for k in keys)
        self.single = len(keys) == 1
        self._keys = keys

    def match(self, other: str) -> str:
        """The condition that a row of the file's table has the key of a row of `other`."""
        return " AND ".join(f"{quote(self.job.table)}.{quote(k)} = {other}.{quote(k)}" for k in self._keys)

    def __str__(self) -> str:
        return f"{self.job.source}.{self.job.table}"


class Replicator:
    """Syncs tables of `con`'s sources into the file attached as `catalog`, reporting each with `say`."""

    def __init__(
        self,
        con: Connection,
        catalog: str,
        history: History,
        *,
        overlap: datetime.timedelta,
        say: Callable[[str], None],
    ) -> None:
        self._con = con
        self._duck = con.duckdb
        self._catalog = catalog
        self._history = history
        self._overlap = overlap
        # A table's report is printed while its progress bar shows: the bar steps aside for it.
        self._say = con.progress.printing(say)

    def _exec(self, sql: str, parameters: Sequence[object] | None = None) -> duckdb.DuckDBPyConnection:
        # DuckDB's own execute, with duckfed's errors: statements on the file must not be routed as source writes.
        result: duckdb.DuckDBPyConnection = self._con.run(self._duck.execute, sql, parameters)
        return result

    def _one(self, sql: str, parameters: Sequence[object] | None = None) -> Any:
        row = self._exec(sql, parameters).fetchone()
        return None if row is None else row[0]

    def run(self, job: Job) -> Run:
        """Sync one table; a failure is rolled back, recorded as a `failed` run and reported, not raised."""
        name = f"{job.source}.{job.table}"
        started = datetime.datetime.now(datetime.UTC)
        counter = CallCounter()
        try:
            with counter.counting(job.connector), self._con.progress.activity(f"sync {name}"):
                return self._replicate(job, started, counter)
        except BaseException as error:
            self._abandon()
            # Ctrl-C too is recorded (and then raised): the history says which tables this run refreshed.
            message = str(error) if isinstance(error, Error | duckdb.Error) else f"interrupted ({type(error).__name__})"
            finished = datetime.datetime.now(datetime.UTC)
            run = Run(
                job.source, job.table, "-", "failed", None, job.where, 0, 0, counter.calls, started, finished, message
            )
            self._history.record(run)
            self._say(f"{name}: FAILED after {_calls(counter.calls)}, left as the previous run synced it: {message}")
            if not isinstance(error, Error | duckdb.Error):
                raise
            return run

    def _abandon(self) -> None:
        with contextlib.suppress(duckdb.TransactionException):  # the failure came before the transaction began
            self._duck.execute("ROLLBACK")

    def _replicate(self, job: Job, started: datetime.datetime, counter: CallCounter) -> Run:
        table = job.connector.table(job.table)
        info = table.info
        # Registering writes DuckDB's in-memory catalog: done before the transaction that writes the file.
        self._con.ensure(job.source, job.table)
        names = _Names(self._catalog, job, [c.name for c in info.key_columns])
        columns = [(str(c[0]), str(c[1])) for c in self._exec(f"DESCRIBE SELECT * FROM {names.source}").fetchall()]
        present = self._exec(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = $1 AND schema_name = $2 AND table_name = $3 ORDER BY column_index",
            [self._catalog, job.source, job.table],
        ).fetchall()
        previous = self._history.previous(job.source, job.table)
        why_full = self._why_full(info, previous, job.where, same=present == columns)
        modified = info.modified_column
        kind = dict(columns)[modified] if modified is not None else ""
        moment = _moment(kind, started)

        self._exec("BEGIN TRANSACTION")
        if why_full is not None:
            self._exec(f"CREATE SCHEMA IF NOT EXISTS {quote(self._catalog)}.{quote(job.source)}")
            self._exec(f"CREATE OR REPLACE TABLE {names.target} AS SELECT * FROM {names.source}{names.where}")
            rows = int(self._one(f"SELECT count(*) FROM {names.target}"))
            mark = None if modified is None else self._mark(names.target, modified, moment, None)
            run = self._finish(job, "full", mark, rows, 0, counter, started, None)
            self._say(f"{names}: full copy ({why_full}): {rows:,} rows, {_calls(counter.calls)}")
            return run

        assert modified is not None and previous is not None
        prior = self._one(f"SELECT CAST($1 AS {kind})", [previous.mark])
        # Re-read a little before the mark: a record stamped just before it may have been committed after it.
        since = prior if moment is None else self._one(f"SELECT CAST($1 - $2 AS {kind})", [prior, self._overlap])
        self._exec(
            f"CREATE OR REPLACE TEMP TABLE {_CHANGED} AS SELECT * FROM {names.source} WHERE {quote(modified)} >= $1"
            + (f" AND ({job.where})" if job.where else ""),
            [since],
        )
        self._exec(f"DELETE FROM {names.target} USING {_CHANGED} WHERE {names.match(_CHANGED)}")
        # A record read twice (the overlap, a page boundary) is kept once: its latest version.
        self._exec(
            f"INSERT INTO {names.target} SELECT * FROM {_CHANGED} "
            f"QUALIFY row_number() OVER (PARTITION BY {names.keys} ORDER BY {quote(modified)} DESC) = 1"
        )
        rows = int(self._one(f"SELECT count(DISTINCT ({names.keys})) FROM {_CHANGED}"))
        mark = self._mark(_CHANGED, modified, moment, prior)
        self._exec(f"DROP TABLE {_CHANGED}")
        fetched = counter.calls
        deleted, how, cursor = self._deletions(names, table, info, previous.started - self._overlap, previous.cursor)
        cost = f"{how}: {_calls(counter.calls - fetched)}" if counter.calls > fetched else how
        run = self._finish(job, "incremental", mark, rows, deleted, counter, started, cursor)
        self._say(
            f"{names}: incremental since {_text(prior)}: {rows:,} changed, {deleted:,} deleted ({cost}), "
            f"{_calls(counter.calls)}"
        )
        return run

    def _why_full(self, info: TableInfo, previous: Previous | None, where: str | None, *, same: bool) -> str | None:
        """Why this run must copy the table whole, or None when it can fetch only the changes."""
        if info.modified_column is None:
            return "no modified column: copied whole each run"
        if not info.key_columns:
            return "no key to upsert by: copied whole each run"
        if previous is None or previous.mark is None:
            return "first run"
        if previous.where != where:
            return "--where changed"
        if not same:
            return "the table's columns changed"
        return None

    def _mark(self, table: str, modified: str, moment: object | None, prior: object | None) -> str | None:
        """The high-water mark after this run: the latest modification read, but no later than when the run
        began (a record changed during a long scan, after its page was read, must be read again next time)."""
        top = self._one(f"SELECT max({quote(modified)}) FROM {table}")
        if top is not None and moment is not None:
            top = min(top, moment)
        if prior is not None and (top is None or prior > top):
            top = prior
        return None if top is None else _text(top)

    def _deletions(
        self, names: _Names, table: Table, info: TableInfo, since: datetime.datetime, cursor: str | None
    ) -> tuple[int, str, str | None]:
        """Delete from the file what the source no longer has (with --where: no longer matches); how many, how
        that was learnt, and the feed's cursor for the next run. A deletion feed is read from `cursor` where it
        keeps one, else from `since`, before which the file holds every deletion."""
        where = names.job.where
        feeds = isinstance(table, (DeletionFeed, CursorFeed))
        listed = info.deletions is Deletions.FEED and feeds and not where and names.single
        feed: Sequence[tuple[object, datetime.datetime]] | None = None
        after: str | None = None
        if listed and isinstance(table, CursorFeed):
            read = table.deleted_after(cursor, since)
            feed, after = (None, None) if read is None else (read.deleted, read.cursor)
        elif listed and isinstance(table, DeletionFeed):
            feed = table.deleted_since(since)
        if feed is not None:
            key, modified = info.key_columns[0], info.modified_column
            # In the modified column's own kind: a TIMESTAMP (UTC, no zone) compared with a TIMESTAMPTZ would be
            # read in the session's time zone.
            kind = info.column(modified).type if modified else None
            naive = kind is not None and pa.types.is_timestamp(kind) and kind.tz is None
            gone = pa.table(
                {
                    key.name: pa.array([k for k, _ in feed], key.type),
                    "deleted_at": pa.array(
                        [at.astimezone(datetime.UTC).replace(tzinfo=None) if naive else at for _, at in feed],
                        pa.timestamp("us", None if naive else "UTC"),
                    ),
                }
            )
            # A record restored after its deletion (Salesforce's undelete) was read again as modified after it.
            restored = (
                f" AND NOT coalesce({quote(names.job.table)}.{quote(modified)} > {_DELETED}.deleted_at, false)"
                if modified
                else ""
            )
            self._duck.register(_DELETED, gone)
            try:
                deleted = int(
                    self._one(f"DELETE FROM {names.target} USING {_DELETED} WHERE {names.match(_DELETED)}{restored}")
                )
            finally:
                self._duck.unregister(_DELETED)
            return deleted, "deletion feed", after
        # A table the API deletes from but that lists no deletions (or not back to `since`) is still checked, by its
        # keys: a record left in the file after the API deleted it would be a silently wrong answer.
        if info.deletions is Deletions.NONE and not info.deletable and not where:
            return 0, "the API deletes no records", None
        self._exec(f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS SELECT {names.keys} FROM {names.source}{names.where}")
        deleted = int(
            self._one(f"DELETE FROM {names.target} WHERE NOT EXISTS (SELECT 1 FROM {_KEYS} WHERE {names.match(_KEYS)})")
        )
        self._exec(f"DROP TABLE {_KEYS}")
        # A key scan leaves no cursor: the next run reads the feed from when this one started.
        if listed:
            return deleted, f"key scan: the deletion feed does not reach back to {_text(since)}", None
        return deleted, "key scan", None

    def _finish(
        self,
        job: Job,
        mode: str,
        mark: str | None,
        rows: int,
        deleted: int,
        counter: CallCounter,
        started: datetime.datetime,
        cursor: str | None,
    ) -> Run:
        finished = datetime.datetime.now(datetime.UTC)
        done = (job.source, job.table, mode, "ok", mark, job.where, rows, deleted, counter.calls, started, finished)
        run = Run(*done, cursor=cursor)
        self._history.record(run)
        self._exec("COMMIT")
        return run
