"""OAuth against the emulator: the authorization-code flow with a loopback listener, the token file, refresh."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

import federation
from federation.errors import AuthenticationError, ConfigurationError
from federation.sandbox import Sandbox, free_port


def oauth_props(sandbox: Sandbox, token_file: Path, **extra: str) -> dict[str, str]:
    return {
        "scheme": "financialforce",
        "URL": sandbox.endpoint("financialforce"),
        "MetadataCacheDir": sandbox.properties("financialforce")["MetadataCacheDir"],
        "InitiateOAuth": "GETANDREFRESH",
        "OAuthClientId": "MyOAuthClientId",
        "OAuthClientSecret": "MyOAuthClientSecret",
        "CallbackURL": f"http://127.0.0.1:{free_port()}/callback",
        "OAuthSettingsLocation": str(token_file),
        **extra,
    }


def stored(token_file: Path) -> dict[str, Any]:
    """The one token entry the file holds (entries are keyed by source, endpoint and client)."""
    entries = json.loads(token_file.read_text())["entries"]
    assert len(entries) == 1
    return dict(next(iter(entries.values())))


def count_accounts(props: dict[str, str]) -> int:
    with federation.connect({"fin": props}) as con:
        result = con.execute("SELECT count(*) FROM fin.Account").fetchone()
    assert result is not None
    return int(result[0])


@pytest.fixture()
def emulator(sf_sandbox: Sandbox) -> Any:
    return sf_sandbox.server("financialforce")


def test_getandrefresh_runs_the_code_flow_once_and_keeps_the_tokens(
    sf_sandbox: Sandbox, emulator: Any, tmp_path: Path
) -> None:
    token_file = tmp_path / "oauth" / "tokens.json"
    authorized = emulator.calls_by_kind["authorize"]
    assert count_accounts(oauth_props(sf_sandbox, token_file)) == 1000
    assert emulator.calls_by_kind["authorize"] == authorized + 1
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = stored(token_file)
    assert token["access_token"] and token["refresh_token"]

    # A second connection uses the stored token: no consent, no token call.
    tokens = emulator.calls_by_kind["token"]
    assert count_accounts(oauth_props(sf_sandbox, token_file)) == 1000
    assert emulator.calls_by_kind["authorize"] == authorized + 1
    assert emulator.calls_by_kind["token"] == tokens


def test_an_expired_access_token_is_refreshed_and_the_file_rewritten(
    sf_sandbox: Sandbox, emulator: Any, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens.json"
    assert count_accounts(oauth_props(sf_sandbox, token_file)) == 1000
    first = stored(token_file)
    emulator.expire_sessions()
    tokens = emulator.calls_by_kind["token"]
    assert count_accounts(oauth_props(sf_sandbox, token_file)) == 1000
    assert emulator.calls_by_kind["token"] == tokens + 1
    second = stored(token_file)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_refresh_mode_uses_a_given_refresh_token_without_a_browser(
    sf_sandbox: Sandbox, emulator: Any, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.json"
    count_accounts(oauth_props(sf_sandbox, seed))
    refresh_token = stored(seed)["refresh_token"]
    authorized = emulator.calls_by_kind["authorize"]
    props = oauth_props(
        sf_sandbox, tmp_path / "refreshed.json", InitiateOAuth="REFRESH", OAuthRefreshToken=refresh_token
    )
    assert count_accounts(props) == 1000
    assert emulator.calls_by_kind["authorize"] == authorized


def test_off_uses_the_access_token_as_given_and_says_when_it_expired(
    sf_sandbox: Sandbox, emulator: Any, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.json"
    count_accounts(oauth_props(sf_sandbox, seed))
    access_token = stored(seed)["access_token"]
    props = oauth_props(sf_sandbox, tmp_path / "unused.json", InitiateOAuth="OFF", OAuthAccessToken=access_token)
    assert count_accounts(props) == 1000
    emulator.expire_sessions()
    with pytest.raises(AuthenticationError, match="InitiateOAuth=OFF does not refresh it"):
        count_accounts(props)
    assert not (tmp_path / "unused.json").exists()


def test_a_wrong_client_secret_gives_the_apis_error(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    props = oauth_props(sf_sandbox, tmp_path / "tokens.json", OAuthClientSecret="not-the-secret")
    with pytest.raises(AuthenticationError) as caught:
        count_accounts(props)
    assert "not-the-secret" not in str(caught.value)
    assert not (tmp_path / "tokens.json").exists()


def test_oauth_needs_a_client_id(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    props = oauth_props(sf_sandbox, tmp_path / "tokens.json")
    del props["OAuthClientId"]
    with pytest.raises(ConfigurationError, match="OAuthClientId is required with InitiateOAuth=GETANDREFRESH"):
        federation.connect({"fin": props})


def test_a_callback_in_clear_off_this_machine_is_refused(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    # The authorization code would travel in clear to another host.
    props = oauth_props(sf_sandbox, tmp_path / "tokens.json", CallbackURL="http://example.invalid:33333/cb")
    with pytest.raises(ConfigurationError, match=r"CallbackURL has an invalid value.*plain http://"):
        count_accounts(props)


def test_a_callback_port_that_cannot_be_bound_is_named(sf_sandbox: Sandbox, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        props = oauth_props(sf_sandbox, tmp_path / "tokens.json", CallbackURL=f"http://127.0.0.1:{port}/cb")
        with pytest.raises(ConfigurationError, match=f"can't listen on CallbackURL 127.0.0.1:{port}"):
            count_accounts(props)
