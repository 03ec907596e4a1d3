"""`spark.read.format("duckfed")` against the template sandbox with a local Spark session (`local[2]`): a read in
partitions equals the DuckDB read, its partitions are disjoint and cost about one scan's API calls, filters are
pushed and change no result, and bad options get clear errors. One session for the module (Spark's start is
the slow part)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

import federation
from federation.sandbox import Sandbox

pytest.importorskip("pyspark.sql.datasource")

from pyspark.sql import SparkSession
from pyspark.sql.functions import spark_partition_id

from federation.spark import register

RECORDS = 10_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=["template"]) as running:
        yield running


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # Spark's Python workers run this environment's interpreter
    session = (
        SparkSession.builder.master("local[2]")
        .appName("duckfed-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    register(session)
    yield session
    session.stop()
    if previous is None:
        del os.environ["PYSPARK_PYTHON"]
    else:
        os.environ["PYSPARK_PYTHON"] = previous


def _reader(spark: SparkSession, sandbox: Sandbox, **options: str) -> Any:
    reader = spark.read.format("duckfed").option("url", sandbox.url("template")).option("table", "contacts")
    for name, value in options.items():
        reader = reader.option(name, value)
    return reader


def _duckdb(sandbox: Sandbox, where: str = "") -> pa.Table:
    with federation.connect({"t": sandbox.url("template")}) as con:
        table: pa.Table = con.sql(f"SELECT * FROM t.contacts {where} ORDER BY id").to_arrow_table()
    return table


def test_a_read_in_four_partitions_equals_the_duckdb_read_with_disjoint_partitions(
    spark: SparkSession, sandbox: Sandbox
) -> None:
    server = sandbox.server("template")
    server.reset_counts()
    expected = _duckdb(sandbox)
    one_scan = server.calls_by_kind["records"]
    server.reset_counts()
    frame = _reader(spark, sandbox, partitions="4").load()
    read = frame.withColumn("part", spark_partition_id()).toArrow()
    calls = dict(server.calls_by_kind)

    assert frame.rdd.getNumPartitions() == 4
    parts = read.group_by("part").aggregate([("id", "count"), ("id", "min"), ("id", "max")]).sort_by("part")
    assert parts.column("id_count").to_pylist() == [2500] * 4
    mins, maxes = parts.column("id_min").to_pylist(), parts.column("id_max").to_pylist()
    assert all(high < low for high, low in zip(maxes, mins[1:], strict=False))  # disjoint key ranges
    assert read.num_rows == RECORDS == len(set(read.column("id").to_pylist()))
    got = read.drop_columns(["part"]).sort_by("id")
    assert got.cast(expected.schema).equals(expected)
    # About one scan's worth: each partition's last, short page is one call more than one scan's; one aggregate
    # call gave the key's bounds; executors made no token call.
    assert one_scan == RECORDS // 500 + 1
    assert calls["records"] <= one_scan + 4
    assert calls.get("aggregate") == 1 and calls.get("token", 0) == 0


def test_filters_are_pushed_and_change_no_result(spark: SparkSession, sandbox: Sandbox) -> None:
    server = sandbox.server("template")
    where = "city = 'Paris' AND id > 100 AND score IS NOT NULL AND name NOT LIKE '%x%'"
    expected = _duckdb(sandbox, f"WHERE {where}")
    server.reset_counts()
    got = _reader(spark, sandbox, partitions="2").load().where(where).toArrow().sort_by("id")
    assert got.num_rows == expected.num_rows > 0
    assert got.cast(expected.schema).equals(expected)
    # The filter went to the API: one page per partition instead of ten.
    assert server.calls_by_kind["records"] == 2


def test_an_in_list_is_read_in_one_partition_per_chunk(spark: SparkSession, sandbox: Sandbox) -> None:
    frame = _reader(spark, sandbox, partitions="3").load().where("id IN (5, 17, 250, 4000, 9999, 17)")
    assert frame.rdd.getNumPartitions() == 3
    assert sorted(r.id for r in frame.select("id").collect()) == [5, 17, 250, 4000, 9999]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"table": None}, "option 'table' is required"),
        ({"partiton": "4"}, "unknown option 'partiton'.*did you mean 'partitions'"),
        ({"partitions": "0"}, "option 'partitions' takes a whole number of at least 1"),
        ({"partitions": "50"}, "partitions=50 is more than the rate limit .* lets call at once: at most 10"),
        ({"table": "contcts"}, "no table 'contcts'"),
        ({"callsPerPartition": "2", "partitions": "1"}, "spent .* API calls, more than its budget of 2"),
    ],
)
def test_bad_options_get_clear_errors(
    spark: SparkSession, sandbox: Sandbox, options: dict[str, str | None], message: str
) -> None:
    reader = spark.read.format("duckfed").option("url", sandbox.url("template"))
    given = {"table": "contacts", **options}
    for name, value in given.items():
        if value is not None:
            reader = reader.option(name, value)
    with pytest.raises(Exception, match=message):
        reader.load().collect()


def test_writing_a_table_without_an_external_key_is_refused(spark: SparkSession, sandbox: Sandbox) -> None:
    frame = spark.createDataFrame([("Ada", "ada@example.com")], "name string, email string")
    writer = frame.write.format("duckfed").option("url", sandbox.url("template")).option("table", "contacts")
    with pytest.raises(Exception, match="no external key to upsert by, and Spark re-runs failed tasks"):
        writer.mode("append").save()
    with pytest.raises(Exception, match=r"use .mode..append..*not overwrite"):
        writer.mode("overwrite").save()
