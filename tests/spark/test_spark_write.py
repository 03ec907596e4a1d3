"""`df.write.format("duckfed")` against the Certinia sandbox with a local Spark session that retries a failed
task once (`local[2,2]`): rows upsert by an external-Id field in batches, and a task that failed after some of
its records were written runs again without duplicating any."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

import federation
from federation.sandbox import Sandbox

pytest.importorskip("pyspark.sql.datasource")

from pyspark.sql import SparkSession

from federation.spark import register

TABLE = "pse__Proj__c"
KEY = "pse__Project_ID__c"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=100, sources=["certinia"]) as running:
        yield running


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # Spark's Python workers run this environment's interpreter
    session = (
        SparkSession.builder.master("local[2,2]")  # a failed task is tried once more
        .appName("duckfed-write-tests")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    register(session)
    yield session
    session.stop()
    if previous is None:
        del os.environ["PYSPARK_PYTHON"]
    else:
        os.environ["PYSPARK_PYTHON"] = previous


def _projects(sandbox: Sandbox, prefix: str) -> list[tuple[str, str, int]]:
    with federation.connect({"psa": sandbox.url("certinia")}) as con:
        rows: list[tuple[str, str, int]] = con.execute(
            f"SELECT {KEY}, Name, count(*) OVER (PARTITION BY {KEY}) FROM psa.{TABLE} "
            f"WHERE {KEY} ILIKE $1 ORDER BY {KEY}",
            [f"{prefix}%"],
        ).fetchall()
    return rows


def test_a_task_failed_once_and_retried_leaves_no_duplicate(spark: SparkSession, sandbox: Sandbox) -> None:
    rows = [(f"SPARK-{i:04d}", f"Spark project {i}") for i in range(600)]
    frame = spark.createDataFrame(rows, f"{KEY} string, Name string").repartition(2)
    server = sandbox.server("certinia")
    server.reset_counts()
    # The second upsert call is written by the API, but its answer is lost: with MaxRetries=1 its task fails,
    # and Spark runs the task again from its first row.
    server.inject(500, kinds={"composite_upsert"}, after_processing=True, skip=1)
    url = sandbox.url("certinia") + "&MaxRetries=1"
    spark.sparkContext.setJobGroup("upsert", "a write whose task fails once")
    frame.write.format("duckfed").option("url", url).option("table", TABLE).mode("append").save()
    tracker = spark.sparkContext.statusTracker()
    stages = [s for job in tracker.getJobIdsForGroup("upsert") for s in tracker.getJobInfo(job).stageIds]
    assert sum(tracker.getStageInfo(stage).numFailedTasks for stage in stages) == 1

    upserts = server.calls_by_kind["composite_upsert"]
    assert upserts > 600 // 200 + 1  # a task was run again: more calls than one pass of 200-record batches
    written = _projects(sandbox, "SPARK-")
    assert [(key, name) for key, name, _ in written] == sorted(rows)
    assert {count for _, _, count in written} == {1}


def test_writing_again_updates_the_same_records(spark: SparkSession, sandbox: Sandbox) -> None:
    first = spark.createDataFrame([("AGAIN-1", "First name")], f"{KEY} string, Name string")
    second = spark.createDataFrame([("again-1", "Second name")], f"{KEY} string, Name string")
    for frame in (first, second):
        frame.write.format("duckfed").option("url", sandbox.url("certinia")).option("table", TABLE).option(
            "key", KEY
        ).mode("append").save()
    # External Ids match case-insensitively (the field is not case-sensitive): one record, updated.
    assert [(name, count) for _, name, count in _projects(sandbox, "AGAIN-")] == [("Second name", 1)]


def test_a_column_the_api_cant_write_and_an_unknown_key_are_refused(spark: SparkSession, sandbox: Sandbox) -> None:
    frame = spark.createDataFrame([("X-1", "x")], f"{KEY} string, CreatedDate string")
    writer = frame.write.format("duckfed").option("url", sandbox.url("certinia")).option("table", TABLE)
    with pytest.raises(Exception, match=r"can't be written in column.*CreatedDate"):
        writer.mode("append").save()
    with pytest.raises(Exception, match=r"option key='Name'.*can upsert only by pse__Project_ID__c"):
        writer.option("key", "Name").mode("append").save()
