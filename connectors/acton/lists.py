"""The offset-paged tables: `List_<Name>` (a contact list's records), Lists and Messages.

A contact list's records come from `GET /api/1/list/{listid}` with `datequalifiers=true` (which adds the
`created_date` and `modified_date` columns: Created and Modified) and the time window a predicate on them allows
(`modafter`/`modbefore`/`createdafter`/`createdbefore`, Unix seconds). A scan that reads neither date column
uses the API's direct calls instead: `ContactId` `=`/`IN` one `GET …/record/{id}` each, and the e-mail column
`=`/`IN` one `GET /api/1/list/lookup/{listid}?email=` each (Act-On matches e-mails without regard to case, so
that is a superset). Writes: INSERT upserts by e-mail (`PUT …/record?email=`: sent twice, it updates the record
the first made, so a lost reply is simply re-sent), UPDATE sets a record by id, DELETE removes up to 100 ids a
call. Messages are read per type (`GET /api/1/message?type=`), the types a MsgType predicate allows.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import operator
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from connectors.acton import client
from connectors.acton.base import MAX_LOOKUPS, ActOnTable, reads
from connectors.acton.paging import KeyedRows, Page, offset_pages
from connectors.acton.query import never_holds, path_segment, texts, time_window, value_set
from connectors.acton.types import (
    FILLED,
    FLAG,
    LOOKUP,
    MILLIS,
    TEXT,
    WHOLE,
    WINDOW,
    batch,
    batch_of_lists,
    batch_of_values,
    column,
    text_value,
)
from federation.errors import Error, IntegrityError
from federation.http import HttpClient, Operation
from federation.json_pages import json_document
from federation.paging import account_slots
from federation.predicates import And, Comparison, InList, Operator, Or, Predicate
from federation.table import Aggregate, AggregateCall, AggregateRequest, Column, ScanRequest, TableInfo, WriteResult

EMAIL = "E-mail Address"
#: Columns every record of a download has a value in.
ALWAYS_FILLED = frozenset({"ContactId", "Created", "Modified"})
MESSAGE_TYPES = ("SENT", "DRAFT", "TEMPLATE", "TRIGGERED", "FAILED", "SCHEDULED")
Row = dict[str, object]
#: A list record as the download sends it: its values in the order of `RecordsTable.fields`.
Values = Sequence[object]
R = TypeVar("R")


class PagedTable(ActOnTable):
    def __init__(self, http: HttpClient, info: TableInfo, page_size: int) -> None:
        super().__init__(http, info)
        self.page_size = page_size

    def pages(
        self,
        request: ScanRequest,
        path: str,
        operation: Operation,
        params: Mapping[str, str],
        read: Callable[[bytes], Page[R]],
        key: Callable[[R], Hashable],
        *,
        known_rows: int | None = None,
    ) -> Iterator[Sequence[R]]:
        """The pages of one listing, `key` naming a record; `known_rows` only when the listing is the whole table
        (its `totalCount` is the table's row count)."""

        def fetch(offset: int, count: int) -> Page[R]:
            query = {**params, "offset": str(offset), "count": str(count)}
            page = read(self.raw("GET", path, operation, params=query))
            request.progress.total(page.total, part=frozenset(params.items()))  # totalCount, of each listing
            return page

        first = min(self.page_size, request.limit) if request.limit else self.page_size
        return offset_pages(
            fetch,
            key,
            page_size=self.page_size,
            first_page=first,
            what=self.info.name,
            concurrency=self.info.max_concurrency,
            slots=account_slots(self.http, self.info.max_concurrency),
            limit=request.limit,
            known_rows=known_rows,
        )

    def listings(self, predicate: Predicate | None) -> list[Mapping[str, str]] | None:
        """The query parameters of the listings whose `totalCount`s add up to the rows where `predicate` holds
        exactly, or None when no listing counts them."""
        return None if predicate is not None else [{}]

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        """COUNT(*) from the `totalCount` every page carries (api-protocols.md §3: `{offset, count, totalCount,
        …}`), one call of one record per listing; the API computes no other aggregate."""
        listings = self.listings(request.predicate)
        if request.group_by or request.calls != (AggregateCall(Aggregate.COUNT),) or listings is None:
            return None
        path, operation, params, read = self.counted
        total = sum(
            read(self.raw("GET", path, operation, params={**params, **extra, "offset": "0", "count": "1"})).total
            for extra in listings
        )
        schema = request.schema(self.info)
        return pa.RecordBatchReader.from_batches(schema, [pa.record_batch([pa.array([total], pa.int64())], schema)])

    #: What `aggregate` pages: the path, operation, base parameters and page reader of a plain scan.
    counted: tuple[str, Operation, Mapping[str, str], Callable[[bytes], Page[Any]]]

    def key(self, row: Row) -> Hashable:
        """A listing row's key (a record the API sends as a JSON object)."""
        value = row[self.info.key_columns[0].api_name]
        return value if isinstance(value, str | int) else repr(value)

    def reader(self, request: ScanRequest, pages: Iterator[Sequence[Row]]) -> pa.RecordBatchReader:
        wanted = self.wanted(request)
        return pa.RecordBatchReader.from_batches(self.schema(wanted), (batch(rows, wanted) for rows in pages))


# -- List_<Name> ------------------------------------------------------------------------------------------------


def record_columns(headers: Sequence[str]) -> tuple[Column, ...]:
    """The columns of a list with these headings (the download's `headers` without `_contact_id_`)."""
    fields = [
        column(
            name,
            TEXT,
            pushdown=LOOKUP if name == EMAIL else frozenset(),
            insertable=True,
            updatable=True,
            required=name == EMAIL,
            description="The contact's e-mail: INSERT upserts by it." if name == EMAIL else "",
        )
        for name in headers
    ]
    return (
        column(
            "ContactId", TEXT, "_contact_id_", nullable=False, primary_key=True, pushdown=LOOKUP | FILLED, exact=True
        ),
        *fields,
        column("Created", MILLIS, "created_date", nullable=False, pushdown=WINDOW),
        column("Modified", MILLIS, "modified_date", nullable=False, pushdown=WINDOW),
    )


class RecordsTable(PagedTable):
    """One contact list's records, kept as the value lists the API sends (no object per record): a page decodes
    column by column."""

    def __init__(self, http: HttpClient, info: TableInfo, page_size: int, list_id: str, headers: Sequence[str]) -> None:
        super().__init__(http, info, page_size)
        self.list_id = list_id
        self.headers = list(headers)
        self.path = f"/api/1/list/{path_segment(list_id)}"
        #: The order of a record's values: the download's own with `datequalifiers=true` (a record read by id
        #: has the first len(headers) + 1 of them).
        self.fields = ["_contact_id_", *self.headers, "created_date", "modified_date"]
        self.counted = (self.path, client.DOWNLOAD, {"datequalifiers": "true"}, self._records)

    def _records(self, content: bytes, wanted: Sequence[Column] = ()) -> Page[Values]:
        """A download page: read by Arrow's JSON reader (no GIL, no Python object per value) into `ValueLists`
        when it is all text in our column order, with the batch of the `wanted` columns made here too (on the
        thread that fetched the page: the scan's own thread only hands batches on); else parsed and put in our
        order here."""
        arrow = _download_page(content, self.fields, wanted)
        if arrow is not None:
            return arrow
        body = orjson.loads(content)
        headers = body.get("headers", [])
        data: list[Values] = body.get("data", [])
        if headers != self.fields[: len(headers)]:
            # Columns in another order (the list changed since it was described): put them in ours.
            where = {name: i for i, name in enumerate(headers)}
            picks = [where.get(name) for name in self.fields]
            data = [[row[i] if i is not None and i < len(row) else None for i in picks] for row in data]
        return Page(data, int(body["totalCount"]))

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        wanted = self.wanted(request)
        batches = (self._batch(rows, wanted) for rows in self._pages(request))
        return pa.RecordBatchReader.from_batches(self.schema(wanted), batches)

    def _batch(self, rows: Sequence[Values], wanted: Sequence[Column]) -> pa.RecordBatch:
        found = rows.batch if isinstance(rows, ValueLists) else None
        return found if found is not None else batch_of_values(list(rows), self.fields, wanted)

    def _pages(self, request: ScanRequest) -> Iterator[Sequence[Values]]:
        predicate = request.predicate
        if never_holds(predicate, ALWAYS_FILLED):
            return iter([[]])
        direct = not reads(request) & {"Created", "Modified"}
        ids = texts(value_set(predicate, "ContactId"))
        emails = texts(value_set(predicate, EMAIL)) if EMAIL in self.headers else None
        if direct and ids is not None and len(ids) <= MAX_LOOKUPS:
            return iter([self._by_id(ids)])
        if direct and emails is not None and len(emails) <= MAX_LOOKUPS:
            return iter([self._by_email(emails)])
        params = {"datequalifiers": "true"}
        params |= time_window(predicate, "Modified").params("modafter", "modbefore")
        params |= time_window(predicate, "Created").params("createdafter", "createdbefore")
        return self.pages(
            request,
            self.path,
            client.DOWNLOAD,
            params,
            functools.partial(self._records, wanted=self.wanted(request)),
            _record_key,
            known_rows=request.known_rows,
        )

    def _by_id(self, ids: Sequence[str]) -> list[Values]:
        found = []
        for record_id in ids:
            try:
                values = self.call("GET", f"{self.path}/record/{path_segment(record_id)}", client.GET_RECORD)
            except Error as error:
                if client.is_not_found(error):
                    continue
                raise
            found.append(values)
        return found

    def _by_email(self, emails: Sequence[str]) -> list[Values]:
        seen: dict[Hashable, Values] = {}
        lookup = f"/api/1/list/lookup/{path_segment(self.list_id)}"
        for email in emails:
            if email:
                for row in self._records(self.raw("GET", lookup, client.LOOKUP, params={"email": email})).rows:
                    seen.setdefault(_record_key(row), row)
        return list(seen.values())

    def _body(self, row: Mapping[str, object]) -> bytes:
        fields = {self.info.column(name).api_name: text_value(value) for name, value in row.items()}
        return orjson.dumps(fields)

    def insert(self, rows: pa.Table) -> WriteResult:
        keys: list[object] = []
        for position, row in enumerate(rows.to_pylist()):
            email = row.get(EMAIL)
            if not email:
                raise IntegrityError(f"row {position + 1}: INSERT into {self.info.name} upserts by {EMAIL!r}: give one")
            try:
                body = self.call(
                    "PUT",
                    f"{self.path}/record",
                    client.UPSERT,
                    params={"email": str(email)},
                    content=self._body(row),
                    headers={"Content-Type": "application/json"},
                )
                key = body.get("id") or body.get("contact_id") or self._key_of(str(email))
            except Error as error:
                raise self.failed("INSERT", position, rows.num_rows, keys, error) from None
            keys.append(key)
        return WriteResult(len(keys), tuple(keys))

    def _key_of(self, email: str) -> object:
        """The id of the record an upsert wrote, for a reply that does not name it (the documented `{}`)."""
        found = self._by_email([email])
        return found[0][0] if found else None

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        rows = values.to_pylist()

        def send(position: int, key: object) -> bool:
            path = f"{self.path}/record/{path_segment(str(key))}"
            headers = {"Content-Type": "application/json"}
            self.call("PUT", path, client.UPDATE_RECORD, content=self._body(rows[position]), headers=headers)
            return True

        return self.each_key("UPDATE", keys, send)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        deleted: list[object] = []
        for start in range(0, len(keys), 100):
            chunk = [str(k) for k in keys[start : start + 100]]
            try:
                body = self.call(
                    "DELETE", f"{self.path}/record", client.DELETE_RECORDS, params={"contactids": ",".join(chunk)}
                )
            except Error as error:
                raise self.failed("DELETE", start, len(keys), deleted, error) from None
            # Ids Act-On did not delete were not there (any more): "Invalid contact id".
            missing = {str(f.get("id")) for f in body.get("failedList", ())}
            deleted.extend(k for k in chunk if k not in missing)
        return WriteResult(len(deleted), tuple(deleted))


# -- Lists ------------------------------------------------------------------------------------------------------

LIST_COLUMNS = (
    column("Id", TEXT, "id", nullable=False, primary_key=True),
    column("Name", TEXT, "name", insertable=True, required=True),
    column("FolderName", TEXT, "folderName", insertable=True),
    column("Description", TEXT, "description"),
    column("SourceSize", WHOLE, "sourceSize"),
    column("SourceName", TEXT, "sourceName"),
    column("LastModified", MILLIS, "tsLastModified"),
    column("LastCounted", MILLIS, "tsLastCounted"),
    column("SourceTime", MILLIS, "tsSource"),
    column(
        "Headers",
        TEXT,
        "headers",
        insertable=True,
        description="INSERT only: the new list's columns, separated by semicolons (default: First Name; "
        "Last Name; E-mail Address); NULL when read.",
    ),
)
DEFAULT_HEADERS = ("First Name", "Last Name", EMAIL)


#: A record's key: its `_contact_id_`, the first of its values (a string), read without a Python call per record.
_record_key: Callable[[Values], Hashable] = operator.itemgetter(0)


class ValueLists(KeyedRows[Values]):
    """A download page's records as Arrow's `list<string>` array, keyed by their `_contact_id_`s (read by one
    kernel), with the scan's batch of them when it could be made (`batch_of_lists`). A record taken out one at a
    time is its Python list of values, as a parsed page has it."""

    def __init__(self, values: pa.ListArray, keys: Sequence[Hashable], batch: pa.RecordBatch | None) -> None:
        self.values = values
        self.keys = keys
        self.batch = batch

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> Values: ...
    @overload
    def __getitem__(self, index: slice) -> ValueLists: ...
    def __getitem__(self, index: int | slice) -> Values | ValueLists:
        if isinstance(index, slice):
            batch = None if self.batch is None else self.batch[index]
            return ValueLists(self.values[index], self.keys[index], batch)
        values: Values = self.values[index].as_py()
        return values


#: A download page as Arrow's JSON reader takes it: the records' values as text (a number or a flag among them
#: fails the read, and the page is parsed value by value instead).
_DOWNLOAD = pa.schema(
    [
        pa.field("totalCount", pa.int64()),
        pa.field("headers", pa.list_(TEXT)),
        pa.field("data", pa.list_(pa.list_(TEXT))),
    ]
)


def _download_page(content: bytes, fields: Sequence[str], wanted: Sequence[Column]) -> Page[Values] | None:
    """A download page read by Arrow's JSON reader, with the batch of its `wanted` columns, or None when it can't
    be (not all text, or columns in another order than `fields`: the list changed since it was described)."""
    try:
        table = json_document(content, _DOWNLOAD)
    except pa.ArrowInvalid:
        return None
    if table.num_rows != 1 or table.column("totalCount").null_count:
        return None
    headers = table.column("headers")[0].as_py() or []
    if headers != list(fields[: len(headers)]):
        return None
    values = table.column("data").combine_chunks().flatten()
    if values.null_count or (len(values) and pc.min(pc.list_value_length(values)).as_py() < 1):
        return None  # a record that is NULL or has no values: the parsed page says what is wrong
    keys = pc.list_element(values, 0).to_pylist() if len(values) else []
    try:
        batch = batch_of_lists(values, fields, wanted)
    except (ValueError, pa.ArrowException):
        batch = None  # a value the converters refuse: the scan converts this page value by value, naming it
    return Page(ValueLists(values, keys, batch), table.column("totalCount")[0].as_py())


def _listing(content: bytes) -> Page[Row]:
    body = orjson.loads(content)
    return Page(list(body.get("result", [])), int(body["totalCount"]))


class ListsTable(PagedTable):
    """The account's contact lists; INSERT creates one (and a new `List_<Name>` table appears)."""

    def __init__(self, http: HttpClient, info: TableInfo, page_size: int, changed: Callable[[], None]) -> None:
        super().__init__(http, info, page_size)
        self._changed = changed
        self.counted = ("/api/1/list", client.LIST_LISTS, {"listingtype": "contact_list"}, _listing)

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        params = {"listingtype": "contact_list"}
        return self.reader(request, self.pages(request, "/api/1/list", client.LIST_LISTS, params, _listing, self.key))

    def insert(self, rows: pa.Table) -> WriteResult:
        keys: list[object] = []
        try:
            for position, row in enumerate(rows.to_pylist()):
                headers = [h.strip() for h in str(row.get("Headers") or "").split(";") if h.strip()]
                heading = io.StringIO()
                csv.writer(heading).writerow(headers or DEFAULT_HEADERS)
                form = {
                    "listname": (None, str(row["Name"])),
                    "foldername": (None, str(row.get("FolderName") or "Default Folder")),
                    "headings": (None, "Y"),
                    "fieldseparator": (None, "COMMA"),
                    "quotecharacter": (None, "DOUBLE_QUOTE"),
                    "file": ("list.csv", heading.getvalue().encode(), "text/csv"),
                }
                try:
                    body = self.call("POST", "/api/1/list", client.CREATE_LIST, files=form)
                except Error as error:
                    raise self.failed("INSERT", position, rows.num_rows, keys, error) from None
                keys.append(body.get("listId"))
        finally:
            if keys:
                self._changed()
        return WriteResult(len(keys), tuple(keys))


# -- Messages ---------------------------------------------------------------------------------------------------

MESSAGE_COLUMNS = (
    column("Id", TEXT, "msgId", nullable=False, primary_key=True),
    column("Name", TEXT, "name"),
    # The API's `type` parameter selects exactly the messages of one type (OpenAPI: GET /api/1/message).
    column("MsgType", TEXT, "msgType", pushdown=LOOKUP, exact=True),
    column("TimeStamp", MILLIS, "timeStamp"),
    column("TimeWhen", TEXT, "timeWhen"),
    column("SenderName", TEXT, "senderName"),
    column("SenderId", TEXT, "senderId"),
    column("SenderEmail", TEXT, "senderEmail"),
    column("IsTextOnly", FLAG, "isTextOnly"),
)


def _types_only(predicate: Predicate) -> bool:
    """Whether the predicate is made of `MsgType =`/`IN` tests alone (so `value_set` is exactly its rows)."""
    match predicate:
        case And(operands=parts) | Or(operands=parts):
            return all(_types_only(p) for p in parts)
        case Comparison(column="MsgType", op=Operator.EQ) | InList(column="MsgType", negated=False):
            return True
    return False


def _messages(content: bytes) -> Page[Row]:
    body = orjson.loads(content)
    return Page(list(body.get("msgresult", [])), int(body["totalCount"]))


class MessagesTable(PagedTable):
    counted = ("/api/1/message", client.LIST_MESSAGES, {}, _messages)

    def listings(self, predicate: Predicate | None) -> list[Mapping[str, str]] | None:
        # One listing per message type the predicate allows: `type` selects exactly one type's messages.
        allowed = value_set(predicate, "MsgType")
        if predicate is not None and (allowed is None or not _types_only(predicate)):
            return None
        return [{"type": t} for t in MESSAGE_TYPES if allowed is None or t in allowed]

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        allowed = value_set(request.predicate, "MsgType")
        kinds = [t for t in MESSAGE_TYPES if allowed is None or t in allowed]
        pages = (
            self.pages(request, "/api/1/message", client.LIST_MESSAGES, {"type": kind}, _messages, self.key)
            for kind in kinds
        )
        return self.reader(request, itertools.chain.from_iterable(pages))
