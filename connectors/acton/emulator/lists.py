"""Contact lists, their records, and messages: `/api/1/list…` and `/api/1/message`, per Act-On's OpenAPI.

- `GET /api/1/list?listingtype=contact_list&offset&count` → `{offset, count, totalCount, result: [...]}`
  (`listingtype` accepted in either case, as older integrations send `CONTACT_LIST`; other listing types exist
  but hold nothing here).
- `POST /api/1/list` (multipart `listname`, `foldername`, `file` = a CSV heading line, `headings=Y`) creates a
  list. The documented reply is `{}`; this emulator answers `{"status", "message", "listId"}` (UNCONFIRMED).
- `GET /api/1/list/{listid}?offset&count&modafter&modbefore&createdafter&createdbefore&fields&datequalifiers`
  → `{listId, offset, count, totalCount, emailColumn, headers, data}`; times are Unix seconds, after/before are
  strict; `datequalifiers=true` appends `created_date` and `modified_date` (epoch ms as text: UNCONFIRMED) and
  excludes `fields`. Records come in insertion order, so a delete shifts every later offset.
- `GET /api/1/list/lookup/{listid}?email=` — the documented reply is `{}`; this emulator answers the download
  shape with every record whose e-mail matches case-insensitively (UNCONFIRMED).
- `GET|PUT|DELETE /api/1/list/{listid}/record/{recordid}`, `POST /api/1/list/{listid}/record` (add),
  `PUT /api/1/list/{listid}/record?email=` (upsert: the first record with that e-mail is updated, else one is
  added), `DELETE /api/1/list/{listid}/record?contactids=a,b` (up to 100). Record bodies are JSON objects of
  column heading → value.
- `GET /api/1/message?type=SENT&count&offset` → `{count, totalCount, offset, msgresult: [...], id: 0}`.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Mapping

import orjson

from federation.emulation.server import Exchange, Json, Reply, json_reply

from .data import EMAIL_HEADER, MESSAGE_TYPES, Account, ContactList, Record
from .wire import ApiError, multipart, success, text, whole

MAX_COUNT = 1000
BAD_LIST = (400, 10004, "Invalid or missing list")
BAD_CONTACT = (400, 10008, "Invalid contact")


def list_summary(found: ContactList) -> dict[str, Json]:
    return {
        "id": found.id,
        "name": found.name,
        "folderName": found.folder,
        "sourceId": found.id,
        "baseId": found.id,
        "description": found.description,
        "sourceSize": str(len(found.records)),
        "sourceName": found.name,
        "tsLastModified": found.modified_ms,
        "tsLastCounted": found.modified_ms,
        "tsSource": found.created_ms,
        "sourceTS": "Sep 1 2024 12:00 AM UTC",
        "bIsSingleton": False,
        "bIsList": True,
        "bIsSforce": False,
        "bIsSforceReport": False,
        "bIsSforceAvailable": True,
        "bIsMSDyn": False,
        "bIsMSDynAvailable": True,
        "bIsSugar": False,
        "bIsSugarAvailable": True,
        "bIsSL": False,
        "bIsSLAvailable": True,
        "bIsNsuite": False,
        "bIsNsuiteAvailable": True,
    }


def _seconds(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return int(raw) * 1000
    except ValueError:
        raise ApiError(400, 10001, f"Invalid value for parameter {name}") from None


class Lists:
    """The list, record and message endpoints over one account."""

    def __init__(self, account: Account, now_ms: Callable[[], int]) -> None:
        self.account = account
        self.now_ms = now_ms

    # -- lists ----------------------------------------------------------------------------------------------

    def listing(self, params: Mapping[str, str]) -> Reply:
        kind = params.get("listingtype", "").lower()
        if not kind:
            raise ApiError(400, 10001, "Missing parameter listingtype")
        offset = whole(params, "offset", 0)
        count = whole(params, "count", MAX_COUNT, most=MAX_COUNT)
        with self.account.lock:
            found = list(self.account.lists.values()) if kind == "contact_list" else []
            page = [list_summary(c) for c in found[offset : offset + count]]
        return json_reply(200, {"offset": offset, "count": len(page), "totalCount": len(found), "result": page})

    def create_list(self, exchange: Exchange) -> Reply:
        parts = multipart(exchange)
        name = (text(parts, "listname") or "").strip()
        if not name:
            raise ApiError(400, 10002, "Missing list name")
        heading = (parts.get("file") or (b"", None))[0].decode("utf-8").splitlines()
        separator = ";" if text(parts, "fieldseparator") == "SEMICOLON" else ","
        headers = next(csv.reader(heading[:1], delimiter=separator), []) if heading else []
        if not headers:
            raise ApiError(400, 10003, "Input file missing")
        with self.account.lock:
            if self.account.list_named(name) is not None:
                raise ApiError(400, 10012, "A list with this name already exists")
            created = self.account.new_list(name, text(parts, "foldername") or "Default Folder", headers, self.now_ms())
        return success("List created", listId=created.id)

    def _list(self, list_id: str) -> ContactList:
        found = self.account.lists.get(list_id)
        if found is None:
            raise ApiError(*BAD_LIST)
        return found

    # -- records --------------------------------------------------------------------------------------------

    def download(self, list_id: str, params: Mapping[str, str]) -> Reply:
        offset = whole(params, "offset", 0)
        count = whole(params, "count", MAX_COUNT, most=MAX_COUNT)
        qualifiers = params.get("datequalifiers", "").lower() == "true"
        if qualifiers and params.get("fields"):
            raise ApiError(400, 10001, "fields and datequalifiers can't be used together")
        bounds = {name: _seconds(params, name) for name in ("modafter", "modbefore", "createdafter", "createdbefore")}
        with self.account.lock:
            found = self._list(list_id)
            if any(bound is not None for bound in bounds.values()):
                rows = [(n, r) for n, r in found.records.items() if _within(r, bounds)]
                total, page = len(rows), rows[offset : offset + count]
            else:  # every record: a page is a slice, not a pass over the list (a scan of 100,000 is 50 pages)
                total, page = len(found.records), list(itertools.islice(found.records.items(), offset, offset + count))
            headers = ["_contact_id_", *found.headers]
            data = [[found.record_id(n), *r.values] for n, r in page]
            if qualifiers:
                headers += ["created_date", "modified_date"]
                for row, (_, record) in zip(data, page, strict=True):
                    row += [str(record.created_ms), str(record.modified_ms)]
            chosen = [f for f in params.get("fields", "").split(";") if f]
            if chosen:
                unknown = [f for f in chosen if f not in headers]
                if unknown:
                    raise ApiError(400, 10010, "Invalid Column Specified")
                picks = [0, *(headers.index(f) for f in chosen)]
                headers = [headers[i] for i in picks]
                data = [[row[i] for i in picks] for row in data]
            email = headers.index(EMAIL_HEADER) if EMAIL_HEADER in headers else -1
        if params.get("responseformat", "").upper() == "CSV":
            out = io.StringIO()
            csv.writer(out).writerows([headers, *data])
            return Reply(200, out.getvalue().encode(), "text/csv;charset=UTF-8")
        body = {"listId": list_id, "offset": offset, "count": len(data), "totalCount": total}
        return json_reply(200, {**body, "emailColumn": email, "headers": headers, "data": data})

    def lookup(self, list_id: str, params: Mapping[str, str]) -> Reply:
        email = params.get("email")
        if not email:
            raise ApiError(400, 10001, "Missing parameter email or cookieid")
        with self.account.lock:
            found = self._list(list_id)
            column = found.email_column - 1
            hits = [[found.record_id(n), *r.values] for n, r in found.records.items() if _same(r, column, email)]
            return json_reply(
                200,
                {
                    "listId": list_id,
                    "offset": 0,
                    "count": len(hits),
                    "totalCount": len(hits),
                    "emailColumn": found.email_column,
                    "headers": ["_contact_id_", *found.headers],
                    "data": hits,
                },
            )

    def record(self, list_id: str, record_id: str) -> Reply:
        with self.account.lock:
            found = self._list(list_id)
            number = self._number(found, record_id)
            return json_reply(200, [record_id, *found.records[number].values])

    def add(self, list_id: str, exchange: Exchange) -> Reply:
        with self.account.lock:
            found = self._list(list_id)
            values = self._values(found, exchange, base=[""] * len(found.headers))
            number = found.add(values, self.now_ms())
        return success("Record inserted", id=found.record_id(number), contact_id=found.record_id(number))

    def upsert(self, list_id: str, exchange: Exchange) -> Reply:
        email = exchange.params.get("email", "")
        if not email:
            raise ApiError(400, 10001, "Missing parameter email")
        with self.account.lock:
            found = self._list(list_id)
            column = found.email_column - 1
            if column < 0:
                raise ApiError(400, 10010, "Invalid Column Specified")
            number = next((n for n, r in found.records.items() if _same(r, column, email)), None)
            if number is None:
                values = self._values(found, exchange, base=[""] * len(found.headers))
                values[column] = email
                number = found.add(values, self.now_ms())
                message = "Record inserted"
            else:
                self._update(found, number, exchange)
                message = "Record updated"
        return success(message, id=found.record_id(number), contact_id=found.record_id(number))

    def update(self, list_id: str, record_id: str, exchange: Exchange) -> Reply:
        with self.account.lock:
            found = self._list(list_id)
            self._update(found, self._number(found, record_id), exchange)
        return success("Record updated")

    def delete(self, list_id: str, record_id: str) -> Reply:
        with self.account.lock:
            found = self._list(list_id)
            del found.records[self._number(found, record_id)]
            found.modified_ms = self.now_ms()
        return success("Record deleted")

    def delete_many(self, list_id: str, params: Mapping[str, str]) -> Reply:
        ids = [i for i in params.get("contactids", "").split(",") if i]
        if not ids or len(ids) > 100:
            raise ApiError(400, 10001, "Specify 1 to 100 contactids")
        failed: list[Json] = []
        with self.account.lock:
            found = self._list(list_id)
            for record_id in ids:
                try:
                    del found.records[self._number(found, record_id)]
                except ApiError:
                    failed.append({"id": record_id, "reason": "Invalid contact id"})
            found.modified_ms = self.now_ms()
        body = {"success_count": len(ids) - len(failed), "fail_count": len(failed), "failedList": failed}
        return json_reply(200, body)

    def _number(self, found: ContactList, record_id: str) -> int:
        prefix, _, number = record_id.partition(":")
        if prefix != found.id or not number.isdigit() or int(number) not in found.records:
            raise ApiError(*BAD_CONTACT)
        return int(number)

    def _values(self, found: ContactList, exchange: Exchange, base: list[str]) -> list[str]:
        try:
            body = orjson.loads(exchange.body)
        except orjson.JSONDecodeError:
            raise ApiError(400, 10001, "The request body is not a JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, 10001, "The request body is not a JSON object")
        values = list(base)
        for name, value in body.items():
            if name not in found.headers:
                # The OpenAPI example sends this code as a string.
                raise _InvalidColumn()
            values[found.headers.index(name)] = "" if value is None else str(value)
        return values

    def _update(self, found: ContactList, number: int, exchange: Exchange) -> None:
        record = found.records[number]
        record.values = self._values(found, exchange, base=record.values)
        record.modified_ms = found.modified_ms = self.now_ms()

    # -- messages -------------------------------------------------------------------------------------------

    def messages(self, params: Mapping[str, str]) -> Reply:
        kind = params.get("type", "").upper()
        if kind not in MESSAGE_TYPES:
            raise ApiError(400, 10030, "Invalid message type")
        offset = whole(params, "offset", 0)
        count = whole(params, "count", MAX_COUNT, most=MAX_COUNT)
        with self.account.lock:
            found = [m for m in self.account.messages if m.type == kind]
        page: list[Json] = [
            {
                "name": m.name,
                "msgId": m.id,
                "msgType": m.type,
                "timeStamp": str(m.sent_ms),
                "timeWhen": "Fri Sep 6 9:50 AM PDT",
                "senderName": m.sender_name,
                "senderId": m.sender_id,
                "isTextOnly": "true" if m.text_only else "false",
                "senderEmail": m.sender_email,
            }
            for m in found[offset : offset + count]
        ]
        return json_reply(
            200, {"count": len(page), "totalCount": len(found), "offset": offset, "msgresult": page, "id": 0}
        )


class _InvalidColumn(ApiError):
    def __init__(self) -> None:
        super().__init__(400, 10010, "Invalid Column Specified")

    def reply(self) -> Reply:
        return json_reply(self.status, {"errorCode": str(self.code), "message": self.message})


def _within(record: Record, bounds: Mapping[str, int | None]) -> bool:
    checks = (
        ("modafter", record.modified_ms, 1),
        ("modbefore", record.modified_ms, -1),
        ("createdafter", record.created_ms, 1),
        ("createdbefore", record.created_ms, -1),
    )
    for name, value, sign in checks:
        bound = bounds[name]
        if bound is not None and not (value - bound) * sign > 0:
            return False
    return True


def _same(record: Record, column: int, email: str) -> bool:
    return column >= 0 and record.values[column].lower() == email.lower()
