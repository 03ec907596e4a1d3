"""COUNT(*) from Act-On's `totalCount`: one call of one record per listing (per message type for Messages), the
same count DuckDB finds over a scan, and no pushed count where the API can't state the filter exactly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import federation
from federation.connection import Connection
from federation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=300, sources=["acton"]) as running:
        yield running


@pytest.fixture(scope="module")
def con(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    props = {**sandbox.properties("acton"), "scheme": "acton", "RateLimit": "10000/second"}
    props["MetadataCacheDir"] = str(tmp_path_factory.mktemp("cache"))
    with federation.connect({"src": props, "ref": {**props, "Pushdown": "false"}}) as connection:
        for table in ("Messages", "Lists", "List_Newsletter"):
            connection.execute(f"SELECT * FROM src.{table} LIMIT 1").fetchall()
            connection.execute(f"SELECT * FROM ref.{table} LIMIT 1").fetchall()
        yield connection


COUNTS = [
    # (statement, calls with pushdown)
    ("SELECT count(*) FROM src.List_Newsletter", 1),
    ("SELECT count(*) FROM src.Lists", 1),
    ("SELECT count(*) FROM src.Messages", 6),  # one listing per message type
    ("SELECT count(*) FROM src.Messages WHERE MsgType IN ('SENT', 'DRAFT')", 2),
    ("SELECT count(*) FROM src.Messages WHERE MsgType = 'SENT' OR MsgType = 'nothing'", 1),
    ("SELECT count(*) FROM src.Messages WHERE MsgType = 'sent'", 0),  # no type is spelled so: nothing to ask
]


@pytest.mark.parametrize(("sql", "calls"), COUNTS)
def test_a_count_is_one_call_per_listing(sandbox: Sandbox, con: Connection, sql: str, calls: int) -> None:
    server = sandbox.server("acton")
    before = server.calls
    pushed = con.execute(sql).fetchall()
    assert server.calls - before == calls
    assert pushed == con.execute(sql.replace("src.", "ref.")).fetchall()


def test_a_count_the_api_cant_state_is_counted_by_duckdb(con: Connection) -> None:
    sql = "SELECT count(*) FROM src.Messages WHERE MsgType = 'SENT' AND Name LIKE 'A%'"
    assert con.execute(sql).fetchall() == con.execute(sql.replace("src.", "ref.")).fetchall()
