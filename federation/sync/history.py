"""The `_duckfed_sync` table of a synced file: one row per table per run, the high-water marks and the run history.

A run's row for a table is written in the same transaction as the table's data, so the mark a later run starts
from always describes the data the file holds; a failed table gets a `failed` row after its rollback, with the
error, and keeps its previous mark. A table whose deletion feed pages by a counter of its own (Exact Online's
`sync/Deleted` Timestamp) keeps where the feed stopped in `feed_cursor`; files written before that column existed
get it when next synced (empty for their old runs).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import duckdb

TABLE = "_duckfed_sync"

_COLUMNS = """
    source VARCHAR NOT NULL,
    "table" VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    high_water_mark VARCHAR,
    "where" VARCHAR,
    "rows" BIGINT,
    deleted BIGINT,
    calls BIGINT,
    started TIMESTAMPTZ NOT NULL,
    finished TIMESTAMPTZ NOT NULL,
    error VARCHAR,
    feed_cursor VARCHAR
"""


@dataclass(frozen=True)
class Previous:
    """What the last successful run of a table left: its high-water mark (text; None when it had none), the
    `--where` condition it synced with (None: every record), and when it started (a deletion feed is read from
    then: the file holds every deletion before it)."""

    mark: str | None
    where: str | None
    started: datetime.datetime
    #: Where the table's deletion feed stopped reading (`CursorFeed`); None: it has no such cursor yet.
    cursor: str | None = None


@dataclass(frozen=True)
class Run:
    """One table's run, as `_duckfed_sync` records it."""

    source: str
    table: str
    mode: str
    status: str
    mark: str | None
    where: str | None
    rows: int
    deleted: int
    calls: int
    started: datetime.datetime
    finished: datetime.datetime
    error: str | None = None
    cursor: str | None = None


class History:
    """`_duckfed_sync` in the attached file `catalog`, through `duck` (DuckDB's own connection)."""

    def __init__(self, duck: duckdb.DuckDBPyConnection, catalog: str) -> None:
        self._duck = duck
        self._name = f'"{catalog}".main.{TABLE}'
        duck.execute(f"CREATE TABLE IF NOT EXISTS {self._name} ({_COLUMNS})")
        # Files synced before the feed cursor existed.
        duck.execute(f"ALTER TABLE {self._name} ADD COLUMN IF NOT EXISTS feed_cursor VARCHAR")

    def previous(self, source: str, table: str) -> Previous | None:
        """The last successful run of `source.table`, or None when it was never synced."""
        row = self._duck.execute(
            f'SELECT high_water_mark, "where", started, feed_cursor FROM {self._name} '
            "WHERE source = $1 AND \"table\" = $2 AND status = 'ok' ORDER BY finished DESC LIMIT 1",
            [source, table],
        ).fetchone()
        return None if row is None else Previous(row[0], row[1], row[2], row[3])

    def record(self, run: Run) -> None:
        self._duck.execute(
            f'INSERT INTO {self._name} (source, "table", mode, status, high_water_mark, "where", "rows", deleted, '
            "calls, started, finished, error, feed_cursor) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            [
                run.source,
                run.table,
                run.mode,
                run.status,
                run.mark,
                run.where,
                run.rows,
                run.deleted,
                run.calls,
                run.started,
                run.finished,
                run.error,
                run.cursor,
            ],
        )
