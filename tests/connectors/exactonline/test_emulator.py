"""The emulator speaks Exact's protocol, seen from a plain HTTP client: OAuth with 600 s tokens, rotation and the
early-refresh refusal, regions, quota headers and 429s, paging, the Atom feed, and Exact's error bodies."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from connectors.exactonline.emulator import CLIENT_ID, CLIENT_SECRET, ExactOnlineEmulator
from federation.emulation.quotas import Quota

CALLBACK = "http://127.0.0.1:9/callback"


@pytest.fixture()
def exact() -> Iterator[ExactOnlineEmulator]:
    with ExactOnlineEmulator(130) as running:
        yield running


def tokens(http: httpx.Client, prefix: str = "") -> dict[str, str]:
    consent = http.get(
        f"{prefix}/api/oauth2/auth",
        params={"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "response_type": "code"},
    )
    code = consent.headers["location"].split("code=")[1]
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "authorization_code"}
    reply = http.post(f"{prefix}/api/oauth2/token", data={**form, "code": code, "redirect_uri": CALLBACK})
    assert reply.status_code == 200
    token: dict[str, str] = reply.json()
    return token


def bearer(token: dict[str, str], *, json: bool = True) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}", **({"Accept": "application/json"} if json else {})}


def refresh(http: httpx.Client, token: str) -> httpx.Response:
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token"}
    return http.post("/api/oauth2/token", data={**form, "refresh_token": token})


def test_tokens_last_600_s_rotate_and_are_not_renewed_early(exact: ExactOnlineEmulator) -> None:
    http = httpx.Client(base_url=exact.url)
    first = tokens(http)
    assert first["expires_in"] == "600" and first["token_type"] == "bearer"
    early = refresh(http, first["refresh_token"])
    assert early.status_code == 401 and "access_token not expired" in early.json()["error_description"]
    exact.clock.advance(571)
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    exact.clock.advance(571)
    assert refresh(http, first["refresh_token"]).json()["error"] == "invalid_grant"  # single use
    exact.clock.advance(60)
    refused = http.get("/api/v1/5512/crm/Accounts", headers=bearer(first))
    assert refused.status_code == 401
    assert refused.json()["error"]["message"]["value"].startswith("Unauthorized")


def test_tokens_belong_to_their_region(exact: ExactOnlineEmulator) -> None:
    http = httpx.Client(base_url=exact.url)
    us = tokens(http, "/com")
    assert http.get("/com/api/v1/5512/crm/Accounts", headers=bearer(us), params={"$top": "1"}).status_code == 200
    assert http.get("/api/v1/5512/crm/Accounts", headers=bearer(us)).status_code == 401
    on_host = http.get("/api/v1/5512/crm/Accounts", headers={**bearer(us), "Host": "start.exactonline.com"})
    assert on_host.status_code == 200


def test_pages_of_60_with_next_links_and_bulk_pages_of_1000(exact: ExactOnlineEmulator) -> None:
    http = httpx.Client(base_url=exact.url)
    headers = bearer(tokens(http))
    query = {"$select": "ID,Name", "$inlinecount": "allpages"}
    page = http.get("/api/v1/5512/crm/Accounts", params=query, headers=headers).json()["d"]
    seen = [r["ID"] for r in page["results"]]
    assert len(seen) == 60 and page["__count"] == "130"
    assert "$select=ID,Name" in page["__next"] and "$skiptoken=guid'" in page["__next"]
    while "__next" in page:
        page = http.get(page["__next"], headers=headers).json()["d"]
        seen += [r["ID"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 130
    bulk = http.get("/api/v1/5512/bulk/CRM/Accounts", params={"$select": "ID"}, headers=headers).json()["d"]
    assert len(bulk["results"]) == 130 and "__next" not in bulk
    refused = http.get("/api/v1/5512/bulk/CRM/Accounts", headers=headers)
    assert refused.status_code == 400
    count = http.get("/api/v1/5512/crm/Accounts/$count", params={"$filter": "IsCompetitor eq true"}, headers=headers)
    assert count.text == str(sum(1 for n in range(1, 131) if n % 5 == 0))


def test_filters_errors_and_division_rules(exact: ExactOnlineEmulator) -> None:
    http = httpx.Client(base_url=exact.url)
    headers = bearer(tokens(http))

    def names(where: str) -> list[str]:
        reply = http.get("/api/v1/5512/crm/Accounts", params={"$filter": where, "$select": "Name"}, headers=headers)
        assert reply.status_code == 200, reply.text
        return [r["Name"] for r in reply.json()["d"]["results"]]

    # Case-insensitive, trailing spaces ignored, leading ones not; a doubled quote inside a literal.
    assert set(names("Name eq 'mixed case ltd '")) == {"Mixed Case Ltd", "MIXED CASE LTD", "mixed case ltd"}
    assert set(names("Name eq 'O''Brien & Søn'")) == {"O'Brien & Søn"}
    assert names("Code eq '                 5'") and not names("Code eq '5'")

    def error(path: str, **params: str) -> tuple[int, str]:
        reply = http.get(path, params=params, headers=headers)
        return reply.status_code, reply.json()["error"]["message"]["value"]

    assert error("/api/v1/9999/crm/Accounts") == (403, "Forbidden - WrongDivision")
    assert "incompatible" in error("/api/v1/5512/crm/Accounts", **{"$filter": "ID eq 'x'"})[1]
    assert "FinancialYear" in error("/api/v1/5512/financialtransaction/TransactionLines")[1]
    assert error("/api/v1/5512/crm/Accounts", **{"$select": "Nope"})[1].startswith("No property 'Nope'")


def test_quotas_send_exacts_headers_and_429(exact: ExactOnlineEmulator) -> None:
    # An hour-long "minutely" window, so that the test never straddles a window's end.
    exact.set_quotas([Quota("minutely", 3, 3600.0, aligned=True), Quota("daily", 10, 86_400.0, aligned=True)])
    http = httpx.Client(base_url=exact.url)
    headers = bearer(tokens(http))
    me = http.get("/api/v1/current/Me", headers=headers)
    assert me.status_code == 200 and "x-ratelimit-remaining" not in me.headers  # no division: not metered
    replies = [http.get("/api/v1/5512/crm/Accounts", params={"$top": "1"}, headers=headers) for _ in range(4)]
    first = replies[0].headers
    assert first["x-ratelimit-minutely-remaining"] == "2" and first["x-ratelimit-remaining"] == "9"
    assert int(first["x-ratelimit-reset"]) % 86_400_000 == 0  # epoch milliseconds, at midnight UTC
    used_up = replies[2].headers
    assert used_up["x-ratelimit-minutely-remaining"] == "0" and "x-ratelimit-remaining" not in used_up
    assert replies[3].status_code == 429 and "retry-after" in replies[3].headers
    # Another division is counted apart.
    assert http.get("/api/v1/5513/crm/Accounts", params={"$top": "1"}, headers=headers).status_code == 200


def test_without_accept_json_the_answer_is_an_atom_feed(exact: ExactOnlineEmulator) -> None:
    http = httpx.Client(base_url=exact.url)
    reply = http.get(
        "/api/v1/5512/crm/Accounts",
        params={"$select": "ID,Name,IsCompetitor,Created,Email"},
        headers=bearer(tokens(http), json=False),
    )
    assert reply.headers["content-type"].startswith("application/atom+xml")
    ns = {
        "a": "http://www.w3.org/2005/Atom",
        "m": "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata",
        "d": "http://schemas.microsoft.com/ado/2007/08/dataservices",
    }
    feed = ET.fromstring(reply.content)
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 60 and feed.find("a:link[@rel='next']", ns) is not None
    props = entries[0].find("a:content/m:properties", ns)
    assert props is not None
    assert props.find("d:IsCompetitor", ns).get(f"{{{ns['m']}}}type") == "Edm.Boolean"  # type: ignore[union-attr]
    assert props.find("d:Created", ns).text.startswith("2023-")  # type: ignore[union-attr]


def test_writes_validate_and_answer_as_exact_does(exact: ExactOnlineEmulator) -> None:
    http = httpx.Client(base_url=exact.url)
    headers = {**bearer(tokens(http)), "Content-Type": "application/json"}
    missing = http.post("/api/v1/5512/crm/Accounts", json={"Email": "a@example.com"}, headers=headers)
    assert missing.status_code == 400 and missing.json()["error"]["message"]["value"] == "Mandatory: Name"
    bare = http.post("/api/v1/5512/crm/Accounts", json={"Name": "Bare"}, headers=headers).json()["d"]
    assert bare["ID"] and bare["Name"] is None  # without Prefer: return=representation
    made = http.post(
        "/api/v1/5512/crm/Accounts",
        json={"Name": "Full", "StartDate": "2024-05-01T00:00:00"},
        headers={**headers, "Prefer": "return=representation"},
    )
    assert made.status_code == 201
    record = made.json()["d"]
    assert record["Name"] == "Full" and record["StartDate"] == "/Date(1714521600000)/"
    assert record["Code"].strip() and len(record["Code"]) == 18
    url = f"/api/v1/5512/crm/Accounts(guid'{record['ID']}')"
    updated = http.put(url, json={"City": "Delft"}, headers=headers)
    assert updated.status_code == 204 and updated.content == b""
    assert http.get(url, headers=headers).json()["d"]["City"] == "Delft"
    assert http.delete(url, headers=headers).status_code == 204
    assert http.delete(url, headers=headers).status_code == 404
