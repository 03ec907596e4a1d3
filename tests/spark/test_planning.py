"""Partition planning and filter translation for the Spark data source, without a Spark session: tables split by
key range only where they declare one, IN lists split into disjoint chunks, offset-paged tables read in one scan,
and Spark's filters become predicates only where they state exactly what Spark means."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

pytest.importorskip("pyspark.sql.datasource")

from pyspark.sql import datasource as spark

from federation.connector import Connector
from federation.errors import ConfigurationError
from federation.predicates import Comparison, InList, IsNull, Not, Operator
from federation.registry import open_source
from federation.sandbox import Sandbox
from federation.spark.filters import translate
from federation.spark.partitions import plan


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=1000, sources=["template", "acton"]) as running:
        yield running


@pytest.fixture()
def template(sandbox: Sandbox) -> Iterator[Connector]:
    connector = open_source(sandbox.url("template"))
    yield connector
    connector.close()


def test_a_key_range_table_is_cut_into_disjoint_ranges_covering_every_key(template: Connector) -> None:
    planned = plan(template.table("contacts"), None, requested=3, cap=10, budget=None)
    bounds = [(s.lower, s.upper) for s in planned.slices]
    # Open at both ends, so a record created outside [MIN, MAX] while the job runs is still read once.
    assert bounds == [(None, 334), (334, 667), (667, None)]
    assert planned.method == "key range on id" and planned.estimated_rows == 1000
    # Twice the calls expected: 334 rows at 500 a page is one page, one short page, two metadata calls.
    assert planned.budget == 2 * (1 + 1 + 2)


def test_the_default_count_keeps_about_four_pages_a_partition(template: Connector) -> None:
    planned = plan(template.table("contacts"), None, requested=None, cap=10, budget=None)
    assert len(planned.slices) == 1  # 1,000 rows are two pages: not worth splitting


def test_an_in_list_becomes_disjoint_chunks(template: Connector) -> None:
    predicate = InList("city", ("Paris", "Lyon", "Oslo", "Paris", "Rome", "Bern"))
    planned = plan(template.table("contacts"), predicate, requested=2, cap=10, budget=None)
    chunks = [s.values for s in planned.slices]
    assert chunks == [("Paris", "Lyon", "Oslo"), ("Rome", "Bern")]


def test_more_partitions_than_the_rate_limit_allows_at_once_are_refused(template: Connector) -> None:
    with pytest.raises(ConfigurationError, match="at most 10"):
        plan(template.table("contacts"), None, requested=11, cap=10, budget=None)


def test_an_offset_paged_table_is_read_in_one_scan(sandbox: Sandbox) -> None:
    acton = open_source(sandbox.url("acton"))
    try:
        planned = plan(acton.table("List_Newsletter"), None, requested=4, cap=5, budget=None)
    finally:
        acton.close()
    assert len(planned.slices) == 1 and "offsets, which skip or repeat records" in planned.method


def test_spark_filters_translate_only_where_they_state_spark_meaning_exactly(template: Connector) -> None:
    info = template.table("contacts").info
    aware = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert translate(spark.EqualTo(("ID",), 5), info) == Comparison("id", Operator.EQ, 5)
    assert translate(spark.Not(spark.LessThan(("score",), 3)), info) == Not(Comparison("score", Operator.LT, 3))
    assert translate(spark.In(("city",), ("Paris", None)), info) == InList("city", ("Paris",))
    assert translate(spark.IsNotNull(("email",)), info) == IsNull("email", negated=True)
    assert translate(spark.GreaterThan(("updated_at",), aware), info) == Comparison(
        "updated_at", Operator.GT, datetime.datetime(2024, 1, 1, 10, tzinfo=datetime.UTC)
    )
    untranslated = [
        spark.EqualTo(("id",), "5"),  # a value of another type: Spark's cast decides what it means
        spark.EqualTo(("id",), True),
        spark.GreaterThan(("updated_at",), aware.replace(tzinfo=None)),  # the session time zone decides
        spark.EqualNullSafe(("id",), 5),  # its NOT keeps NULLs, which != drops
        spark.StringStartsWith(("name",), "A"),
        spark.EqualTo(("company", "id"), 5),
        spark.EqualTo(("nope",), 5),
    ]
    assert [translate(f, info) for f in untranslated] == [None] * len(untranslated)
