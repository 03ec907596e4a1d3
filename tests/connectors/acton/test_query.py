"""What an Act-On request narrows, against fixture files: a predicate in, the values, window and emptiness out.

Each case in `fixtures/narrowing.txt` is a `--` title, a predicate written with our predicate constructors
(`None` for none) over the columns `email` (looked up) and `modified` (a time window, always filled), and the
JSON expected: `values` (sorted; null: not pinned), `window` (`[after, before]` Unix seconds) and `never`.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from connectors.acton.query import Window, never_holds, path_segment, texts, time_window, value_set
from federation.predicates import InList, negation_normal_form

from ...compiler_fixtures import fixture_cases
from ...compiler_fixtures import predicate as written

FIXTURES = Path(__file__).parent / "fixtures"


def cases() -> list[tuple[str, str, str]]:
    return fixture_cases(FIXTURES / "narrowing.txt")


@pytest.mark.parametrize(("title", "source", "expected"), cases(), ids=[c[0] for c in cases()])
def test_narrowing(title: str, source: str, expected: str) -> None:
    predicate = written(source)
    if predicate is not None:
        predicate = negation_normal_form(predicate)
    window = time_window(predicate, "modified")
    got = {
        "values": texts(value_set(predicate, "email")),
        "window": [window.after, window.before],
        "never": never_holds(predicate, frozenset({"modified"})),
    }
    assert got == orjson.loads(expected)


def test_non_text_values_are_not_looked_up() -> None:
    assert texts(value_set(InList("email", ("a", 1)), "email")) is None


def test_window_parameters_name_only_known_bounds() -> None:
    assert Window(10, None).params("modafter", "modbefore") == {"modafter": "10"}


@pytest.mark.parametrize("value", ["l-0001:12", "../image/x", "a?b#c", "50% /x", "l-0001:1&count=9"])
def test_a_path_segment_stays_one_segment(value: str) -> None:
    url = httpx.URL(f"https://api.actonsoftware.com/api/1/list/l-0001/record/{path_segment(value)}")
    segments = url.raw_path.split(b"/")
    assert len(segments) == 7 and not url.query
    assert httpx.URL(f"/x/{path_segment(value)}").path == f"/x/{value}"
