"""Write statements to source tables: recognised with sqlglot and turned into DuckDB queries that compute what to
write.

Every statement duckfed reads is parsed here, quietly (sqlglot's "unsupported syntax" warnings are about
statements DuckDB runs fine, so they are not the user's business), and an `EXPLAIN` is read as the statement it
explains, so the tables it names are registered like those of the statement itself.

DuckDB can't write into a Python-backed view, so an INSERT, UPDATE or DELETE whose target is a source table is
taken apart here and its pieces are handed back to DuckDB as SELECTs: the rows of an INSERT, and for UPDATE and
DELETE the keys of the rows the WHERE clause selects (with their new values). Each derived query keeps every
placeholder of the statement (`$1`, `$name`; `?` is numbered first), so it runs with the statement's own
parameters and DuckDB does all binding, casting and evaluation, whatever paramstyle the caller used.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType

from federation.errors import NotSupportedError, ProgrammingError

DIALECT = "duckdb"
#: Names of the columns the derived queries add; nothing a source table has.
KEY = "__duckfed_key"
ORDINAL = "__duckfed_ordinal"

_TEXT = exp.DataType.build("VARCHAR")
_MAYBE_WRITE = re.compile(r"\b(?:insert|update|delete)\b", re.IGNORECASE)
_MAYBE_EXPLAIN = re.compile(r"\bexplain\b", re.IGNORECASE)
_ANALYZE = re.compile(r"\s*(?:analy[sz]e\b)?", re.IGNORECASE)


class _Quiet(logging.Filter):
    """Drops sqlglot's log records on a thread while duckfed parses there; anyone else's parses still log."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "on", False)


_QUIET = _Quiet()
logging.getLogger("sqlglot").addFilter(_QUIET)


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    before = getattr(_QUIET.local, "on", False)
    _QUIET.local.on = True
    try:
        yield
    finally:
        _QUIET.local.on = before


def explained(sql: str) -> str | None:
    """The statement an `EXPLAIN [ANALYZE] …` explains (sqlglot reads EXPLAIN only as an opaque command), else None."""
    if _MAYBE_EXPLAIN.search(sql) is None:
        return None
    with _quietly():
        try:
            tokens = sqlglot.tokenize(sql, read=DIALECT)
        except SqlglotError:
            return None
    if not tokens or tokens[0].text.upper() != "EXPLAIN":
        return None
    rest = sql[tokens[0].end + 1 :]
    analyze = _ANALYZE.match(rest)
    return rest[analyze.end() :] if analyze else rest


def parse(sql: str) -> list[exp.Expr]:
    """The statements of `sql`, quietly; empty when sqlglot can't read it (DuckDB then says what is wrong)."""
    with _quietly():
        try:
            return [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
        except SqlglotError:
            return []


def referenced_tables(sql: str) -> list[tuple[str | None, str]]:
    """The (schema, table) names a statement (or the one an EXPLAIN explains) reads or writes, leaving out what
    is no table of a source: the target of a CREATE or DROP (the user's own object), table functions, and an
    unqualified name that one of the statement's WITH clauses defines."""
    found: list[tuple[str | None, str]] = []
    for statement in parse(explained(sql) or sql):
        made = statement.this if isinstance(statement, exp.Create | exp.Drop) else None
        if isinstance(made, exp.Schema):
            made = made.this
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            if not table.name or isinstance(table.this, exp.Func) or table is made:
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            found.append((table.db or None, table.name))
    return found


class Kind(enum.Enum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True)
class Write:
    """One INSERT, UPDATE or DELETE statement and the table it names (not yet known to be a source table)."""

    kind: Kind
    schema: str | None
    table: str
    statement: exp.Insert | exp.Update | exp.Delete

    @property
    def target(self) -> exp.Table:
        node = self.statement.this
        table = node.this if isinstance(node, exp.Schema) else node
        assert isinstance(table, exp.Table)
        return table

    @property
    def qualifier(self) -> exp.Identifier:
        """How the statement names the target's columns: its alias, else the table name."""
        target = self.target
        alias = target.args.get("alias")
        if isinstance(alias, exp.TableAlias) and isinstance(alias.this, exp.Identifier):
            return alias.this.copy()
        return exp.to_identifier(target.name, quoted=True)

    def columns(self) -> tuple[str, ...] | None:
        """An INSERT's column list; None for `INSERT … BY NAME`, whose columns are the query's."""
        node = self.statement.this
        if isinstance(node, exp.Schema):
            return tuple(column.name for column in node.expressions)
        if self.statement.args.get("by_name"):
            return None
        raise ProgrammingError(
            f"an INSERT into source table {self.table!r} needs a column list (or BY NAME): "
            "a source table's columns include ones only the API sets"
        )

    def assignments(self) -> list[tuple[str, exp.Expr]]:
        """An UPDATE's `SET column = expression` pairs."""
        pairs = []
        for item in self.statement.expressions:
            if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column):
                raise NotSupportedError(f"can't read the SET clause {item.sql(DIALECT)!r}")
            pairs.append((item.this.name, item.expression))
        return pairs

    def returning(self) -> list[exp.Expr]:
        node = self.statement.args.get("returning")
        return list(node.expressions) if node is not None else []

    def returned_columns(self) -> set[str] | None:
        """The target columns RETURNING reads (None: all of them, for `*`)."""
        found: set[str] = set()
        for expression in self.returning():
            if isinstance(expression, exp.Star) or expression.find(exp.Star) is not None:
                return None
            found.update(column.name for column in expression.find_all(exp.Column))
        return found


def might_write(sql: str) -> bool:
    """A cheap test that spares parsing statements that can't be writes."""
    return _MAYBE_WRITE.search(sql) is not None


def parse_writes(sql: str) -> tuple[list[Write], int]:
    """The write statements in `sql` and how many statements it holds in all; no writes when sqlglot can't
    read it (DuckDB then reports what is wrong). `sql` must already have numbered placeholders."""
    if explained(sql) is not None:
        return [], 1  # EXPLAIN shows DuckDB's plan; it writes nothing to a source
    statements = parse(sql)
    writes = [_write_of(s) for s in statements if isinstance(s, exp.Insert | exp.Update | exp.Delete)]
    return [w for w in writes if w is not None], len(statements)


def _write_of(statement: exp.Insert | exp.Update | exp.Delete) -> Write | None:
    node = statement.this
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table) or not table.name or table.args.get("catalog") is not None:
        return None
    kinds = {exp.Insert: Kind.INSERT, exp.Update: Kind.UPDATE, exp.Delete: Kind.DELETE}
    return Write(kinds[type(statement)], table.db or None, table.name, statement)


def number_placeholders(sql: str) -> str:
    """`sql` with each `?` replaced by `$1`, `$2`, … in textual order, which is how DuckDB numbers them, so that
    derived queries may reorder expressions and still bind the same values."""
    with _quietly():
        try:
            tokens = sqlglot.tokenize(sql, read=DIALECT)
        except SqlglotError:
            return sql
    marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    out = sql
    for number, token in reversed(list(enumerate(marks, start=1))):
        out = f"{out[: token.start]}${number}{out[token.end + 1 :]}"
    return out


def placeholders(node: exp.Expr) -> frozenset[str]:
    """The placeholders `node` uses, by name or number."""
    return frozenset(str(p.this) for p in node.find_all(exp.Placeholder))


def check_placeholders(write: Write, derived: Sequence[exp.Expr]) -> None:
    """Refuse a statement with placeholders the derived queries would drop (DuckDB wants every one bound)."""
    if any(placeholders(e) for e in write.returning()):
        raise NotSupportedError("RETURNING of a write to a source table can't use query parameters")
    kept = frozenset().union(*(placeholders(d) for d in derived))
    if kept != placeholders(write.statement):
        raise NotSupportedError("query parameters are only supported in the VALUES, SET, FROM and WHERE clauses")


def _with(write: Write, select: exp.Select) -> exp.Select:
    cte = write.statement.args.get("with_")
    if cte is not None:
        select.set("with_", cte.copy())
    return select


def check_insert(write: Write) -> None:
    """Refuse the forms of INSERT a source table can't take."""
    statement = write.statement
    if not isinstance(statement, exp.Insert) or statement.args.get("default"):
        raise NotSupportedError("INSERT … DEFAULT VALUES is not supported for source tables")
    for unsupported in ("conflict", "alternative", "overwrite", "ignore"):
        if statement.args.get(unsupported):
            raise NotSupportedError(f"INSERT into source table {write.table!r} can't replace or skip conflicting rows")


def rows_query(write: Write, columns: Sequence[str] | None) -> exp.Select:
    """The rows an INSERT writes, in order; its columns are `columns` (plus `ORDINAL` for a VALUES list, whose
    values come as text)."""
    check_insert(write)
    source = write.statement.expression
    if not isinstance(source, exp.Values) or columns is None:
        select = exp.select("*").from_(
            exp.Subquery(this=source.copy(), alias=exp.TableAlias(this=exp.to_identifier("__duckfed_values")))
        )
        return _with(write, select)
    rows: list[exp.Expr] = []
    for ordinal, values in enumerate(value_rows(write, columns)):
        # As text, so DuckDB does not unify a column's types across rows (1 and 'many' fail as a whole);
        # each value is then cast to its column's type on its own, and one that does not fit is named.
        cells = [exp.Cast(this=v.copy(), to=_TEXT.copy()) for v in values]
        rows.append(exp.Tuple(expressions=[*cells, exp.Literal.number(ordinal)]))
    names = [*columns, ORDINAL]
    alias = exp.TableAlias(
        this=exp.to_identifier("__duckfed_values"), columns=[exp.to_identifier(n, quoted=True) for n in names]
    )
    derived = exp.Values(expressions=rows, alias=alias)
    return _with(write, exp.select("*").from_(derived).order_by(exp.column(ORDINAL, quoted=True)))


def value_rows(write: Write, columns: Sequence[str]) -> list[list[exp.Expr]]:
    """The expressions of each row of an INSERT's VALUES list, checked against its column list."""
    source = write.statement.expression
    assert isinstance(source, exp.Values)
    rows = []
    for number, row in enumerate(source.expressions, start=1):
        values = list(row.expressions) if isinstance(row, exp.Tuple) else [row]
        if len(values) != len(columns):
            raise ProgrammingError(f"INSERT has {len(values)} values in row {number} for {len(columns)} target columns")
        rows.append(values)
    return rows


def maybe_null(write: Write, columns: Sequence[str]) -> frozenset[str]:
    """The columns of an `INSERT … VALUES` whose every value is NULL or a parameter (so may turn out NULL)."""
    source = write.statement.expression
    if not isinstance(source, exp.Values):
        return frozenset()
    rows = value_rows(write, columns)
    return frozenset(
        name for i, name in enumerate(columns) if all(isinstance(row[i], exp.Null | exp.Placeholder) for row in rows)
    )


def bare_placeholders(write: Write, columns: Sequence[str]) -> list[list[str]] | None:
    """For `INSERT … VALUES ($1, $2), …` whose every value is a placeholder (what executemany and SQLAlchemy
    send), each row's placeholder keys: the rows are then the parameters themselves. None otherwise."""
    source = write.statement.expression
    if not isinstance(source, exp.Values) or write.statement.args.get("with_") is not None:
        return None
    rows = value_rows(write, columns)
    if not all(isinstance(v, exp.Placeholder) for row in rows for v in row):
        return None
    return [[str(v.this) for v in row] for row in rows]


def _from(write: Write) -> list[exp.Expr]:
    """The target and every other table the statement reads (UPDATE … FROM, DELETE … USING)."""
    tables: list[exp.Expr] = [write.target.copy()]
    statement = write.statement
    if isinstance(statement, exp.Update) and statement.args.get("from_") is not None:
        tables.append(statement.args["from_"].this.copy())
    if isinstance(statement, exp.Delete):
        tables.extend(t.copy() for t in statement.args.get("using") or ())
    return tables


def resolve_query(write: Write, key: str, values: Sequence[exp.Expr], extra: Sequence[str]) -> exp.Select:
    """`SELECT key, values…, extra columns… FROM target [, other tables] WHERE …`: the rows an UPDATE or DELETE
    affects, evaluated by DuckDB (which pushes the WHERE clause to the API)."""
    qualifier = write.qualifier

    def column(name: str) -> exp.Column:
        return exp.column(exp.to_identifier(name, quoted=True), table=qualifier.copy())

    items: list[exp.Expr] = [exp.alias_(column(key), KEY, quoted=True)]
    items += [exp.alias_(v.copy(), f"__duckfed_set_{i}", quoted=True) for i, v in enumerate(values)]
    items += [exp.alias_(column(c), f"__duckfed_col_{i}", quoted=True) for i, c in enumerate(extra)]
    tables = _from(write)
    select = exp.select(*items).from_(tables[0])
    for table in tables[1:]:
        select = select.join(table)
    where = write.statement.args.get("where")
    if where is not None:
        select.set("where", where.copy())
    return _with(write, select)


def unscoped(write: Write) -> bool:
    """Whether an UPDATE or DELETE reaches every record of its target: it has no WHERE clause, or one that
    simplifies to TRUE (`WHERE 1 = 1`)."""
    where = write.statement.args.get("where")
    if where is None:
        return True
    from sqlglot.optimizer.simplify import simplify  # here: only an UPDATE or DELETE needs the optimizer

    with _quietly():
        simplified = simplify(where.this.copy(), dialect=DIALECT)
    return isinstance(simplified, exp.Boolean) and simplified.this is True


def pinned_key(write: Write, key: str) -> exp.Expr | None:
    """For `UPDATE/DELETE … WHERE key = <expression of parameters and constants>` (what the ORM sends), that
    expression: the statement then touches at most that one record, so many of them can be batched."""
    statement = write.statement
    if any(statement.args.get(a) for a in ("from_", "using", "with_", "returning")):
        return None
    where = statement.args.get("where")
    condition = where.this if where is not None else None
    if not isinstance(condition, exp.EQ):
        return None
    qualifier = write.qualifier.name.lower()
    for column, other in ((condition.this, condition.expression), (condition.expression, condition.this)):
        if (
            isinstance(column, exp.Column)
            and column.name.lower() == key.lower()
            and (not column.table or column.table.lower() in (qualifier, write.table.lower()))
            and _constant(other)
            and all(_constant(v) for _, v in (write.assignments() if write.kind is Kind.UPDATE else ()))
        ):
            found: exp.Expr = other
            return found
    return None


def _constant(node: exp.Expr) -> bool:
    """Whether `node` reads no column and no table: its value depends only on the parameters."""
    return node.find(exp.Column, exp.Query, exp.Star) is None


def constant_query(expressions: Sequence[exp.Expr]) -> exp.Select:
    """`SELECT e0, e1, …` without FROM, for expressions that read no table; as text, so that every parameter
    set gives the same types (they are cast to the columns' afterwards)."""
    return exp.select(
        *(
            exp.alias_(exp.Cast(this=e.copy(), to=_TEXT.copy()), f"__duckfed_set_{i}", quoted=True)
            for i, e in enumerate(expressions)
        )
    )


def returning_query(write: Write, relation: str) -> exp.Select:
    """The statement's RETURNING list as a SELECT over `relation`, a table of the written rows."""
    items = []
    for expression in write.returning():
        copy = expression.copy()
        for column in copy.find_all(exp.Column):
            for part in ("table", "db", "catalog"):
                column.set(part, None)
        items.append(copy)
    return exp.select(*items).from_(exp.to_table(relation))
