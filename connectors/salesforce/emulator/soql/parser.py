"""The SOQL parser: recursive descent from tokens to the ``Query`` tree, with the platform's grammar rules.

Clauses come in the platform's fixed order (SELECT, FROM, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET);
anything else is ``unexpected token``. Rules the platform enforces that a SQL parser would not:

- AND and OR never mix at one level without parentheses: ``a AND b OR c`` fails at the ``OR``.
- NOT negates a whole condition and must be parenthesized inside an AND/OR chain (``a AND (NOT b)``); observed
  on the platform as ``unexpected token: 'NOT'`` for ``a AND NOT b``. ``NOT a AND b`` is rejected the same way,
  at the AND, rather than guessing which reading was meant.
- ``COUNT()`` is a select list of its own; OFFSET is at most 2000; LIMIT precedes OFFSET.
"""

from __future__ import annotations

from .ast import (
    Aggregate,
    And,
    BooleanValue,
    Comparison,
    Condition,
    DateTimeValue,
    DateValue,
    FieldRef,
    FieldsFunction,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    Query,
    RelativeDate,
    SelectItem,
    SemiJoin,
    StringValue,
    Value,
)
from .errors import SoqlError, malformed, unexpected_token
from .lexer import Token, tokenize
from .literals import FIXED, WITH_N

MAX_OFFSET = 2000
MAX_FIELDS_LIMIT = 200
AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})
# Words that end a select item or the FROM object, so they are never taken for an alias.
_CLAUSE_WORDS = frozenset(
    {"FROM", "WHERE", "WITH", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FOR", "USING", "UPDATE", "ALL"}
)
# Words that can never name a field.
_RESERVED = _CLAUSE_WORDS | {"SELECT", "AND", "OR", "NOT", "NULL", "TRUE", "FALSE", "IN", "LIKE", "BY"}
_COMPARISONS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})


def parse(text: str) -> Query:
    """The syntax tree of the SOQL `text`; raises SoqlError for anything the platform would not parse."""
    if not text.strip():
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    parser = _Parser(text)
    query = parser.query(nested=False)
    if parser.peek().kind != "eof":
        raise parser.unexpected()
    return query


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- token helpers ------------------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        if token.kind != "eof":
            self.index += 1
        return token

    def is_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "ident" and token.text.upper() in words

    def is_op(self, *ops: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text in ops

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.peek()
        return unexpected_token(self.text, token.pos, token.text)

    def expect_word(self, word: str) -> Token:
        if not self.is_word(word):
            raise self.unexpected()
        return self.advance()

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.unexpected()
        return self.advance()

    def integer(self) -> int:
        token = self.advance()
        if token.kind != "number" or not isinstance(token.number, int) or not token.text.isdigit():
            raise self.unexpected(token)
        return token.number

    # -- query --------------------------------------------------------------------------------------------------

    def query(self, *, nested: bool) -> Query:
        self.expect_word("SELECT")
        select, aliases = self.select_list()
        self.expect_word("FROM")
        source = self.advance()
        if source.kind != "ident" or "." in source.text or source.text.upper() in _RESERVED:
            raise self.unexpected(source)
        alias = None
        if self.peek().kind == "ident" and self.peek().text.upper() not in _RESERVED:
            alias = self.advance().text
        where = None
        if self.is_word("WHERE"):
            self.advance()
            where = self.condition("subquery" if nested else "where")
        group_by: tuple[FieldRef, ...] = ()
        if self.is_word("GROUP"):
            self.advance()
            self.expect_word("BY")
            if self.is_word("ROLLUP", "CUBE") and self.is_op("(", ahead=1):
                raise malformed(
                    self.text, self.peek().pos, "GROUP BY ROLLUP and CUBE are not supported by the emulator"
                )
            group_by = self.field_list()
        having = None
        if self.is_word("HAVING"):
            self.advance()
            having = self.condition("having")
        order_by = self.order_by() if self.is_word("ORDER") else ()
        limit = limit_token = None
        if self.is_word("LIMIT"):
            limit_token = self.advance()
            limit = self.integer()
        offset = None
        if self.is_word("OFFSET"):
            self.advance()
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        query = Query(
            self.text, select, source.text, source.pos, alias, where, group_by, having, order_by, limit, offset
        )
        self.check(query, aliases, limit_token)
        return query

    def check(self, query: Query, aliases: list[Token], limit_token: Token | None) -> None:
        """Rules about the SELECT list that need the whole query; `aliases` are the alias tokens in order."""
        if query.is_count and query.group_by:
            # UNCONFIRMED wording; the docs only say to use COUNT(fieldName) with GROUP BY.
            raise malformed(self.text, query.group_by[0].pos, "COUNT() cannot be used with GROUP BY")
        if not query.is_aggregate:
            if aliases:
                raise self.unexpected(aliases[0])  # only aggregate queries name their columns
        elif not query.group_by and limit_token is not None:
            # Documented restriction; wording as the platform reports it in Apex.
            raise malformed(
                self.text,
                limit_token.pos,
                "Non-grouped query that uses overall aggregate functions cannot also use LIMIT",
            )
        fields_kinds = {i.expression.kind for i in query.select if isinstance(i.expression, FieldsFunction)}
        if fields_kinds - {"STANDARD"} and (query.limit is None or query.limit > MAX_FIELDS_LIMIT):
            # FIELDS(ALL) and FIELDS(CUSTOM) are "unbounded"; FIELDS(STANDARD) needs no LIMIT.
            raise SoqlError(
                "MALFORMED_QUERY", f"The SOQL FIELDS function must have a LIMIT of at most {MAX_FIELDS_LIMIT}"
            )
        seen: set[str] = set()
        for token in aliases:
            if token.text.lower() in seen:
                raise malformed(self.text, token.pos, f"duplicate alias: {token.text}")
            seen.add(token.text.lower())

    def select_list(self) -> tuple[tuple[SelectItem, ...], list[Token]]:
        """The SELECT items, and the tokens of the aliases among them."""
        if self.is_word("COUNT") and self.is_op("(", ahead=1) and self.is_op(")", ahead=2):
            count = self.advance()
            self.advance()
            self.advance()
            if not self.is_word("FROM"):
                raise self.unexpected()  # COUNT() is the whole select list
            return (SelectItem(Aggregate("COUNT", None, count.pos)),), []
        items: list[SelectItem] = []
        aliases: list[Token] = []
        while True:
            item = self.select_item()
            if self.peek().kind == "ident" and self.peek().text.upper() not in _RESERVED:
                if isinstance(item.expression, FieldsFunction):
                    raise self.unexpected()
                aliases.append(self.advance())
                item = SelectItem(item.expression, aliases[-1].text)
            items.append(item)
            if not self.is_op(","):
                return tuple(items), aliases
            self.advance()

    def select_item(self) -> SelectItem:
        token = self.peek()
        if self.is_op("("):
            raise malformed(self.text, token.pos, "child relationship subqueries are not supported by the emulator")
        if token.kind == "ident" and self.is_op("(", ahead=1):
            name = token.text.upper()
            if name == "FIELDS":
                self.advance()
                self.advance()
                if not self.is_word("ALL", "STANDARD", "CUSTOM"):
                    raise self.unexpected()
                kind = self.advance().text.upper()
                self.expect_op(")")
                return SelectItem(FieldsFunction(kind, token.pos))
            if name in AGGREGATES:
                return SelectItem(self.aggregate())
            raise self.unexpected(self.peek(1))  # toLabel(), FORMAT(), date functions: not emulated
        return SelectItem(self.field_ref())

    def aggregate(self) -> Aggregate:
        name = self.advance()
        self.expect_op("(")
        argument = self.field_ref()
        self.expect_op(")")
        return Aggregate(name.text.upper(), argument, name.pos)

    def field_ref(self) -> FieldRef:
        token = self.advance()
        if token.kind != "ident" or token.text.upper() in _RESERVED:
            raise self.unexpected(token)
        return FieldRef(tuple(token.text.split(".")), token.pos)

    def field_list(self) -> tuple[FieldRef, ...]:
        fields = [self.field_ref()]
        while self.is_op(","):
            self.advance()
            fields.append(self.field_ref())
        return tuple(fields)

    def order_by(self) -> tuple[OrderItem, ...]:
        self.advance()
        self.expect_word("BY")
        items: list[OrderItem] = []
        while True:
            target = self.target(aggregates=True)
            descending = False
            if self.is_word("ASC", "DESC"):
                descending = self.advance().text.upper() == "DESC"
            nulls_first = None
            if self.is_word("NULLS"):
                self.advance()
                if not self.is_word("FIRST", "LAST"):
                    raise self.unexpected()
                nulls_first = self.advance().text.upper() == "FIRST"
            items.append(OrderItem(target, descending, nulls_first))
            if not self.is_op(","):
                return tuple(items)
            self.advance()

    def target(self, *, aggregates: bool) -> FieldRef | Aggregate:
        """A field, or (where `aggregates` is allowed) an aggregate call, as the subject of a condition or sort."""
        if aggregates and self.peek().text.upper() in AGGREGATES and self.is_op("(", ahead=1):
            return self.aggregate()
        return self.field_ref()

    # -- conditions ---------------------------------------------------------------------------------------------

    def condition(self, context: str) -> Condition:
        """A WHERE or HAVING condition; `context` is "where", "subquery" (a semi-join's WHERE) or "having"."""
        if self.is_word("NOT"):
            self.advance()
            operand = self.simple(context)
            if self.is_word("AND", "OR"):
                raise self.unexpected()
            return Not(operand)
        first = self.simple(context)
        if not self.is_word("AND", "OR"):
            return first
        joiner = self.peek().text.upper()
        operands = [first]
        while self.is_word(joiner):
            self.advance()
            if self.is_word("NOT"):
                raise self.unexpected()
            operands.append(self.simple(context))
        if self.is_word("AND", "OR"):
            raise self.unexpected()  # the other joiner at the same level
        return And(tuple(operands)) if joiner == "AND" else Or(tuple(operands))

    def simple(self, context: str) -> Condition:
        if self.is_op("("):
            self.advance()
            inner = self.condition(context)
            self.expect_op(")")
            return inner
        return self.comparison(context)

    def comparison(self, context: str) -> Condition:
        target = self.target(aggregates=context == "having")
        operator = self.peek()
        if self.is_op(*_COMPARISONS) or self.is_word("LIKE"):
            self.advance()
            name = {"<>": "!=", "like": "LIKE"}.get(operator.text.lower(), operator.text)
            return Comparison(target, name, (self.value(),), operator.pos)
        if self.is_word("NOT") and self.is_word("IN", ahead=1):
            self.advance()
            name = "NOT_IN"
        elif self.is_word("IN", "INCLUDES", "EXCLUDES"):
            name = operator.text.upper()
        else:
            raise self.unexpected()
        self.advance()
        self.expect_op("(")
        if name in ("IN", "NOT_IN") and self.is_word("SELECT"):
            return self.semi_join(target, name == "NOT_IN", context)
        values = [self.value()]
        while self.is_op(","):
            self.advance()
            values.append(self.value())
        self.expect_op(")")
        return Comparison(target, name, tuple(values), operator.pos)

    def semi_join(self, target: FieldRef | Aggregate, negated: bool, context: str) -> SemiJoin:
        select = self.peek()
        if context == "subquery":
            raise malformed(self.text, select.pos, "Nesting of semi join sub-selects is not supported")
        if context == "having" or isinstance(target, Aggregate):
            raise self.unexpected(select)
        inner = self.query(nested=True)
        self.expect_op(")")
        return SemiJoin(target, negated, inner)

    def value(self) -> Value:
        token = self.advance()
        if token.kind == "string":
            return StringValue(token.string, token.pattern, token.pos)
        if token.kind == "number":
            return NumberValue(token.number, token.pos)
        if token.kind == "date":
            return DateValue(token.string, token.pos)
        if token.kind == "datetime":
            return DateTimeValue(token.string, token.pos)
        word = token.text.upper() if token.kind == "ident" else ""
        if word in ("TRUE", "FALSE"):
            return BooleanValue(word == "TRUE", token.pos)
        if word == "NULL":
            return NullValue(token.pos)
        if word in FIXED:
            return RelativeDate(word, None, token.pos)
        if word in WITH_N:
            self.expect_op(":")
            return RelativeDate(word, self.integer(), token.pos)
        raise self.unexpected(token)
