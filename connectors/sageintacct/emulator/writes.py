"""The gateway's generic write functions: `create`, `update` and `delete` with the API's validation.

`create` takes one or more object elements with nested fields (`<DISPLAYCONTACT><PRINTAS>`), checks every field
is known and writable, the required ones are given and the object's ID is not taken, and answers
`<data listtype="objects">` with each new record's RECORDNO and ID; `update` finds the record by RECORDNO (or
its ID field) and sets the fields given (an empty element empties the field); `delete` takes comma-separated
RECORDNOs and answers with no `<data>` (api-protocols.md §1.8). Error numbers follow the vendor's fixtures
where one is known (BL34000061 for a duplicate); the others are UNCONFIRMED choices.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ElementTree
from typing import Any
from xml.sax.saxutils import escape

from .data import Company, Record
from .envelope import ApiError, Failed
from .schema import OBJECTS, ObjectDef
from .values import BadValue, parse, render

#: A field or value the object does not take (the vendor's "illegal format" number, §1.4).
INVALID = "BL03000018"
REQUIRED = "BL01001973"
DUPLICATE = "BL34000061"
NOT_FOUND = "DL02000001"


def _flatten(element: ElementTree.Element, prefix: str = "") -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for child in element:
        name = f"{prefix}{child.tag.upper()}"
        if len(child):
            values.update(_flatten(child, f"{name}."))
        else:
            values[name] = child.text
    return values


def _object(element: ElementTree.Element) -> ObjectDef:
    found = OBJECTS.get(element.tag.upper())
    if found is None:
        raise Failed(ApiError(INVALID, f"Object {element.tag} is not supported by create/update/delete"))
    return found


def _typed(obj: ObjectDef, values: dict[str, str | None], *, creating: bool) -> Record:
    typed: Record = {}
    for name, text in values.items():
        field = obj.by_id.get(name)
        if field is None:
            raise Failed(ApiError(INVALID, f"{name} is not a field of {obj.name}"))
        if field.readonly and not (name == "RECORDNO" and not creating):
            raise Failed(ApiError(INVALID, f"{name} is read-only and can't be set"))
        try:
            typed[name] = parse(field, text, strict=True)
        except BadValue as error:
            raise Failed(ApiError(INVALID, str(error), correction="Use the documented format")) from None
    return typed


class Writes:
    def __init__(self, company: Company, now: Any) -> None:
        self.company = company
        self._now = now

    def now(self) -> datetime.datetime:
        stamp: datetime.datetime = self._now()
        return stamp.replace(microsecond=0)

    def _taken(self, obj: ObjectDef, record: Record, ignore: int | None = None) -> None:
        if obj.id_field is None or record.get(obj.id_field) is None:
            return
        value = record[obj.id_field]
        for key, other in self.company.tables[obj.name].items():
            if key != ignore and other[obj.id_field] == value:
                raise Failed(
                    ApiError(
                        DUPLICATE,
                        f"Another {obj.label} with the given value(s) {value} already exists",
                        correction="Use a unique value instead.",
                    ),
                    ApiError(DUPLICATE, f"Could not create {obj.label} record."),
                )

    def create(self, element: ElementTree.Element) -> str:
        staged: list[tuple[ObjectDef, Record]] = []
        for child in element:
            obj = _object(child)
            values = _typed(obj, _flatten(child), creating=True)
            missing = [f.id for f in obj.fields if f.required and values.get(f.id) is None]
            if missing:
                raise Failed(
                    ApiError(REQUIRED, f"Required field {missing[0]} is missing", correction=f"Provide {missing[0]}"),
                    ApiError(REQUIRED, f"Could not create {obj.label} record."),
                )
            staged.append((obj, values))
        if not staged:
            raise Failed(ApiError(INVALID, "create names no object"))
        rows: list[str] = []
        with self.company.lock:
            for obj, values in staged:
                self._taken(obj, values)
            for obj, values in staged:
                record = self.company.add(obj.name, values, self.now())
                rows.append(self._ack(obj, record))
        return f'<data listtype="objects" count="{len(rows)}">{"".join(rows)}</data>'

    def update(self, element: ElementTree.Element) -> str:
        rows: list[str] = []
        with self.company.lock:
            for child in element:
                obj = _object(child)
                values = _typed(obj, _flatten(child), creating=False)
                record = self._find(obj, values)
                values.pop("RECORDNO", None)
                changed = {**record, **values}
                self._taken(obj, changed, ignore=record["RECORDNO"])
                missing = [f.id for f in obj.fields if f.required and changed.get(f.id) is None]
                if missing:
                    raise Failed(ApiError(REQUIRED, f"Required field {missing[0]} can't be emptied"))
                record.update(values, WHENMODIFIED=self.now())
                rows.append(self._ack(obj, record))
        return f'<data listtype="objects" count="{len(rows)}">{"".join(rows)}</data>'

    def _find(self, obj: ObjectDef, values: Record) -> Record:
        table = self.company.tables[obj.name]
        key = values.get("RECORDNO")
        if key is not None:
            record = table.get(key)
            if record is None:
                raise Failed(ApiError(NOT_FOUND, f"Cannot update non-existing {obj.name} with RECORDNO={key}."))
            return record
        if obj.id_field is not None and values.get(obj.id_field) is not None:
            wanted = values[obj.id_field]
            for record in table.values():
                if record[obj.id_field] == wanted:
                    return record
            raise Failed(ApiError(NOT_FOUND, f"Cannot update non-existing {obj.name} with {obj.id_field}={wanted}."))
        raise Failed(ApiError(INVALID, f"update of {obj.name} needs RECORDNO"))

    def delete(self, element: ElementTree.Element) -> str:
        obj = OBJECTS.get((element.findtext("object") or "").strip().upper())
        if obj is None:
            raise Failed(ApiError(INVALID, f"Object {element.findtext('object')!r} is not supported"))
        keys = [k.strip() for k in (element.findtext("keys") or "").split(",") if k.strip()]
        if not keys:
            raise Failed(ApiError(INVALID, "delete needs keys"))
        with self.company.lock:
            table = self.company.tables[obj.name]
            missing = [k for k in keys if not k.isdigit() or int(k) not in table]
            if missing:
                raise Failed(ApiError(NOT_FOUND, f"{obj.label} record {missing[0]} does not exist or was deleted."))
            for key in keys:
                del table[int(key)]
        return ""

    @staticmethod
    def _ack(obj: ObjectDef, record: Record) -> str:
        tag = obj.name.lower()
        ident = f"<{obj.id_field}>{escape(render(record[obj.id_field]))}</{obj.id_field}>" if obj.id_field else ""
        return f"<{tag}><RECORDNO>{record['RECORDNO']}</RECORDNO>{ident}</{tag}>"
