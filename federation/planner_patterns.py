"""String patterns for the API: `LIKE`, `starts_with` and `prefix` conditions, which DuckDB's source protocol never
offers a scan (`accepts` is asked only about comparisons, IN and IS NULL), found in a WHERE clause and handed to
the scan as an extra predicate (`federation.predicates.Like`).

Each source table a SELECT reads directly (its FROM, or a plain join) whose columns can push LIKE
(`Operator.LIKE` in `Column.pushdown`) and that a top-level WHERE conjunct tests with a pattern is swapped for a
scan of the same table registered for the statement with those patterns (`Narrowed`). The WHERE clause stays as
it was, so DuckDB still evaluates every condition exactly: the API only has to return a superset (SOQL's LIKE
ignores case, Intacct's has no escape character, OData's `startswith` takes only a prefix), and each compiler
spells the pattern with its own escapes, so no character of the user's text acts as a wildcard or ends a string.

A pattern filters a joined table before the join exactly as after it: a row of the join whose pattern column is
NULL (a row an outer join added) fails the WHERE condition anyway. Joins whose rows depend on which rows the
other side holds beyond matching (ASOF, POSITIONAL, LATERAL) are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from federation.planner_sql import Lookup, Scope, replace_table, source_table, sql_conjuncts
from federation.predicates import Like, Operator, Predicate, Wildcard, like_pattern
from federation.table import Table

#: A statement's bound parameters, as DuckDB takes them (by position or by name), if any.
Parameters = Sequence[object] | Mapping[str, object] | None
#: Functions DuckDB reads as "starts with" (`starts_with(s, p)`, its alias `prefix`, and the `^@` operator).
_PREFIX_FUNCTIONS = frozenset({"prefix", "starts_with"})
#: Join kinds whose result is the same when either side is filtered first by a condition on its own columns.
_PLAIN_KINDS = frozenset({"", "INNER", "OUTER", "CROSS"})


@dataclass(frozen=True)
class Narrowed:
    """A scan of `table`, registered as `name` for one statement, that also pushes `narrowing` (each implied by
    the statement's WHERE clause for every row the scan feeds)."""

    key: str
    table: Table
    name: str
    narrowing: tuple[Predicate, ...]


def narrowed(select: exp.Select, lookup: Lookup, ctes: set[str], parameters: Parameters = None) -> list[Narrowed]:
    """The SELECT's source tables swapped for scans that push the patterns its WHERE tests them with (a pattern
    may be a bound parameter: the statement is planned for each execution)."""
    where = select.args.get("where")
    if where is None or any(select.args.get(a) for a in ("laterals", "pivots", "connect")):
        return []
    joins = select.args.get("joins") or []
    if any(not _plain(join) for join in joins):
        return []
    source = select.args.get("from_")
    named = (source.this if source is not None else None, *(j.this for j in joins))
    tables = [t for t in named if isinstance(t, exp.Table)]
    found: list[Narrowed] = []
    single = len(tables) == 1 and not joins
    for table in tables:
        located = source_table(table, lookup, ctes)
        if located is None:
            continue
        key, resolved = located
        scope = Scope(resolved.info, table.alias_or_name)
        patterns = tuple(
            dict.fromkeys(
                p
                for conjunct in sql_conjuncts(where.this)
                if (p := pattern(conjunct, scope, qualified=not single, parameters=parameters)) is not None
                and resolved.info.can_push(p.column, Operator.LIKE)
            )
        )
        if patterns:
            name = replace_table(table, scope, key, resolved.info, repr(patterns))
            found.append(Narrowed(key, resolved, name, patterns))
    return found


def pattern(node: exp.Expr, scope: Scope, *, qualified: bool = False, parameters: Parameters = None) -> Like | None:
    """The `Like` a condition states on one of the scope's text columns, or None. With `qualified`, the column
    must name its table (a statement over several tables); `parameters` are the statement's bound values."""
    escape: str | None = None
    if isinstance(node, exp.Escape):
        character = node.expression
        if not isinstance(character, exp.Literal) or not character.is_string or len(character.name) > 1:
            return None
        escape = character.name or None
        node = node.this
    if isinstance(node, exp.Like) and not node.args.get("negate"):
        column, text = node.this, _text(node.expression, parameters)
        if text is None:
            return None
        parts = like_pattern(text, escape)
    elif escape is None and _is_prefix(node):
        column, argument = _prefix_arguments(node)
        text = _text(argument, parameters)
        if text is None:
            return None
        parts = (text, Wildcard.ANY) if text else (Wildcard.ANY,)
    else:
        return None
    if parts is None or (qualified and not (isinstance(column, exp.Column) and column.table)):
        return None
    found = scope.column(column)
    if found is None or not (pa.types.is_string(found.type) or pa.types.is_large_string(found.type)):
        return None
    return Like(found.name, parts)


def _text(node: exp.Expr | None, parameters: Parameters) -> str | None:
    """A string literal's text, or a bound parameter's (`$1`, `$name`: `federation.statements` numbers `?`s)
    when it is text; None otherwise."""
    if isinstance(node, exp.Literal):
        return node.name if node.is_string else None
    if not isinstance(node, exp.Placeholder) or parameters is None:
        return None
    name = str(node.this)
    value: object = None
    if isinstance(parameters, Mapping):
        value = parameters.get(name)
    elif name.isdigit() and 0 < int(name) <= len(parameters):
        value = parameters[int(name) - 1]
    return value if isinstance(value, str) else None


def _is_prefix(node: exp.Expr) -> bool:
    if isinstance(node, exp.StartsWith):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _PREFIX_FUNCTIONS and len(node.expressions) == 2


def _prefix_arguments(node: exp.Expr) -> tuple[exp.Expr | None, exp.Expr | None]:
    if isinstance(node, exp.StartsWith):
        return node.this, node.expression
    first, second = node.expressions
    return first, second


def _plain(join: exp.Join) -> bool:
    kind = (join.args.get("kind") or "").upper()
    return kind in _PLAIN_KINDS and not join.args.get("method") and isinstance(join.this, exp.Table)
