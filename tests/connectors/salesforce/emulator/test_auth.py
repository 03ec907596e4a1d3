"""Login flows: SOAP (partner and enterprise), the OAuth grants, the authorize redirect, sessions and their end."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.salesforce.emulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SECURITY_TOKEN,
    USERNAME,
    SalesforceEmulator,
)

from .conftest import V, password_grant

SOAP = """<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <env:Header><urn:CallOptions><urn:client>test</urn:client></urn:CallOptions></env:Header>
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>{username}</n1:username><n1:password>{password}</n1:password>
  </n1:login></env:Body>
</env:Envelope>"""


def soap_login(client: httpx.Client, api: str = "u", password: str = PASSWORD + SECURITY_TOKEN) -> httpx.Response:
    return client.post(
        f"/services/Soap/{api}/59.0",
        content=SOAP.format(username=USERNAME, password=password),
        headers={"Content-Type": "text/xml", "SOAPAction": "login"},
    )


def element(xml: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", xml)
    assert match, f"no <{name}> in {xml}"
    return match.group(1)


@pytest.mark.parametrize("api", ["u", "c"])
def test_soap_login_returns_a_session_and_the_server_url(anonymous: httpx.Client, api: str) -> None:
    response = soap_login(anonymous, api)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    body = response.text
    namespace = "partner" if api == "u" else "enterprise"
    assert f'xmlns="urn:{namespace}.soap.sforce.com"' in body
    assert element(body, "serverUrl").startswith(f"{anonymous.base_url}/services/Soap/{api}/59.0/00D")
    assert element(body, "userName") == USERNAME
    assert element(body, "sessionSecondsValid") == "7200"
    assert re.fullmatch(r"005\w{15}", element(body, "userId"))
    session = element(body, "sessionId")
    assert anonymous.get(f"{V}/limits", headers={"Authorization": f"Bearer {session}"}).status_code == 200


def test_soap_login_with_wrong_credentials_is_a_login_fault(anonymous: httpx.Client) -> None:
    response = soap_login(anonymous, password="wrong")
    assert response.status_code == 500
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in response.text
    assert element(response.text, "sf:exceptionCode") == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in element(response.text, "sf:exceptionMessage")


def test_soap_login_without_the_security_token_asks_for_it(anonymous: httpx.Client) -> None:
    response = soap_login(anonymous, password=PASSWORD)
    assert response.status_code == 500
    assert element(response.text, "sf:exceptionCode") == "LOGIN_MUST_USE_SECURITY_TOKEN"


def test_urls_follow_the_host_the_client_asked_for(anonymous: httpx.Client) -> None:
    headers = {"Host": "acme.my.salesforce.com", "X-Forwarded-Proto": "https"}
    response = anonymous.post(
        "/services/Soap/u/60.0",
        content=SOAP.format(username=USERNAME, password=PASSWORD + SECURITY_TOKEN),
        headers=headers,
    )
    assert element(response.text, "serverUrl").startswith("https://acme.my.salesforce.com/services/Soap/u/60.0/")
    token = password_grant(anonymous, **{}).json()
    assert token["instance_url"] == str(anonymous.base_url).rstrip("/")
    mapped = anonymous.post(
        "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD + SECURITY_TOKEN,
        },
        headers=headers,
    )
    assert mapped.json()["instance_url"] == "https://acme.my.salesforce.com"


def test_password_grant_has_no_refresh_token(anonymous: httpx.Client) -> None:
    response = password_grant(anonymous)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert "refresh_token" not in body
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("00D") and "!" in body["access_token"]
    assert re.fullmatch(r"\d{13}", body["issued_at"])


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_id": "nope"}, {"error": "invalid_client_id", "error_description": "client identifier invalid"}),
        ({"client_secret": "nope"}, {"error": "invalid_client", "error_description": "invalid client credentials"}),
        ({"password": "wrong"}, {"error": "invalid_grant", "error_description": "authentication failure"}),
        ({"password": PASSWORD}, {"error": "invalid_grant", "error_description": "authentication failure"}),
        ({"grant_type": "magic"}, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}),
    ],
)
def test_token_failures_have_the_platforms_bodies(
    anonymous: httpx.Client, overrides: dict[str, str], error: dict[str, str]
) -> None:
    response = password_grant(anonymous, **overrides)
    assert response.status_code == 400
    assert response.json() == error


def _authorize(client: httpx.Client, **params: str) -> httpx.Response:
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "http://localhost:33333/cb"} | params
    return client.get("/services/oauth2/authorize", params=query)


def test_authorization_code_flow_with_state_and_pkce(anonymous: httpx.Client) -> None:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = _authorize(anonymous, state="xyz 1", code_challenge=challenge)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://localhost:33333/cb"
    query = parse_qs(location.query)
    assert query["state"] == ["xyz 1"]
    code = query["code"][0]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "code": code,
        "redirect_uri": "http://localhost:33333/cb",
    }
    assert anonymous.post("/services/oauth2/token", data=form | {"code_verifier": "w" * 64}).json() == {
        "error": "invalid_grant",
        "error_description": "invalid code verifier",
    }
    # A failed redemption used the code up, as on the platform: start again.
    code = parse_qs(urlsplit(_authorize(anonymous, code_challenge=challenge).headers["location"]).query)["code"][0]
    granted = anonymous.post("/services/oauth2/token", data=form | {"code": code, "code_verifier": verifier})
    assert granted.status_code == 200
    tokens = granted.json()
    assert tokens["refresh_token"] and tokens["access_token"]
    reused = anonymous.post("/services/oauth2/token", data=form | {"code": code, "code_verifier": verifier})
    assert reused.json()["error"] == "invalid_grant"

    refreshed = anonymous.post(
        "/services/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()  # not rotated
    assert refreshed.json()["access_token"] != tokens["access_token"]


def test_authorization_code_needs_the_registered_redirect_and_secret(anonymous: httpx.Client) -> None:
    code = parse_qs(urlsplit(_authorize(anonymous).headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "code": code,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://localhost:4444/other",
    }
    response = anonymous.post("/services/oauth2/token", data=form)
    assert response.json() == {
        "error": "redirect_uri_mismatch",
        "error_description": "redirect_uri must match configuration",
    }


def test_authorize_with_an_unknown_client(anonymous: httpx.Client) -> None:
    response = _authorize(anonymous, client_id="nobody")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client_id", "error_description": "client identifier invalid"}


def test_unknown_refresh_token(anonymous: httpx.Client) -> None:
    response = anonymous.post(
        "/services/oauth2/token", data={"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "x"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def test_client_credentials_may_come_as_basic_auth(anonymous: httpx.Client) -> None:
    form = {"grant_type": "password", "username": USERNAME, "password": PASSWORD + SECURITY_TOKEN}
    response = anonymous.post("/services/oauth2/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 200


def test_data_api_needs_a_session(anonymous: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = anonymous.get(f"{V}/sobjects", headers=headers)
        assert response.status_code == 401
        assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert anonymous.get("/services/data/").status_code == 200  # the version list is public


def test_expired_sessions_answer_401_and_refresh_tokens_survive(
    emulator: SalesforceEmulator, anonymous: httpx.Client
) -> None:
    code = parse_qs(urlsplit(_authorize(anonymous).headers["location"]).query)["code"][0]
    tokens = anonymous.post(
        "/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "redirect_uri": "http://localhost:33333/cb",
        },
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert anonymous.get(f"{V}/limits", headers=bearer).status_code == 200
    emulator.expire_sessions()
    expired = anonymous.get(f"{V}/limits", headers=bearer)
    assert expired.status_code == 401
    assert expired.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    refreshed = anonymous.post(
        "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
        },
    ).json()
    assert anonymous.get(f"{V}/limits", headers={"Authorization": f"OAuth {refreshed['access_token']}"}).is_success


def test_sessions_time_out_after_inactivity() -> None:
    with SalesforceEmulator("financialforce", records=5, session_seconds=0) as sf, httpx.Client(base_url=sf.url) as c:
        token = password_grant(c).json()["access_token"]
        assert c.get(f"{V}/limits", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_userinfo_and_revoke(anonymous: httpx.Client) -> None:
    token = password_grant(anonymous).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    info = anonymous.get("/services/oauth2/userinfo", headers=bearer)
    assert info.status_code == 200
    assert info.json()["preferred_username"] == USERNAME
    assert anonymous.post("/services/oauth2/revoke", data={"token": token}).status_code == 200
    assert anonymous.get(f"{V}/limits", headers=bearer).status_code == 401
    assert anonymous.get("/services/oauth2/userinfo", headers=bearer).status_code == 403
