"""The kit's OAuth 2.0 authorization server, through a toy emulator: grants, lifetimes, rotation, errors."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from federation.emulation.clock import Clock
from federation.emulation.oauth import TokenPolicy

from .conftest import password_grant
from .toy import CLIENT, Toy

CALLBACK = "http://127.0.0.1:9/callback"


def running(policy: TokenPolicy) -> Iterator[tuple[Toy, httpx.Client]]:
    with Toy(policy=policy, clock=Clock(frozen=True)) as toy, httpx.Client(base_url=toy.url, timeout=10) as client:
        yield toy, client


@pytest.fixture()
def rotating() -> Iterator[tuple[Toy, httpx.Client]]:
    """Exact Online's policy: ten-minute tokens, single-use refresh tokens, no refresh before 570 s."""
    yield from running(TokenPolicy(access_seconds=600, rotate_refresh_tokens=True, min_refresh_age=570))


def refresh(client: httpx.Client, token: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "client_id": CLIENT.client_id, "client_secret": CLIENT.client_secret}
    return client.post("/oauth/token", data=form | {"refresh_token": token} | extra)


def items(client: httpx.Client, access_token: str) -> int:
    return client.get("/items", headers={"Authorization": f"Bearer {access_token}"}).status_code


def authorize(client: httpx.Client, **params: str) -> httpx.Response:
    query = {"response_type": "code", "client_id": CLIENT.client_id, "redirect_uri": CALLBACK} | params
    return client.get("/oauth/authorize", params=query)


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def test_password_grant_reply_follows_rfc_6749(toy: Toy, anonymous: httpx.Client) -> None:
    response = password_grant(anonymous)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert toy.oauth is not None and (toy.oauth.logins, toy.oauth.refreshes) == (1, 0)


def test_access_tokens_expire_on_the_emulators_clock(toy: Toy, anonymous: httpx.Client) -> None:
    token = password_grant(anonymous).json()["access_token"]
    toy.clock.advance(3599.5)
    assert items(anonymous, token) == 200
    toy.clock.advance(1)
    assert items(anonymous, token) == 401


def test_an_idle_timeout_ends_unused_tokens_only() -> None:
    for toy, client in running(TokenPolicy(access_seconds=None, idle_seconds=100)):
        body = password_grant(client).json()
        assert "expires_in" not in body
        for _ in range(5):
            toy.clock.advance(99)
            assert items(client, body["access_token"]) == 200  # each use extends it
        toy.clock.advance(100.5)
        assert items(client, body["access_token"]) == 401


def test_refresh_without_rotation_keeps_the_refresh_token(toy: Toy, anonymous: httpx.Client) -> None:
    first = password_grant(anonymous).json()
    for _ in range(3):
        refreshed = refresh(anonymous, first["refresh_token"])
        assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
        assert items(anonymous, refreshed.json()["access_token"]) == 200
    assert toy.oauth is not None
    assert (toy.oauth.logins, toy.oauth.refreshes, toy.oauth.live_refresh_tokens) == (1, 3, 1)


def test_rotated_refresh_tokens_are_single_use(rotating: tuple[Toy, httpx.Client]) -> None:
    toy, client = rotating
    assert toy.oauth is not None
    tokens = password_grant(client).json()
    for _ in range(3):
        toy.clock.advance(600)
        rotated = refresh(client, tokens["refresh_token"])
        assert rotated.status_code == 200
        assert rotated.json()["refresh_token"] != tokens["refresh_token"]
        reused = refresh(client, tokens["refresh_token"])
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        tokens = rotated.json()
    assert (toy.oauth.refreshes, toy.oauth.live_refresh_tokens, toy.oauth.max_live_refresh_tokens) == (3, 1, 1)
    password_grant(client)  # a second login: two refresh tokens are valid at once
    assert toy.oauth.max_live_refresh_tokens == 2


def test_concurrent_refreshes_with_one_rotating_token_admit_exactly_one(rotating: tuple[Toy, httpx.Client]) -> None:
    toy, client = rotating
    token = password_grant(client).json()["refresh_token"]
    toy.clock.advance(600)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: refresh(client, token).status_code, range(8)))
    assert sorted(results) == [200] + [400] * 7
    assert toy.oauth is not None and toy.oauth.refreshes == 1


def test_a_refresh_too_soon_is_refused_until_the_minimum_age(rotating: tuple[Toy, httpx.Client]) -> None:
    toy, client = rotating
    token = password_grant(client).json()["refresh_token"]
    toy.clock.advance(569.5)
    early = refresh(client, token)
    assert early.status_code == 400
    assert early.json()["error"] == "invalid_request" and "570 s" in early.json()["error_description"]
    toy.clock.advance(1)
    token = refresh(client, token).json()["refresh_token"]  # the refused attempt did not use the token up
    assert refresh(client, token).status_code == 400  # its new access token is brand new
    toy.expire_sessions()  # ended access tokens may be replaced at once
    assert refresh(client, token).status_code == 200


def test_client_authentication(toy: Toy, anonymous: httpx.Client) -> None:
    wrong = password_grant(anonymous, client_secret="nope")
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    assert wrong.json() == {"error": "invalid_client", "error_description": "client authentication failed"}
    assert password_grant(anonymous, client_id="nobody").json()["error"] == "invalid_client"
    form = {"grant_type": "password", "username": "alice", "password": "wonderland"}
    assert anonymous.post("/oauth/token", data=form, auth=(CLIENT.client_id, CLIENT.client_secret)).is_success
    assert anonymous.post("/oauth/token", data=form | {"client_id": CLIENT.client_id}).status_code == 401
    assert password_grant(anonymous, password="no").json()["error"] == "invalid_grant"
    assert password_grant(anonymous, grant_type="magic").json()["error"] == "unsupported_grant_type"
    assert anonymous.get("/oauth/token").status_code == 405


def test_authorization_code_flow_with_pkce_and_state(toy: Toy, anonymous: httpx.Client) -> None:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = authorize(anonymous, state="s 1", code_challenge=challenge, code_challenge_method="S256")
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert parse_qs(location.query)["state"] == ["s 1"]
    form = {"grant_type": "authorization_code", "client_id": CLIENT.client_id, "redirect_uri": CALLBACK}
    wrong = anonymous.post("/oauth/token", data=form | {"code": code_of(response), "code_verifier": "w" * 64})
    assert wrong.json()["error"] == "invalid_grant"
    code = code_of(authorize(anonymous, code_challenge=challenge))  # the failed attempt used the code up
    granted = anonymous.post("/oauth/token", data=form | {"code": code, "code_verifier": verifier})
    assert granted.status_code == 200 and granted.json()["refresh_token"]
    assert anonymous.post("/oauth/token", data=form | {"code": code, "code_verifier": verifier}).status_code == 400
    assert toy.oauth is not None and toy.oauth.logins == 1


def test_a_code_without_pkce_needs_the_secret_the_redirect_and_time(toy: Toy, anonymous: httpx.Client) -> None:
    form = {"grant_type": "authorization_code", "client_id": CLIENT.client_id, "redirect_uri": CALLBACK}
    no_secret = anonymous.post("/oauth/token", data=form | {"code": code_of(authorize(anonymous))})
    assert no_secret.json()["error"] == "invalid_client"
    form["client_secret"] = CLIENT.client_secret
    moved = form | {"redirect_uri": "http://127.0.0.1:9/other"}
    assert anonymous.post("/oauth/token", data=moved | {"code": code_of(authorize(anonymous))}).status_code == 400
    late = code_of(authorize(anonymous))
    toy.clock.advance(601)
    assert anonymous.post("/oauth/token", data=form | {"code": late}).json()["error"] == "invalid_grant"
    assert anonymous.post("/oauth/token", data=form | {"code": code_of(authorize(anonymous))}).is_success


def test_authorize_errors_without_a_trusted_redirect_are_answered_directly(anonymous: httpx.Client) -> None:
    for params in ({"client_id": "nobody"}, {"redirect_uri": "javascript:alert(1)"}):
        response = authorize(anonymous, **params)
        assert response.status_code == 400
        assert set(response.json()) == {"error", "error_description"}
    assert authorize(anonymous, client_id="nobody").json()["error"] == "invalid_client"


def test_authorize_errors_with_a_trusted_redirect_go_back_to_the_client(anonymous: httpx.Client) -> None:
    for params, error in (
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x", "code_challenge_method": "plain"}, "invalid_request"),
    ):
        response = authorize(anonymous, state="st", **params)
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert (query["error"], query["state"]) == ([error], ["st"])


def test_revoked_tokens_stop_working(toy: Toy, anonymous: httpx.Client) -> None:
    assert toy.oauth is not None
    tokens = password_grant(anonymous).json()
    assert toy.oauth.revoke(tokens["refresh_token"]) and not toy.oauth.revoke(tokens["refresh_token"])
    assert refresh(anonymous, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert toy.oauth.check(tokens["access_token"]) == "alice"
    assert toy.oauth.revoke(tokens["access_token"])
    assert toy.oauth.check(tokens["access_token"]) is None
