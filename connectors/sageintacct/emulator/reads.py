"""The gateway's read functions: `query` (fields, filter, orderby, aggregates, offset paging), legacy
`readByQuery` with `readMore` by resultId, `read`, `readByName`, `lookup` and `inspect`.

Shapes follow api-protocols.md §1.5-1.7: `query` answers `<data listtype="CUSTOMER" totalcount offset count
numremaining>` with UPPERCASE row elements and dotted fields as literal element names, and each offset is a new
query (no cursor); readByQuery answers lowercase rows with nested fields and a `resultId` that readMore pages
through until it expires. `select *` is refused by `query`, as documented.
"""

from __future__ import annotations

import bisect
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from federation.emulation.clock import Clock
from federation.emulation.cursors import Cursors

from .data import Company, Record
from .envelope import ApiError, Failed
from .filters import BadQuery, compile_filter
from .legacy import compile_query
from .schema import OBJECTS, ObjectDef, lookup_xml
from .values import render

QUERY_PAGE = (100, 2000)  # default, maximum
LEGACY_PAGE = (100, 1000)
#: How long a readByQuery result can be paged with readMore (UNCONFIRMED: no TTL is documented; §1.5).
RESULT_TTL = 1800.0
AGGREGATES = ("count", "sum", "avg", "min", "max")


def query_failed(message: str) -> Failed:
    # The documented shape of a failed query: errorno "Query Failed", the reason in description2 (§1.4).
    return Failed(ApiError("Query Failed", message))


def object_of(element: ElementTree.Element) -> ObjectDef:
    name = (element.findtext("object") or "").strip().upper()
    found = OBJECTS.get(name)
    if found is None:
        raise query_failed(f"Object definition {name or '(none)'} not found")
    return found


def _page_size(text: str | None, limits: tuple[int, int]) -> int:
    if text is None or not text.strip():
        return limits[0]
    try:
        size = int(text)
    except ValueError:
        raise query_failed(f"pagesize {text!r} is not a number") from None
    if not 1 <= size <= limits[1]:
        raise query_failed(f"pagesize must be between 1 and {limits[1]}")
    return size


def _text(value: Any) -> str:
    # The hot path of every page: most values are plain text with nothing to escape.
    text = value if type(value) is str else render(value)
    return escape(text) if "&" in text or "<" in text or ">" in text else text


def flat_row(tag: str, names: Sequence[str], row: Record) -> str:
    return f"<{tag}>" + "".join([f"<{n}>{_text(row[n])}</{n}>" for n in names]) + f"</{tag}>"


def nested_row(tag: str, names: Sequence[str], row: Record) -> str:
    """A row with dotted fields as nested elements (`<DISPLAYCONTACT><EMAIL1>…`), as readByQuery writes them."""
    tree: dict[str, Any] = {}
    for name in names:
        *parents, leaf = name.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = render(row[name])

    def xml(node: dict[str, Any]) -> str:
        return "".join(f"<{k}>{xml(v) if isinstance(v, dict) else escape(v)}</{k}>" for k, v in node.items())

    return f"<{tag}>{xml(tree)}</{tag}>"


class Reads:
    def __init__(self, company: Company, clock: Clock) -> None:
        self.company = company
        self.cursors: Cursors[Record] = Cursors(clock, ttl=RESULT_TTL, capacity=256, new_locator=_result_id)
        #: Per resultId: the object it reads and how many rows readMore has handed out.
        self.positions: dict[str, tuple[ObjectDef, int]] = {}

    def rows(
        self, obj: ObjectDef, test: Callable[[Record], bool] | None = None, after: int | None = None
    ) -> list[Record]:
        """The records passing `test`; `after` (a RECORDNO the filter requires records to exceed) lets the key's
        order skip the ones before it, as a database's index would."""
        with self.company.lock:
            table = self.company.tables[obj.name]
            if after is None:
                records = list(table.values())
            else:
                keys = list(table)  # kept in RECORDNO order
                records = [table[k] for k in keys[bisect.bisect_right(keys, after) :]]
        return records if test is None else [r for r in records if test(r)]

    # -- query ------------------------------------------------------------------------------------------------

    def query(self, element: ElementTree.Element) -> str:
        obj = object_of(element)
        select = element.find("select")
        if select is None or len(select) == 0:
            raise query_failed("select is required")
        plain: list[str] = []
        aggregates: list[tuple[str, str]] = []
        for child in select:
            name = (child.text or "").strip().upper()
            if name == "*":
                raise query_failed("select * is not supported: name the fields")
            if name not in obj.by_id:
                raise query_failed(f"Invalid field {name} in select for {obj.name}")
            if child.tag == "field":
                plain.append(name)
            elif child.tag in AGGREGATES:
                aggregates.append((child.tag, name))
            else:
                raise query_failed(f"unknown select element <{child.tag}>")
        options = element.find("options")
        folded = options is not None and (options.findtext("caseinsensitive") or "").strip().lower() == "true"
        filter_element = element.find("filter")
        test = None
        if filter_element is not None and len(filter_element):
            if len(filter_element) != 1:
                raise query_failed("filter takes one operator; combine several with <and> or <or>")
            try:
                test = compile_filter(obj, filter_element[0], folded)
            except BadQuery as error:
                raise query_failed(str(error)) from None
        rows = self.rows(obj, test, _key_bound(filter_element))
        names = plain
        if aggregates:
            rows, names = _aggregate(rows, plain, aggregates)
        rows = _ordered(obj, rows, element.find("orderby"), names, folded)
        size = _page_size(element.findtext("pagesize"), QUERY_PAGE)
        offset_text = (element.findtext("offset") or "0").strip()
        if not offset_text.isdigit():
            raise query_failed("offset must be a whole number")
        offset = int(offset_text)
        page = rows[offset : offset + size]
        body = "".join(flat_row(obj.name, names, r) for r in page)
        remaining = max(len(rows) - offset - len(page), 0)
        return (
            f'<data listtype="{obj.name}" totalcount="{len(rows)}" offset="{offset}" count="{len(page)}" '
            f'numremaining="{remaining}">{body}</data>'
        )

    # -- readByQuery / readMore -------------------------------------------------------------------------------

    def read_by_query(self, element: ElementTree.Element) -> str:
        obj = object_of(element)
        names = self._fields(obj, element.findtext("fields"))
        try:
            test = compile_query(obj, element.findtext("query"))
        except BadQuery as error:
            raise query_failed(str(error)) from None
        rows = [{n: r[n] for n in names} for r in self.rows(obj, test)]
        size = _page_size(element.findtext("pagesize"), LEGACY_PAGE)
        cursor = self.cursors.open(rows, len(rows), size)
        self.positions[cursor.locator] = (obj, 0)
        return self._legacy_page(cursor.locator)

    def read_more(self, element: ElementTree.Element) -> str:
        locator = (element.findtext("resultId") or "").strip()
        cursor = self.cursors.get(locator) if locator else None
        if cursor is None or locator not in self.positions:
            raise Failed(
                ApiError("DL02000001", f"There is no result set with resultId {locator!r}: it may have expired")
            )
        return self._legacy_page(locator)

    def _legacy_page(self, locator: str) -> str:
        cursor = self.cursors.get(locator)
        assert cursor is not None
        obj, start = self.positions[locator]
        page = cursor.rows[start : start + cursor.batch_size]
        self.positions[locator] = (obj, start + len(page))
        remaining = len(cursor.rows) - start - len(page)
        tag = obj.name.lower()
        body = "".join(nested_row(tag, list(r), r) for r in page)
        result_id = locator if remaining else ""
        return (
            f'<data listtype="{tag}" count="{len(page)}" totalcount="{cursor.total_size}" '
            f'numremaining="{remaining}" resultId="{result_id}">{body}</data>'
        )

    def _fields(self, obj: ObjectDef, text: str | None) -> list[str]:
        if text is None or text.strip() in ("", "*"):
            return [f.id for f in obj.fields]
        names = [n.strip().upper() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in obj.by_id]
        if unknown:
            raise query_failed(f"Invalid field {unknown[0]} for {obj.name}")
        return names

    # -- read / readByName / lookup / inspect -----------------------------------------------------------------

    def read(self, element: ElementTree.Element, by_name: bool) -> str:
        obj = object_of(element)
        names = self._fields(obj, element.findtext("fields"))
        keys = [k.strip() for k in (element.findtext("keys") or "").split(",") if k.strip()]
        if by_name:
            if obj.id_field is None:
                raise query_failed(f"{obj.name} has no name field to read by")
            wanted = set(keys)
            found = [r for r in self.rows(obj) if r[obj.id_field] in wanted]
        else:
            numbers = {int(k) for k in keys if k.isdigit()}
            found = [r for r in self.rows(obj) if r["RECORDNO"] in numbers] if keys else self.rows(obj)[:100]
        tag = obj.name.lower()
        body = "".join(nested_row(tag, names, r) for r in found)
        return f'<data listtype="{tag}" count="{len(found)}">{body}</data>'

    def lookup(self, element: ElementTree.Element) -> str:
        obj = object_of(element)
        return f'<data listtype="All" count="1">{lookup_xml(obj)}</data>'

    def inspect(self, element: ElementTree.Element) -> str:
        name = (element.findtext("object") or "").strip()
        if name == "*":
            types = "".join(f'<type typename="{o.name}">{escape(o.label)}</type>' for o in OBJECTS.values())
            return f'<data listtype="All" count="{len(OBJECTS)}">{types}</data>'
        return self.lookup(element)


def _key_bound(filter_element: ElementTree.Element | None) -> int | None:
    """N when the filter requires RECORDNO > N (alone, or as one operand of its top-level `<and>`)."""
    if filter_element is None or len(filter_element) != 1:
        return None
    top = filter_element[0]
    for operand in top if top.tag == "and" else [top]:
        value = operand.findtext("value")
        if operand.tag == "greaterthan" and (operand.findtext("field") or "").strip().upper() == "RECORDNO":
            return int(value) if value is not None and value.strip().isdigit() else None
    return None


def _result_id(serial: int) -> str:
    return f"{serial:08d}WU1hh8CoA4QAAHxI9i8AAAAA5"


def _aggregate(
    rows: Iterable[Record], plain: list[str], aggregates: list[tuple[str, str]]
) -> tuple[list[Record], list[str]]:
    """`query`'s aggregates: the plain fields are the GROUP BY; results are named FUNC.FIELD (§1.6)."""
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for row in rows:
        groups.setdefault(tuple(row[n] for n in plain), []).append(row)
    names = [*plain, *(f"{func.upper()}.{field}" for func, field in aggregates)]
    out: list[Record] = []
    for key, members in groups.items():
        result = dict(zip(plain, key, strict=True))
        for func, field in aggregates:
            values = [r[field] for r in members if r[field] is not None]
            result[f"{func.upper()}.{field}"] = _compute(func, values)
        out.append(result)
    return out, names


def _compute(func: str, values: list[Any]) -> Any:
    if func == "count":
        return len(values)
    if not values:
        return None
    if func == "sum":
        return sum(values, Decimal(0))
    if func == "avg":
        return (sum(values, Decimal(0)) / len(values)).normalize()
    return min(values) if func == "min" else max(values)


def _ordered(
    obj: ObjectDef, rows: list[Record], orderby: ElementTree.Element | None, names: list[str], folded: bool
) -> list[Record]:
    """Rows in `orderby` order; without one the gateway promises no order (this one keeps RECORDNO order).
    Empty values sort first ascending (UNCONFIRMED: the vendor documents no null order)."""
    if orderby is None:
        return rows
    orders = orderby.findall("order")
    if [(o.findtext("field") or "").strip().upper() for o in orders] == ["RECORDNO"] and orders[0].find(
        "descending"
    ) is None:
        return rows  # records are kept in RECORDNO order: the key's index
    for order in reversed(list(orderby.findall("order"))):
        name = (order.findtext("field") or "").strip().upper()
        if name not in names and name not in obj.by_id:
            raise query_failed(f"Invalid field {name} in orderby")
        descending = order.find("descending") is not None

        def key(row: Record, name: str = name) -> tuple[bool, Any]:
            value = row.get(name)
            if folded and isinstance(value, str):
                value = value.lower()
            return (value is not None, value if value is not None else 0)

        rows = sorted(rows, key=key, reverse=descending)
    return rows
