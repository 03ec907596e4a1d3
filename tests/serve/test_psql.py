"""psql against `duckfed serve`: queries, writes through duckfed's DML routing, the hostile statements a client
might try (each refused with a clear error, and nothing changed for the next client), and a wrong password."""

from __future__ import annotations

import os
import subprocess

import pytest

from federation.connection import Connection
from tests.serve.conftest import Served

PSQL = "/usr/bin/psql"


def psql(served: Served, *commands: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [PSQL, served.dsn(password), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for command in commands:
        argv += ["-c", command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


def test_queries_equal_the_same_queries_in_process(served: Served, local: Connection) -> None:
    query = (
        'SELECT "Id", "Name", "AnnualRevenue", "IsDeleted" FROM fin."Account" '
        'WHERE "Industry" = \'Banking\' ORDER BY "Id"'
    )
    done = psql(served, query)
    assert done.returncode == 0, done.stderr
    expected = local.execute(query).fetchall()
    rendered = [
        "|".join(("" if v is None else "t" if v is True else "f" if v is False else str(v)) for v in row)
        for row in expected
    ]
    assert done.stdout.splitlines() == rendered
    assert len(rendered) > 1


def test_writes_go_through_duckfeds_dml_routing(served: Served) -> None:
    store = served.sandbox.server("template").store
    done = psql(
        served,
        "INSERT INTO tpl.contacts (name, email, city) VALUES ('Served Person', 'served@example.com', 'Ghent')",
        "UPDATE tpl.contacts SET city = 'Bruges' WHERE name = 'Served Person'",
    )
    assert done.returncode == 0, done.stderr
    held = [r for r in store.tables["contacts"].values() if r["name"] == "Served Person"]
    assert [r["city"] for r in held] == ["Bruges"]
    deleted = psql(served, "DELETE FROM tpl.contacts WHERE name = 'Served Person' RETURNING name")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.splitlines() == ["Served Person", "DELETE 1"]
    assert not [r for r in store.tables["contacts"].values() if r["name"] == "Served Person"]


def test_an_unscoped_delete_is_refused_by_the_dml_guards(served: Served) -> None:
    done = psql(served, "DELETE FROM tpl.contacts")
    assert done.returncode != 0
    assert "AllowUnscopedWrites" in done.stderr


HOSTILE = {
    "SELECT * FROM read_csv('/etc/passwd')": "table functions",
    "SELECT * FROM read_text('/etc/passwd')": "table functions",
    "COPY (SELECT 1) TO '/tmp/duckfed-stolen.csv'": "COPY is not allowed",
    'COPY fin."Account" TO STDOUT': "COPY is not allowed",
    "ATTACH '/tmp/duckfed-other.db' AS other": "ATTACH is not allowed",
    "INSTALL httpfs": "INSTALL is not allowed",
    "LOAD httpfs": "LOAD is not allowed",
    "SET threads = 1": "SET is not allowed",
    "RESET threads": "is not allowed",
    "PRAGMA enable_profiling": "is not allowed",
    'CREATE OR REPLACE VIEW fin."Account" AS SELECT 1 AS x': "CREATE is not allowed",
    "CREATE TABLE mine AS SELECT 1 AS x": "CREATE is not allowed",
    'DROP VIEW fin."Account"': "DROP is not allowed",
    "EXPORT DATABASE '/tmp/duckfed-export'": "can't be read as a SELECT",
    "SELECT * FROM duckdb_settings()": "table functions",
    "SELECT * FROM duckdb_tables()": "table functions",
    "SELECT current_setting('threads')": "current_setting() reads the server's own state",
    "SELECT * FROM information_schema.tables": "no served table",
    'SELECT * FROM main."_duckfed_fin_Account"': "no served table",
    'SELECT * FROM "_duckfed_fin_Account"': "no served table",
    'SELECT * FROM memory.fin."Account"': "names another database",
    'SELECT * FROM fin."Account" UNION ALL SELECT * FROM pg_catalog.pg_settings': "no served table",
    "SELECT * FROM duckdb_secrets()": "table functions",
    "CALL pragma_version()": "is not allowed",
    "DETACH memory": "is not allowed",
    "CHECKPOINT": "is not allowed",
}


@pytest.mark.parametrize("statement", list(HOSTILE))
def test_hostile_statements_are_refused_with_a_clear_error(served: Served, statement: str) -> None:
    done = psql(served, statement)
    assert done.returncode != 0
    assert HOSTILE[statement] in done.stderr, done.stderr


def test_after_every_hostile_statement_the_served_tables_are_unchanged(served: Served, local: Connection) -> None:
    psql(served, 'CREATE OR REPLACE VIEW fin."Account" AS SELECT 1 AS x')
    done = psql(served, 'SELECT count(*) FROM fin."Account"', "SELECT count(*) FROM tpl.contacts")
    assert done.returncode == 0, done.stderr
    expected = [
        local.execute("SELECT count(*) FROM fin.Account").fetchone(),
        local.execute("SELECT count(*) FROM tpl.contacts").fetchone(),
    ]
    assert done.stdout.splitlines() == [str(row[0]) for row in expected if row is not None]
    assert not os.path.exists("/tmp/duckfed-stolen.csv")


def test_a_wrong_password_is_refused(served: Served) -> None:
    done = psql(served, "SELECT 1", password="not-the-password")
    assert done.returncode != 0
    assert 'password authentication failed for user "duckfed"' in done.stderr
    assert "not-the-password" not in done.stderr
