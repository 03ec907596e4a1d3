"""Metadata caching: what a connection costs in API calls, within and past the TTL."""

from __future__ import annotations

from pathlib import Path

import federation
from federation.catalog import MetadataCache
from federation.sandbox import Sandbox


def connect(sandbox: Sandbox, cache: Path, ttl: str) -> federation.Connection:
    props = {
        **sandbox.properties("financialforce"),
        "MetadataCacheDir": str(cache),
        "MetadataCacheTTL": ttl,
        "scheme": "financialforce",
    }
    return federation.connect({"fin": props})


def test_the_first_query_costs_at_most_two_metadata_calls(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    emulator = sf_sandbox.server("financialforce")
    before = dict(emulator.calls_by_kind)
    with connect(sf_sandbox, tmp_path, "3600") as con:
        con.execute("SELECT Id FROM fin.Opportunity LIMIT 1").fetchall()
    spent = {k: v - before.get(k, 0) for k, v in emulator.calls_by_kind.items() if v != before.get(k, 0)}
    assert spent == {"login": 1, "sobjects": 1, "describe": 1, "query": 1}


def test_a_new_connection_within_the_ttl_costs_no_metadata_calls(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    emulator = sf_sandbox.server("financialforce")
    with connect(sf_sandbox, tmp_path, "3600") as con:
        con.execute("SELECT Id FROM fin.Contact LIMIT 1").fetchall()
    before = dict(emulator.calls_by_kind)
    with connect(sf_sandbox, tmp_path, "3600") as con:
        con.execute("SELECT Id FROM fin.Contact LIMIT 1").fetchall()
    spent = {k: v - before.get(k, 0) for k, v in emulator.calls_by_kind.items() if v != before.get(k, 0)}
    assert spent == {"login": 1, "query": 1}


def test_past_the_ttl_metadata_is_fetched_again(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    emulator = sf_sandbox.server("financialforce")
    with connect(sf_sandbox, tmp_path, "0") as con:
        con.execute("SELECT Id FROM fin.Contact LIMIT 1").fetchall()
    before = emulator.calls_by_kind["describe"]
    with connect(sf_sandbox, tmp_path, "0") as con:
        con.execute("SELECT Id FROM fin.Contact LIMIT 1").fetchall()
    assert emulator.calls_by_kind["describe"] == before + 1


def test_a_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path, "space", ttl=60)
    cache.put("sobjects", [{"name": "Account"}])
    (tmp_path / "space" / "sobjects.json").write_text("{not json")
    assert MetadataCache(tmp_path, "space", ttl=60).get("sobjects") is None
    assert cache.get("sobjects") == [{"name": "Account"}]  # the writer still holds it in memory
