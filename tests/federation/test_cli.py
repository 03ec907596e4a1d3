"""The `duckfed` command, run in-process against sandboxes it starts itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from federation.cli import main
from federation.sandbox import Sandbox


def test_query_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "SELECT count(*) AS n FROM financialforce.Account", "--sandbox", "--records", "50"]) == 0
    out = capsys.readouterr().out
    assert "n" in out and "50" in out


def test_query_writes_csv_json_and_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT Id, Name FROM financialforce.Account ORDER BY Id LIMIT 3"
    assert main(["query", sql, "--sandbox", "--records", "20", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == '"Id","Name"' and len(lines) == 4
    assert main(["query", sql, "--sandbox", "--records", "20", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [set(r) for r in rows] == [{"Id", "Name"}] * 3
    target = tmp_path / "accounts.parquet"
    assert main(["query", sql, "--sandbox", "--records", "20", "--format", "parquet", "-o", str(target)]) == 0
    assert duckdb.connect().execute("SELECT count(*) FROM read_parquet($1)", [str(target)]).fetchone() == (3,)


def test_query_against_named_sources(capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(records=10, sources=["certinia"]) as sandbox:
        source = f"psa={sandbox.url('certinia')}"
        assert main(["query", "SELECT count(*) FROM psa.pse__Proj__c", "--source", source, "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1] == "10"


def test_tables_and_describe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tables", "--sandbox", "--records", "5"]) == 0
    listed = capsys.readouterr().out.split()
    assert "financialforce.Account" in listed and "certinia.pse__Proj__c" in listed
    assert "financialforce.pse__Proj__c" not in listed
    assert main(["describe", "financialforce.Account", "--sandbox", "--records", "5"]) == 0
    described = capsys.readouterr().out
    assert "AnnualRevenue" in described and "decimal128" in described and "key" in described
    lines = {line.split()[0]: line for line in described.splitlines()[1:]}
    assert "push (superset): =, IN" in lines["Name"]  # SOQL matches text case-insensitively
    assert "push (exact   ): =, !=, <" in lines["NumberOfEmployees"]


def test_bad_input_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "SELECT 1", "--source", "nourl"]) == 1
    assert "--source takes name=URL" in capsys.readouterr().err
    assert main(["query", "SELECT * FROM financialforce.Acount", "--sandbox", "--records", "5"]) == 1
    assert "did you mean Account" in capsys.readouterr().err
    assert main(["query", "SELECT 1", "--source", "x=nosuchsource:///?a=b"]) == 1
    assert "unknown source 'nosuchsource'" in capsys.readouterr().err


def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "invoices.parquet"
    assert main(["demo", "--records", "200", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "filter_by(Industry='Banking')" in out and "API calls" in out
    assert "rank_in_industry" in out
    stored = duckdb.connect().execute("SELECT count(*) FROM read_parquet($1)", [str(target)]).fetchone()
    assert stored is not None and stored[0] > 0


def test_describe_names_tables_as_the_readme_does(capsys: pytest.CaptureFixture[str]) -> None:
    # With --sandbox the sources are named by their schemes, and a name only one source has needs no source.
    assert main(["describe", "pse__Proj__c", "--sandbox", "--records", "5"]) == 0
    assert capsys.readouterr().out.startswith("certinia.pse__Proj__c")
    assert main(["describe", "fin.Account", "--sandbox", "--records", "5"]) == 1
    listed = re.search(r"no source 'fin'; the sources are ([\w, ]+)", capsys.readouterr().err)
    assert listed is not None and {"certinia", "financialforce"} <= set(listed.group(1).split(", "))
    assert main(["describe", "Account", "--sandbox", "--records", "5"]) == 1
    assert "'Account' is ambiguous: there are certinia.Account and financialforce.Account" in capsys.readouterr().err
    assert main(["describe", "Acount", "--sandbox", "--records", "5"]) == 1
    assert "did you mean certinia.Account or financialforce.Account?" in capsys.readouterr().err


def test_explain_prints_the_plan_and_no_parser_warning(capsys: pytest.CaptureFixture[str]) -> None:
    sql = "EXPLAIN SELECT Name FROM financialforce.Account"
    assert main(["query", sql, "--sandbox", "--records", "5"]) == 0
    captured = capsys.readouterr()
    assert "ARROW_SCAN" in captured.out
    assert "unsupported syntax" not in captured.err and captured.err == ""


def test_an_unknown_table_suggests_source_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "SELECT * FROM Acount", "--sandbox", "--records", "5"]) == 1
    err = capsys.readouterr().err
    assert "did you mean certinia.Account or financialforce.Account?" in err and "pg_" not in err
