"""The `query` filter compiler against fixture files: a predicate in, the exact `<filter>` XML out.

Each case in `fixtures/filter.txt` is three lines after a `--` title: a predicate written with our predicate
constructors (`None` for no predicate) and the XML expected (`None`: no filter element). Timestamps are
compiled for a company in America/New_York.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
import zoneinfo
from pathlib import Path

import pytest

from connectors.sageintacct.query import MAX_IN, compile_filter, query
from connectors.sageintacct.types import column_name
from federation.predicates import InList, negation_normal_form

from ...compiler_fixtures import fixture_cases
from ...compiler_fixtures import predicate as written

FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = (
    "RECORDNO",
    "NAME",
    "COMMENTS",
    "TOTALDUE",
    "LASTINVOICEDATE",
    "ONHOLD",
    "WHENMODIFIED",
    "DISPLAYCONTACT.EMAIL1",
)
FIELD_OF = {column_name(f): f for f in FIELDS}.__getitem__
ZONE = zoneinfo.ZoneInfo("America/New_York")


def cases() -> list[tuple[str, str, str]]:
    return fixture_cases(FIXTURES / "filter.txt")


@pytest.mark.parametrize(("title", "predicate", "expected"), cases(), ids=[c[0] for c in cases()])
def test_filter_fixture(title: str, predicate: str, expected: str) -> None:
    tree = written(predicate)
    compiled = compile_filter(None if tree is None else negation_normal_form(tree), FIELD_OF, ZONE)
    assert str(compiled) == expected
    if compiled is not None:
        ElementTree.fromstring(compiled)  # well-formed, whatever the values held


def test_long_in_lists_are_split_into_lists_of_at_most_1000_values() -> None:
    values = tuple(range(2500))
    positive = ElementTree.fromstring(str(compile_filter(InList("Recordno", values), FIELD_OF, ZONE)))
    assert positive.tag == "or" and [len(e.findall("value")) for e in positive] == [MAX_IN, MAX_IN, 500]
    negative = ElementTree.fromstring(str(compile_filter(InList("Recordno", values, True), FIELD_OF, ZONE)))
    assert negative.tag == "and" and {e.tag for e in negative} == {"notin"}


def test_the_query_element_selects_orders_and_pages() -> None:
    text = query("CUSTOMER", ["NAME", "RECORDNO"], None, page_size=2000, order_by="RECORDNO")
    assert text == (
        "<query><object>CUSTOMER</object><select><field>NAME</field><field>RECORDNO</field></select>"
        "<orderby><order><field>RECORDNO</field><ascending/></order></orderby>"
        "<pagesize>2000</pagesize><offset>0</offset></query>"
    )
