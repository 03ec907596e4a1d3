"""INSERT, UPDATE and DELETE through the generic `create`, `update` and `delete` functions (api-protocols.md
§1.8): up to 100 functions per request, one record per function so that each row gets its own result — a new
RECORDNO, or the API's errorno and text for that row alone.

Creates are the one call that must not happen twice. Each create request carries a fresh `controlid` with
`uniqueid=true`, which makes the gateway refuse a second request under the same controlid. When a create's
answer is lost (a 5xx or a dropped connection), the very same request is sent again: if the gateway carries it
out, the first never had; if it refuses the repeated controlid, the first was carried out, and the records it
created are found by their ID field (CUSTOMERID, …), which the rows give. Rows that can't be found that way are
reported as unknown rather than risk a duplicate.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

import pyarrow as pa

from connectors.sageintacct import client
from connectors.sageintacct.client import Sender, errors_of, function, results
from connectors.sageintacct.query import query
from federation.errors import Error, RecordFailure, TransientError, WriteError
from federation.http import HttpClient, Operation
from federation.table import TableInfo, WriteResult

#: Functions per request (the gateway runs each on its own with `transaction="false"`).
BATCH = 100
#: Required fields with an obvious value, filled when a row leaves them out: the print-as name is the name.
FILLED = {"DISPLAYCONTACT.PRINTAS": "NAME", "PRINTAS": "CONTACTNAME"}
#: The gateway refused a repeated controlid: the request it repeats was carried out (UNCONFIRMED number).
REPEATED_CONTROL = "XL03000003"
RESEND = Operation("create (re-sent under the same controlid)", idempotent=False)
_NOT_FOUND = ("DL02000001",)


def text(value: object) -> str:
    """A value from an Arrow row as the gateway takes it (§1.10): dates `MM/DD/YYYY`, booleans true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        return value.strftime("%m/%d/%Y %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.strftime("%m/%d/%Y")
    return str(value)


def object_xml(obj: str, values: dict[str, str]) -> str:
    """`<CUSTOMER>…</CUSTOMER>` with dotted fields nested (`DISPLAYCONTACT.PRINTAS` → `<DISPLAYCONTACT><PRINTAS>`)."""
    tree: dict[str, Any] = {}
    for name, value in values.items():
        *parents, leaf = name.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value

    def xml(node: dict[str, Any]) -> str:
        return "".join(f"<{k}>{xml(v) if isinstance(v, dict) else escape(v)}</{k}>" for k, v in node.items())

    return f"<{obj}>{xml(tree)}</{obj}>"


class ObjectWriter:
    def __init__(self, http: HttpClient, sender: Sender, obj: str, info: TableInfo) -> None:
        self.http = http
        self.sender = sender
        self.obj = obj
        self.info = info
        fields = {c.api_name for c in info.columns}
        self.fills = {k: v for k, v in FILLED.items() if k in fields and v in fields}
        self.id_field = next((f for f in (f"{obj}ID", "CONTACTNAME") if f in fields), None)

    def _post(self, functions: list[str], operation: Operation, **control: Any) -> list[ElementTree.Element]:
        body = self.sender.request(functions, **control)
        response = self.http.request(
            "POST", "/", operation=operation, content=body, headers={"Content-Type": "application/xml"}
        )
        return results(response)

    # -- INSERT ---------------------------------------------------------------------------------------------

    def _values(self, row: dict[str, object]) -> dict[str, str]:
        values = {self.info.column(k).api_name: text(v) for k, v in row.items() if v is not None}
        for target, source in self.fills.items():
            if target not in values and source in values:
                values[target] = values[source]
        return values

    def insert(self, rows: pa.Table) -> WriteResult:
        records = [self._values(row) for row in rows.to_pylist()]
        keys: list[object] = []
        failures: list[RecordFailure] = []
        for start in range(0, len(records), BATCH):
            chunk = records[start : start + BATCH]
            functions = [
                function(f"<create>{object_xml(self.obj, r)}</create>", f"row{start + i}") for i, r in enumerate(chunk)
            ]
            try:
                outcomes = self._create(functions, chunk)
            except Error as error:
                raise self._stopped("INSERT", start, len(records), keys, failures, error) from None
            for offset, outcome in enumerate(outcomes):
                if isinstance(outcome, RecordFailure):
                    failures.append(RecordFailure(start + offset, outcome.code, outcome.message))
                else:
                    keys.append(outcome)
        return self._finished("INSERT", keys, failures)

    def _create(self, functions: list[str], chunk: list[dict[str, str]]) -> list[int | RecordFailure]:
        control = str(uuid.uuid4())
        try:
            found = self._post(functions, client.CREATE, unique=True, control_id=control)
        except TransientError:
            try:
                found = self._post(functions, RESEND, unique=True, control_id=control)
            except Error as again:
                if again.api_code != REPEATED_CONTROL:
                    raise _unknown(len(chunk), again) from None
                return self._recover(chunk)
        return [self._outcome(result, i) for i, result in enumerate(found)]

    def _outcome(self, result: ElementTree.Element, position: int) -> int | RecordFailure:
        if result.findtext("status") == "success":
            return int(result.findtext(f"data/{self.obj.lower()}/RECORDNO") or 0)
        errors = errors_of(result)
        code = errors[0].errorno if errors else "failure"
        return RecordFailure(position, code, "; ".join(dict.fromkeys(e.message for e in errors)) or "refused")

    def _recover(self, chunk: list[dict[str, str]]) -> list[int | RecordFailure]:
        """After a lost create that the gateway did carry out: the RECORDNO of each row's record, by its ID."""
        if self.id_field is None or any(self.id_field not in r for r in chunk):
            raise _unknown(len(chunk), None)
        wanted = [r[self.id_field] for r in chunk]
        where = (
            "<in><field>"
            + escape(self.id_field)
            + "</field>"
            + "".join(f"<value>{escape(v)}</value>" for v in wanted)
            + "</in>"
        )
        body = query(self.obj, ["RECORDNO", self.id_field], where, page_size=len(wanted) + 1)
        (result,) = self._post([function(body)], client.QUERY)
        data = result.find("data")
        found = {
            row.findtext(self.id_field): int(row.findtext("RECORDNO") or 0)
            for row in (data if data is not None else [])
        }
        return [
            found.get(v) or RecordFailure(i, "not created", "the gateway carried out the request but refused this row")
            for i, v in enumerate(wanted)
        ]

    # -- UPDATE and DELETE ----------------------------------------------------------------------------------

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        functions = []
        for position, (key, row) in enumerate(zip(keys, values.to_pylist(), strict=True)):
            fields = {"RECORDNO": text(key), **{self.info.column(k).api_name: text(v) for k, v in row.items()}}
            functions.append(function(f"<update>{object_xml(self.obj, fields)}</update>", f"row{position}"))
        return self._by_key("UPDATE", keys, functions, client.UPDATE)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        functions = [
            function(f"<delete><object>{self.obj}</object><keys>{escape(text(k))}</keys></delete>", f"row{i}")
            for i, k in enumerate(keys)
        ]
        return self._by_key("DELETE", keys, functions, client.DELETE)

    def _by_key(self, kind: str, keys: Sequence[object], functions: list[str], operation: Operation) -> WriteResult:
        changed: list[object] = []
        failures: list[RecordFailure] = []
        for start in range(0, len(functions), BATCH):
            try:
                found = self._post(functions[start : start + BATCH], operation)
            except Error as error:
                raise self._stopped(kind, start, len(keys), changed, failures, error) from None
            for offset, result in enumerate(found):
                outcome = self._outcome(result, start + offset)
                if not isinstance(outcome, RecordFailure):
                    changed.append(keys[start + offset])
                elif outcome.code not in _NOT_FOUND:  # gone since the keys were read: nothing changed
                    failures.append(outcome)
        return self._finished(kind, changed, failures)

    def _finished(self, kind: str, done: list[object], failures: list[RecordFailure]) -> WriteResult:
        """The statement's result, or the error listing the rows the API refused (the others were written)."""
        if failures:
            raise WriteError(
                f"{kind} {self.info.name}: {len(done)} written, {len(failures)} refused",
                written=len(done),
                failures=failures,
                keys=done,
                source=self.http.source,
                operation=f"{kind} {self.info.name}",
            )
        return WriteResult(len(done), tuple(done))

    def _stopped(
        self, kind: str, start: int, total: int, done: list[object], failures: list[RecordFailure], error: Error
    ) -> WriteError:
        if isinstance(error, WriteError):
            unknown, failures = (
                error.unknown,
                [*failures, *(RecordFailure(start + f.position, f.code, f.message) for f in error.failures)],
            )
        else:
            unknown, failures = (
                0,
                [*failures, RecordFailure(start, error.api_code or type(error).__name__, error.message)],
            )
        unsent = total - start - min(BATCH, total - start)
        return WriteError(
            f"{kind} {self.info.name} stopped at row {start + 1}: {len(done)} written, {unsent} not sent",
            written=len(done),
            failures=failures,
            unknown=unknown,
            keys=done,
            source=self.http.source,
            operation=f"{kind} {self.info.name}",
        )


def _unknown(rows: int, error: Error | None) -> WriteError:
    reason = f" ({error.message})" if error is not None else ""
    return WriteError(
        f"a create's answer was lost and it can't be told which of its {rows} rows were written{reason}",
        written=0,
        unknown=rows,
    )
