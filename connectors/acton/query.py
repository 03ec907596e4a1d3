"""What an Act-On request can narrow, from a predicate in negation normal form: pure functions, fixture-tested.

Act-On takes no query language, only parameters, so "compiling" is choosing them: a set of values for a column
the API looks up one by one (an image or record id, a contact's e-mail, a message type), or a time window for
`modafter`/`modbefore`/`createdafter`/`createdbefore` (Unix seconds). Everything is a superset of the
predicate — an AND keeps what narrows, an OR narrows only when every alternative does — and the engine
re-applies the exact predicate to each row. Values travel only as query parameters (encoded by httpx) or as
path segments escaped by `path_segment`, so a hostile value can't change a request's meaning.

Sources for what is pushed: Act-On's published OpenAPI documents (developer.act-on.com; the `list` download's
`modafter`/`modbefore`/`createdafter`/`createdbefore` in Unix time, `/api/1/list/{listid}/record/{recordid}`,
the e-mail lookup, `/api/1/image/{id}` and the message `type` parameter — api-protocols.md §3). Whether the
time windows are inclusive is not documented (UNCONFIRMED): they are widened by a second so the result is a
superset either way.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from federation.predicates import And, Comparison, InList, IsNull, Operator, Or, Predicate

_LOWER = frozenset({Operator.GT, Operator.GE, Operator.EQ})
_UPPER = frozenset({Operator.LT, Operator.LE, Operator.EQ})


def value_set(predicate: Predicate | None, column: str) -> frozenset[object] | None:
    """The values `column` must take for `predicate` to hold, or None when the predicate does not pin them."""
    match predicate:
        case Comparison(column=name, op=Operator.EQ, value=value) if name == column:
            return frozenset({value})
        case InList(column=name, values=values, negated=False) if name == column:
            return frozenset(values)
        case And(operands=operands):
            found = [s for s in (value_set(p, column) for p in operands) if s is not None]
            return frozenset.intersection(*found) if found else None
        case Or(operands=operands):
            alternatives = [value_set(p, column) for p in operands]
            if any(s is None for s in alternatives):
                return None
            return frozenset().union(*(s for s in alternatives if s is not None))
    return None


@dataclass(frozen=True)
class Window:
    """A time window in Unix seconds: records strictly after `after` and strictly before `before`."""

    after: int | None = None
    before: int | None = None

    def params(self, after: str, before: str) -> dict[str, str]:
        found = {after: self.after, before: self.before}
        return {name: str(value) for name, value in found.items() if value is not None}


def _pick(values: list[int | None], choose: Callable[[list[int]], int], *, every: bool) -> int | None:
    known = [v for v in values if v is not None]
    if not known or (every and len(known) != len(values)):
        return None
    return choose(known)


def time_window(predicate: Predicate | None, column: str) -> Window:
    """The widest window a timestamp `column` lies in where `predicate` holds.

    Act-On's parameters take whole seconds and don't say whether "after" includes the second itself, so each
    bound is widened by a second beyond the value, rounded outwards: a superset under either reading."""
    match predicate:
        case Comparison(column=name, op=op, value=datetime.datetime() as value) if name == column:
            seconds = value.timestamp()
            after = math.floor(seconds) - 1 if op in _LOWER else None
            before = math.ceil(seconds) + 1 if op in _UPPER else None
            return Window(after, before)
        case InList(column=name, values=values, negated=False) if name == column and values:
            if all(isinstance(v, datetime.datetime) for v in values):
                stamps = [v.timestamp() for v in values if isinstance(v, datetime.datetime)]
                return Window(math.floor(min(stamps)) - 1, math.ceil(max(stamps)) + 1)
        case And(operands=operands):
            parts = [time_window(p, column) for p in operands]
            return Window(
                _pick([w.after for w in parts], max, every=False), _pick([w.before for w in parts], min, every=False)
            )
        case Or(operands=operands):
            parts = [time_window(p, column) for p in operands]
            return Window(
                _pick([w.after for w in parts], min, every=True), _pick([w.before for w in parts], max, every=True)
            )
    return Window()


def never_holds(predicate: Predicate | None, never_null: frozenset[str]) -> bool:
    """Whether `predicate` can hold for no record because it needs a column the API always fills to be NULL."""
    match predicate:
        case IsNull(column=name, negated=False):
            return name in never_null
        case And(operands=operands):
            return any(never_holds(p, never_null) for p in operands)
        case Or(operands=operands):
            return all(never_holds(p, never_null) for p in operands)
    return False


def texts(values: frozenset[object] | None) -> list[str] | None:
    """The values as sorted text, or None when one of them isn't text (a set that can't be looked up)."""
    if values is None or not all(isinstance(v, str) for v in values):
        return None
    return sorted(str(v) for v in values)


def path_segment(value: str) -> str:
    """`value` as one URL path segment: every reserved character escaped, so `/`, `?` and `#` stay data."""
    return quote(value, safe="")
