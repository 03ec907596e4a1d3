"""`duckfed sync`: replicate source tables into a DuckDB file that the DuckDB 1.5 CLI opens, incrementally.

```
sync(con, "crm.duckdb", ["fin.Account"], {"fin.Account": "Industry = 'Energy'"})
```
writes `fin.Account` as a plain table of the file (storage version v1.5.0, which DuckDB 1.5 reads), with a
`_duckfed_sync` table of high-water marks and run history (`federation.sync.history`). A table whose connector
declares a modified column (`TableInfo.modified_column`) and a key is copied whole once; later runs fetch only the
records modified since the mark (with a small overlap), upsert them by key, and apply deletions from the API's
deletion feed or a key-only scan (`federation.sync.replicate`). A table without one is copied whole every run.
Each table is one transaction on the file: a failure leaves it as the previous run left it, and its failed run is
recorded.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping, Sequence

import duckdb
from sqlglot import condition
from sqlglot.errors import SqlglotError

from federation.connection import STORAGE_VERSION, Connection
from federation.errors import ConfigurationError
from federation.sync.history import TABLE, History, Run
from federation.sync.replicate import CursorFeed, DeletionFeed, FeedRead, Job, Replicator, quote

__all__ = ["TABLE", "CursorFeed", "DeletionFeed", "FeedRead", "Run", "sync"]

#: The name the file is attached under while a sync runs.
CATALOG = "_duckfed_sync_target"
#: How far before the high-water mark a run reads again (clock skew, records committed after others stamped later).
OVERLAP = datetime.timedelta(seconds=60)


def sync(
    con: Connection,
    path: str | os.PathLike[str],
    tables: Sequence[str] = (),
    where: Mapping[str, str] | None = None,
    *,
    overlap: datetime.timedelta = OVERLAP,
    say: Callable[[str], None] = print,
) -> list[Run]:
    """Sync `tables` (`source.table` or an unqualified name one source has; none: every table of every source)
    of `con`'s sources into the DuckDB file at `path`, each with its `where` condition (DuckDB SQL over the
    table's columns, keyed by table name as given). Returns each table's run; failed ones have status `failed`."""
    jobs = plan(con, tables, where or {})
    duck = con.duckdb
    text = os.fspath(path).replace("'", "''")
    try:
        con.run(duck.execute, f"ATTACH '{text}' AS {quote(CATALOG)} (STORAGE_VERSION '{STORAGE_VERSION}')")
    except duckdb.InvalidInputException as error:
        if "cannot be lowered" not in str(error):
            raise
        raise ConfigurationError(
            f"{os.fspath(path)} was written in a newer storage version than {STORAGE_VERSION}, which the DuckDB "
            "1.5 CLI can't read, and a file's version can't be lowered: sync into a new file"
        ) from None
    try:
        replicator = Replicator(con, CATALOG, History(duck, CATALOG), overlap=overlap, say=say)
        return [replicator.run(job) for job in jobs]
    finally:
        # Checkpointed, so the file is whole without a write-ahead log for the reader to replay.
        duck.execute(f"CHECKPOINT {quote(CATALOG)}")
        duck.execute(f"DETACH {quote(CATALOG)}")


def plan(con: Connection, tables: Sequence[str], where: Mapping[str, str]) -> list[Job]:
    """The tables to sync, each resolved to its source and canonical name, with its condition checked."""
    named = list(tables) or [f"{key}.{table}" for key, table in con.tables()]
    conditions: dict[tuple[str, str], str] = {}
    for name, text in where.items():
        key, _, table = con.federation.locate(name)
        conditions[key, table] = _condition(name, text)
    jobs: list[Job] = []
    for name in named:
        key, connector, table = con.federation.locate(name)
        jobs.append(Job(key, connector, table, conditions.pop((key, table), None)))
    if conditions:
        unused = ", ".join(f"{key}.{table}" for key, table in conditions)
        raise ConfigurationError(f"--where names tables that are not synced: {unused}")
    return jobs


def _condition(table: str, text: str) -> str:
    """`text` as one SQL condition, so that it can't end the statement it is put in and start another."""
    try:
        return condition(text, dialect="duckdb").sql(dialect="duckdb")
    except SqlglotError as error:
        raise ConfigurationError(f"--where for {table}: not a SQL condition ({error})") from None
