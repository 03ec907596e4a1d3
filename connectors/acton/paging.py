"""Offset paging that notices when the records shift under it, and re-reads instead of skipping or repeating.

Act-On pages lists, records and messages by `offset`/`count` (at most 1,000) with a `totalCount`; there is no
cursor and no stable sort key to page by. A record deleted before the current offset moves every later record
back by one (the next page would skip one), and one inserted before it moves them forward (a repeat). So every
page after the first starts one record early: the record at `offset - 1` must be the last one the previous page
ended with, and `totalCount` must be unchanged. If either moved, the scan starts again from offset 0, handing
out only records it has not handed out yet; after `MAX_RESTARTS` restarts it fails clearly rather than return a
skewed result. A record that exists throughout the scan therefore appears exactly once.

The first page's `totalCount` says which pages follow, so they are fetched in parallel (`federation.paging.
parallel`: the same requests a page-after-page scan makes, several at once, each under the account's rate
limiter) and checked in order as above; a page that finds the records moved ends the parallel part, and the
restart goes on one page after the other. With a LIMIT only the pages up to it are asked for.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Generator, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from federation.errors import OperationalError
from federation.paging import chained, parallel

Row = TypeVar("Row")

#: Records per request at most (the API's documented maximum).
MAX_COUNT = 1000
MAX_RESTARTS = 3


@dataclass(frozen=True)
class Page(Generic[Row]):
    """What one request returned: its rows and the API's `totalCount`."""

    rows: Sequence[Row]
    total: int


class KeyedRows(Sequence[Row]):
    """Rows whose keys were read with the page (by column, not by a call per row): the pager takes `keys` instead of
    asking each row for its key, and hands a page on as it is. A slice is keyed rows too."""

    keys: Sequence[Hashable]


def _keys(rows: Sequence[Row], key: Callable[[Row], Hashable]) -> Sequence[Hashable]:
    return rows.keys if isinstance(rows, KeyedRows) else list(map(key, rows))


def _key_at(rows: Sequence[Row], index: int, key: Callable[[Row], Hashable]) -> Hashable:
    return rows.keys[index] if isinstance(rows, KeyedRows) else key(rows[index])


@dataclass(frozen=True)
class _Step(Generic[Row]):
    fresh: Sequence[Row]
    #: Position of the next record not read yet, the key of the last record read, the total seen, restarts.
    offset: int
    last: Hashable | None
    total: int
    restarts: int


class ShiftedError(OperationalError):
    """The records kept moving while they were paged: the scan gave up instead of returning a skewed result."""


def offset_pages(
    fetch: Callable[[int, int], Page[Row]],
    key: Callable[[Row], Hashable],
    *,
    page_size: int,
    first_page: int,
    what: str,
    concurrency: int = 1,
    slots: threading.Semaphore | None = None,
    limit: int | None = None,
    known_rows: int | None = None,
) -> Iterator[Sequence[Row]]:
    """Pages of rows, each record once; `fetch(offset, count)` reads one page, `key` names a record. Pages after
    the first are fetched `concurrency` at a time (under `slots`), only as far as `limit` rows when it is given.

    `known_rows` (a full scan's row count from the last one, `ScanRequest.known_rows`) lets the first page go out
    together with the pages after it: the very requests the first page's `totalCount` would have asked for when
    the count still holds. When it no longer does, the pages past the true end are dropped (calls spent on a
    table that shrank) and pages beyond the guess are read one after the other."""
    count = min(page_size + 1, MAX_COUNT)

    def begin(page: Page[Row], restarts: int) -> _Step[Row]:
        rows = page.rows
        return _Step(rows, len(rows), _key_at(rows, -1, key) if rows else None, page.total, restarts)

    def start(restarts: int) -> _Step[Row]:
        if restarts > MAX_RESTARTS:
            raise ShiftedError(
                f"the records of {what} kept changing while they were read ({MAX_RESTARTS} restarts); "
                "try again when they are stable, or narrow the query"
            )
        return begin(fetch(0, first_page if restarts == 0 else page_size), restarts)

    def after(step: _Step[Row], page: Page[Row]) -> _Step[Row]:
        """The step a page read at `step.offset - 1` makes, or a restart when the records moved."""
        rows = page.rows
        if not rows or _key_at(rows, 0, key) != step.last or page.total != step.total:
            return start(step.restarts + 1)
        fresh = rows[1:]
        last = _key_at(fresh, -1, key) if fresh else step.last
        return _Step(fresh, step.offset + len(fresh), last, step.total, step.restarts)

    def following(step: _Step[Row]) -> _Step[Row] | None:
        if not step.fresh or step.offset >= step.total or (limit is not None and step.offset >= limit):
            return None
        return after(step, fetch(step.offset - 1, count))

    #: The keys handed out, a page's at a time; as one set (`emitted`) only once the records moved: until a
    #: restart every page starts after the record the last one ended with, so none repeats.
    handed_keys: list[Sequence[Hashable]] = []
    emitted: set[Hashable] = set()
    any_key = False

    def handed(step: _Step[Row]) -> Sequence[Row] | None:
        nonlocal any_key
        keys = _keys(step.fresh, key)
        any_key = any_key or bool(keys)
        out: Sequence[Row] = step.fresh
        if not step.restarts:
            handed_keys.append(keys)
            return out if out or not any_key else None
        # After a restart the pages repeat what was handed out already: only the rest goes on.
        for earlier in handed_keys:
            emitted.update(earlier)
        handed_keys.clear()
        if not emitted.isdisjoint(keys):
            out = [row for row, k in zip(step.fresh, keys, strict=True) if k not in emitted]
        emitted.update(keys)
        return out if out or not any_key else None

    def later(offsets: Sequence[int], *, with_first: bool = False) -> Generator[Page[Row], None, None]:
        """The pages at `offsets` (each read from one record early), after the first page when `with_first`."""
        requests = [(0, first_page)] * with_first + [(offset - 1, count) for offset in offsets]
        return parallel(lambda r: fetch(*r), requests, concurrency=concurrency, slots=slots)

    guessed: list[int] = []
    if concurrency > 1 and limit is None and known_rows is not None and known_rows > first_page:
        guessed = list(range(first_page, known_rows, count - 1))
        pages = later(guessed, with_first=True)
        step = begin(next(pages), 0)
    else:
        step = start(0)
    first = handed(step)
    if first is not None:
        yield first
    end = step.total if limit is None else min(step.total, limit)
    offsets = list(range(step.offset, end, count - 1)) if concurrency > 1 and step.fresh else []
    if guessed and offsets[: len(guessed)] != guessed[: len(offsets)]:
        pages.close()  # the first page was short: the table changed since its count was kept
        guessed = []
    if guessed or len(offsets) > 1:
        if not guessed:
            pages = later(offsets)
        try:
            for page in itertools.islice(pages, len(offsets)):
                step = after(step, page)
                out = handed(step)
                if out is not None:
                    yield out
                if step.restarts:
                    break  # the records moved: the restart goes on one page after the other
        finally:
            pages.close()
    for out in chained(lambda: following(step), following, handed):
        if out is not None:
            yield out
