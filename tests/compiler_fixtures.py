"""What every query-compiler fixture test shares: the predicate constructors a fixture file writes its predicates
with, and the file's cases (a `-- title` line, the predicate, the expected output, blocks separated by a blank
line)."""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path
from typing import Any

from federation.predicates import And, Comparison, InList, IsNull, Like, Not, Operator, Or, Predicate, like_pattern

CONSTRUCTORS: dict[str, Any] = {
    "Comparison": Comparison,
    "InList": InList,
    "IsNull": IsNull,
    "And": And,
    "Or": Or,
    "Not": Not,
    "Like": Like,
    "like": like_pattern,
    "Op": Operator,
    "Decimal": decimal.Decimal,
    "date": datetime.date,
    "datetime": datetime.datetime,
    "UTC": datetime.UTC,
    "float": float,
}


def fixture_cases(path: Path) -> list[tuple[str, str, str]]:
    """(title, predicate source, expected) for every case of a fixture file."""
    found = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        title, source, expected = block.strip().split("\n")
        assert title.startswith("-- "), f"{path.name}: a case starts with a -- title"
        found.append((title.removeprefix("-- "), source, expected))
    return found


def predicate(source: str) -> Predicate | None:
    """The predicate a fixture writes (`None` for none): the file is ours, constructors only."""
    value: Predicate | None = eval(source, {"__builtins__": {}, **CONSTRUCTORS})
    return value
