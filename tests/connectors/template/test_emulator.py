"""The template emulator through a widely used third-party OAuth client (authlib's requests integration,
unmodified) and plain HTTP: token grants and rotation, filters, paging, idempotent creates and error bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session

from connectors.template.emulator import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, TemplateEmulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=120) as running:
        yield running


def session(emulator: TemplateEmulator) -> OAuth2Session:
    client = OAuth2Session(CLIENT_ID, CLIENT_SECRET, token_endpoint=f"{emulator.url}/oauth/token")
    client.trust_env = False
    client.fetch_token(username=USERNAME, password=PASSWORD, grant_type="password")
    return client


def test_authlib_password_grant_refresh_and_rotation(emulator: TemplateEmulator) -> None:
    client = session(emulator)
    first = dict(client.token)
    assert first["token_type"] == "Bearer" and first["expires_in"] == 3600
    body = client.get(f"{emulator.url}/api/v1/tables").json()
    assert [t["name"] for t in body["tables"]] == ["contacts", "companies"]
    refreshed = client.refresh_token(f"{emulator.url}/oauth/token", refresh_token=first["refresh_token"])
    assert refreshed["refresh_token"] != first["refresh_token"]
    reused = httpx.post(
        f"{emulator.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_filters_ordering_and_paging(emulator: TemplateEmulator) -> None:
    client = session(emulator)
    where = {"and": [{"field": "city", "op": "notnull"}, {"field": "id", "op": "le", "value": 30}]}
    url = f"{emulator.url}/api/v1/tables/contacts/records"
    page = client.get(url, params={"fields": "id,city", "where": json.dumps(where), "limit": 10}).json()
    assert page["total"] == 24 and len(page["records"]) == 10
    assert all(r["city"] is not None and r["id"] <= 30 for r in page["records"])
    ordered = client.get(url, params={"fields": "id,score", "order": "-score", "limit": 3}).json()["records"]
    assert [r["score"] for r in ordered] == sorted((r["score"] for r in ordered), key=float, reverse=True)
    bad = client.get(url, params={"where": '{"field": "nope", "op": "eq", "value": 1}'})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    assert "no field 'nope'" in bad.json()["error"]["message"]


def test_a_repeated_create_with_its_idempotency_key_creates_once(emulator: TemplateEmulator) -> None:
    client = session(emulator)
    url = f"{emulator.url}/api/v1/tables/contacts/records"
    key = str(uuid.uuid4())
    first = client.post(url, json={"fields": {"name": "Once"}}, headers={"Idempotency-Key": key})
    again = client.post(url, json={"fields": {"name": "Once"}}, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    where = json.dumps({"field": "name", "op": "eq", "value": "Once"})
    assert client.get(url, params={"where": where}).json()["total"] == 1
    refused = client.post(url, json={"fields": {"id": 5, "name": "x"}})
    assert refused.status_code == 422 and refused.json()["error"]["message"] == "id is read-only"


def test_requests_without_a_valid_token_get_401(emulator: TemplateEmulator) -> None:
    response = httpx.get(f"{emulator.url}/api/v1/tables", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")
