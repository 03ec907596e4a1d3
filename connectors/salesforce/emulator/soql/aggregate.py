"""Aggregate queries: GROUP BY, the aggregate functions, HAVING, and the AggregateResult rows they produce.

Rows are ``{"attributes": {"type": "AggregateResult"}, ...}`` (no url). Unaliased aggregates are named expr0,
expr1… counting only the unaliased ones (documented); a grouped field keeps its field name (``Owner.Name`` gives
``Name``) unless aliased. Aggregates skip nulls except COUNT(Id) (documented). Text groups case-insensitively and
the group shows the first value met; groups come in order of first appearance unless ORDER BY says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ..model import FieldDef, Record
from .ast import Aggregate, FieldRef, FieldsFunction, Query
from .errors import error_at, malformed
from .ordering import SortKey, sort_rows
from .predicates import ConditionCompiler, Operand, Predicate
from .resolve import Path, Resolver
from .values import compare_key, kind_of, sort_key

Row = dict[str, Any]

# Which field kinds each function accepts (UNCONFIRMED in detail: SUM/AVG are documented as numeric only).
_ACCEPTED_KINDS = {
    "SUM": {"number"},
    "AVG": {"number"},
    "MIN": {"number", "date", "datetime", "text", "id"},
    "MAX": {"number", "date", "datetime", "text", "id"},
}
_NOT_GROUPED = "Field must be grouped or aggregated"


class AggregatePlan:
    """An aggregate query checked against the catalog and ready to run over the records that passed WHERE."""

    def __init__(self, query: Query, resolver: Resolver, today: date) -> None:
        self.query = query
        self.text = query.text
        self.resolver = resolver
        self.groups = [resolver.path(ref) for ref in query.group_by]
        for group in self.groups:
            if not group.field.groupable:
                raise error_at(
                    "INVALID_FIELD",
                    self.text,
                    group.pos,
                    f"field '{group.field.name}' can not be grouped in a query call",
                )
        self.grouped = {group.label.lower(): group for group in self.groups}
        self.specs: dict[str, tuple[str, Path]] = {}
        self.columns = self._columns()
        self.having: Predicate | None = None
        if query.having is not None:
            compiler = ConditionCompiler(self.text, lambda target: self._operand(target, _NOT_GROUPED)[0], today)
            self.having = compiler.compile(query.having)
        self.order = [self._sort_key(item.target, item.descending, item.nulls_first) for item in query.order_by]

    def _columns(self) -> list[tuple[str, str]]:
        """(output name, row key) for each SELECT item, in order."""
        columns: list[tuple[str, str]] = []
        unnamed = 0
        for item in self.query.select:
            expression = item.expression
            if isinstance(expression, FieldsFunction):
                for field in self.resolver.fields_of(expression.kind):
                    if field.name.lower() not in self.grouped:
                        raise malformed(self.text, expression.pos, f"{_NOT_GROUPED}: {field.name}")
                    columns.append((field.name, self.grouped[field.name.lower()].label))
                continue
            operand, key = self._operand(expression, _NOT_GROUPED)
            if isinstance(expression, Aggregate):
                name = item.alias or f"expr{unnamed}"
                unnamed += item.alias is None
            else:
                name = item.alias or operand.field.name
            columns.append((name, key))
        return columns

    def _operand(self, target: FieldRef | Aggregate, not_grouped: str) -> tuple[Operand, str]:
        """A grouped field or an aggregate as read from a group row, and its key in the row.

        An aggregate met here is registered for computation, so HAVING and ORDER BY may use unselected ones.
        """
        if isinstance(target, FieldRef):
            path = self.resolver.path(target)
            group = self.grouped.get(path.label.lower())
            if group is None:
                raise malformed(self.text, target.pos, f"{not_grouped}: {path.label}")
            return Operand(_reader(group.label), path.field, target.pos), group.label
        assert target.argument is not None  # COUNT() never makes an aggregate query
        path = self.resolver.path(target.argument)
        if path.label.lower() in self.grouped:
            raise malformed(self.text, target.argument.pos, f"Grouped field should not be aggregated: {path.label}")
        accepted = _ACCEPTED_KINDS.get(target.function)
        if accepted is not None and kind_of(path.field) not in accepted:
            raise malformed(
                self.text,
                target.argument.pos,
                f"field {path.field.name} does not support aggregate operator {target.function}",
            )
        key = f"{target.function}({path.label})"
        self.specs.setdefault(key, (target.function, path))
        result_type = {"COUNT": "int", "COUNT_DISTINCT": "int", "SUM": "double", "AVG": "double"}
        stand_in = FieldDef(path.field.name, result_type.get(target.function, path.field.type))
        return Operand(_reader(key), stand_in, target.pos), key

    def _sort_key(self, target: FieldRef | Aggregate, descending: bool, nulls_first: bool | None) -> SortKey:
        operand, _ = self._operand(target, "Ordered field must be grouped or aggregated")
        return SortKey(operand.getter, operand.field, descending, nulls_first)

    def rows(self, records: Sequence[Record]) -> list[Row]:
        """The AggregateResult rows for `records`, after HAVING, ORDER BY, OFFSET and LIMIT."""
        buckets: dict[Any, list[Record]] = {}
        if self.groups:
            group_key = _group_key(self.groups)
            for record in records:
                key = group_key(record)
                bucket = buckets.get(key)
                if bucket is None:
                    buckets[key] = [record]
                else:
                    bucket.append(record)
        else:
            buckets[()] = list(records)  # one row, even over no records
        groups: list[Row] = []
        for members in buckets.values():
            row = {group.label: group.getter(members[0]) for group in self.groups}
            for name, (function, path) in self.specs.items():
                row[name] = _compute(function, path, members)
            groups.append(row)
        if self.having is not None:
            groups = [row for row in groups if self.having(row)]
        sort_rows(groups, self.order)
        start = self.query.offset or 0
        stop = None if self.query.limit is None else start + self.query.limit
        return [
            {"attributes": {"type": "AggregateResult"}, **{name: row[key] for name, key in self.columns}}
            for row in groups[start:stop]
        ]


def _reader(key: str) -> Callable[[Row], Any]:
    def read(row: Row) -> Any:
        return row[key]

    return read


def _key(value: Any, norm: Callable[[Any], Any] | None) -> Any:
    return value if value is None or norm is None else norm(value)


def _group_key(groups: list[Path]) -> Callable[[Record], Any]:
    """The function giving a record's group: its grouped values, normalized (a tuple for several fields)."""
    keyers = [(group.getter, compare_key(group.field)) for group in groups]
    if len(keyers) > 1:
        return lambda record: tuple([_key(get(record), norm) for get, norm in keyers])
    get, norm = keyers[0]
    if norm is None:
        return get
    return lambda record: None if (value := get(record)) is None else norm(value)


def _compute(function: str, path: Path, members: list[Record]) -> Any:
    values = [value for value in map(path.getter, members) if value is not None]
    if function == "COUNT":
        return len(values)
    if function == "COUNT_DISTINCT":
        norm = compare_key(path.field)
        return len({_key(value, norm) for value in values})
    if not values:
        return None
    if function == "SUM":
        return sum(values)
    if function == "AVG":
        return sum(values) / len(values)
    norm = sort_key(path.field)
    return min(values, key=norm) if function == "MIN" else max(values, key=norm)
