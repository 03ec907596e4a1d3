"""The API session kept in `OAuthSettingsLocation`: a later connection (or process) reuses it instead of logging
in again, the file is private, and a session the gateway has ended is renewed once and stored again."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from connectors.sageintacct.emulator import IntacctEmulator
from federation.connection import connect
from federation.sandbox import Sandbox

QUERY = "SELECT Name FROM sage.Customer WHERE Customerid = '12345'"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=200, sources=["sageintacct"]) as running:
        yield running


def names(sandbox: Sandbox, **extra: str) -> list[tuple[object, ...]]:
    with connect({"sage": {**sandbox.properties("sageintacct"), **extra, "scheme": "sageintacct"}}) as con:
        rows: list[tuple[object, ...]] = con.execute(QUERY).fetchall()
        return rows


def stored_sessions(path: Path) -> dict[str, str]:
    entries = orjson.loads(path.read_bytes())["entries"]
    return {key: entry["access_token"] for key, entry in entries.items()}


def test_a_second_connection_reuses_the_stored_session(sandbox: Sandbox, tmp_path: Path) -> None:
    api = sandbox.server("sageintacct")
    assert isinstance(api, IntacctEmulator)
    settings = tmp_path / "sessions" / "intacct.json"
    names(sandbox, OAuthSettingsLocation=str(settings))  # the object list and fields into the metadata cache
    api.reset_counts()
    settings.unlink()

    first = names(sandbox, OAuthSettingsLocation=str(settings))
    assert first == [("Textiles 7",)]
    assert api.calls_by_kind["getAPISession"] == 1
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    (key, session), *others = stored_sessions(settings).items()
    assert not others
    assert key == f"sageintacct {api.url}/ia/xml/xmlgw.phtml TestCompany/myusername"

    assert names(sandbox, OAuthSettingsLocation=str(settings)) == first
    assert dict(api.calls_by_kind) == {"getAPISession": 1, "query": 2}

    api.expire_sessions()
    api.reset_counts()
    assert names(sandbox, OAuthSettingsLocation=str(settings)) == first
    # The stored session is refused once, renewed, and the query re-sent with the new one.
    assert dict(api.calls_by_kind) == {"query": 2, "getAPISession": 1}
    renewed = stored_sessions(settings)[key]
    assert renewed != session
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600

    api.reset_counts()
    assert names(sandbox, OAuthSettingsLocation=str(settings)) == first
    assert dict(api.calls_by_kind) == {"query": 1}


def test_without_a_settings_location_each_connection_logs_in(sandbox: Sandbox) -> None:
    api = sandbox.server("sageintacct")
    assert isinstance(api, IntacctEmulator)
    names(sandbox)
    api.reset_counts()
    names(sandbox)
    names(sandbox)
    assert dict(api.calls_by_kind) == {"getAPISession": 2, "query": 2}
