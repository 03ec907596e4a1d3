"""The template connector end to end: OAuth consent with the authorization code kept out of the logs, an
authorize error answered at once, and `duckfed login` / `duckfed properties` / `duckfed cache clear`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from federation.cli import main
from federation.errors import AuthenticationError

from ...template_source import template_properties


@pytest.fixture()
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=50) as running:
        yield running


def props(emulator: TemplateEmulator, tmp_path: Path, **extra: str) -> dict[str, str]:
    tokens = str(tmp_path / "private" / "tokens.json")  # in a directory duckfed creates (0700)
    return template_properties(emulator, tmp_path, OAuthSettingsLocation=tokens, **extra)


def test_the_authorization_code_never_reaches_the_logs(
    emulator: TemplateEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with federation.connect({"src": {**props(emulator, tmp_path), "scheme": "template"}}) as con:
        assert con.execute("SELECT count(*) FROM src.contacts").fetchone() == (50,)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "?code=***&state=" in text  # the callback was logged, without its code
    assert not re.search(r"code=(?!\*\*\*)[\w-]{8,}", text)
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o700


def test_an_authorize_error_fails_at_once_with_the_servers_message(emulator: TemplateEmulator, tmp_path: Path) -> None:
    started = time.monotonic()
    with (
        pytest.raises(AuthenticationError, match="the authorization server refused the request: unknown client"),
        federation.connect({"src": {**props(emulator, tmp_path, OAuthClientId="wrong"), "scheme": "template"}}) as con,
    ):
        con.execute("SELECT count(*) FROM src.contacts").fetchall()
    assert time.monotonic() - started < 5  # not the consent timeout


def test_duckfed_login_fills_the_token_store_for_later_runs(emulator: TemplateEmulator, tmp_path: Path) -> None:
    url = f"template:///?{urlencode(props(emulator, tmp_path))}"
    assert main(["login", "template", "--url", url]) == 0
    assert emulator.oauth is not None and emulator.oauth.logins == 1
    with federation.connect({"src": url}) as con:
        con.execute("SELECT count(*) FROM src.contacts").fetchall()
    assert emulator.oauth.logins == 1 and emulator.calls_by_kind["authorize"] == 1


def test_properties_and_cache_clear(
    emulator: TemplateEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["properties", "template"]) == 0
    listed = capsys.readouterr().out
    assert "OAuthSettingsLocation" in listed and "PageSize" in listed and "RateLimit" in listed
    with federation.connect({"src": {**props(emulator, tmp_path), "scheme": "template"}}) as con:
        con.execute("SELECT count(*) FROM src.contacts").fetchall()
    assert main(["cache", "clear", "financialforce", "--dir", str(tmp_path / "cache")]) == 0
    assert "removed 0 cached" in capsys.readouterr().err
    assert main(["cache", "clear", "template", "--dir", str(tmp_path / "cache")]) == 0
    assert "removed 2 cached" in capsys.readouterr().err  # the table list and the description of contacts
    described = emulator.calls_by_kind["describe"]
    with federation.connect({"src": {**props(emulator, tmp_path), "scheme": "template"}}) as con:
        con.execute("SELECT count(*) FROM src.contacts").fetchall()
    assert emulator.calls_by_kind["describe"] == described + 1
