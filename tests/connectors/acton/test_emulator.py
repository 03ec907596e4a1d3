"""The Act-On emulator against Act-On's published OpenAPI documents, and its token and rate rules.

No widely used Python client of Act-On exists, so the emulator's replies are checked against the response
examples of the vendor's own OpenAPI documents (`fixtures/openapi-examples.json`, extracted from them as it
says): every reply has exactly the example's keys, with the same JSON types (numbers sent as strings stay
strings), in every list element. The emulator is driven with plain httpx, as the documents describe the calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.acton.emulator import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, ActOnEmulator
from connectors.acton.emulator.data import PNG_1X1
from federation.emulation.quotas import Quota

EXAMPLES = json.loads((Path(__file__).parent / "fixtures" / "openapi-examples.json").read_text("utf-8"))["examples"]
LIST = "l-0001"


def conforms(got: Any, example: Any, where: str = "$") -> list[str]:
    """Where `got` departs from the example's shape: keys, JSON types, and list elements (each must fit one of
    the example's elements, which show the variants, such as media files and links)."""
    if isinstance(example, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {type(got).__name__}"]
        if set(got) != set(example):
            return [f"{where}: keys {sorted(got)} != {sorted(example)}"]
        return [problem for key in example for problem in conforms(got[key], example[key], f"{where}.{key}")]
    if isinstance(example, list):
        if not isinstance(got, list):
            return [f"{where}: expected an array, got {type(got).__name__}"]
        if not example:
            return []
        problems = []
        for i, item in enumerate(got):
            fits = [conforms(item, variant, f"{where}[{i}]") for variant in example]
            if all(fits):
                problems.extend(min(fits, key=lambda found: len(list(found))))
        return problems
    if type(got) is not type(example):
        return [f"{where}: {type(got).__name__} {got!r} where the example has {type(example).__name__} {example!r}"]
    return []


def example(method: str, path: str, status: int, name: str | None = None) -> Any:
    found = [
        e["body"]
        for e in EXAMPLES
        if (e["method"], e["path"], e["status"]) == (method, path, status) and name in (None, e["example"])
    ]
    assert found, f"no example for {method} {path} {status} {name}"
    return found[0]


@pytest.fixture(scope="module")
def emulator() -> Iterator[ActOnEmulator]:
    with ActOnEmulator(records=30) as running:
        yield running


@pytest.fixture(scope="module")
def api(emulator: ActOnEmulator) -> Iterator[httpx.Client]:
    form = {"grant_type": "password", "username": USERNAME, "password": PASSWORD}
    token = httpx.post(f"{emulator.url}/token", data={**form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=emulator.url, headers=headers) as client:
        yield client


def _image_id(api: httpx.Client) -> str:
    return str(api.get("/api/1/image").json()[0]["entries"][0]["id"])


def _upload(api: httpx.Client, content: bytes = PNG_1X1) -> httpx.Response:
    return api.post("/api/1/image", files={"file": ("a.png", content)}, data={"name": "a", "foldername": "New Folder"})


def _link_id(api: httpx.Client) -> str:
    return next(str(e["id"]) for g in api.get("/api/1/media/").json() for e in g["entries"] if "target_url" in e)


CALLS: dict[tuple[str, str, int, str | None], Callable[[httpx.Client], httpx.Response]] = {
    ("GET", "/api/1/image", 200, None): lambda api: api.get("/api/1/image"),
    ("POST", "/api/1/image", 200, None): _upload,
    ("POST", "/api/1/image", 400, None): lambda api: _upload(api, b"plain text"),
    ("GET", "/api/1/image/{id}", 200, None): lambda api: api.get(f"/api/1/image/{_image_id(api)}"),
    ("PUT", "/api/1/image/{id}", 200, None): lambda api: api.put(
        f"/api/1/image/{_upload(api).json()['id']}", files={"file": ("b.png", PNG_1X1)}, data={"ignorefolder": "Y"}
    ),
    ("DELETE", "/api/1/image/{id}", 200, None): lambda api: api.delete(f"/api/1/image/{_upload(api).json()['id']}"),
    ("DELETE", "/api/1/image/{id}", 404, None): lambda api: api.delete("/api/1/image/f-no-such-image"),
    ("GET", "/api/1/media/", 200, None): lambda api: api.get("/api/1/media/"),
    ("GET", "/api/1/media/{id}", 200, None): lambda api: api.get(f"/api/1/media/{_link_id(api)}"),
    ("GET", "/api/1/list", 200, None): lambda api: api.get("/api/1/list", params={"listingtype": "CONTACT_LIST"}),
    ("GET", "/api/1/list/{listid}", 200, None): lambda api: api.get(f"/api/1/list/{LIST}", params={"count": 3}),
    ("GET", "/api/1/list/{listid}/record/{recordid}", 200, None): lambda api: api.get(
        f"/api/1/list/{LIST}/record/{LIST}:1"
    ),
    ("GET", "/api/1/list/{listid}/record/{recordid}", 400, None): lambda api: api.get(
        "/api/1/list/l-9999/record/l-9999:1"
    ),
    ("DELETE", "/api/1/list/{listid}/record/{recordid}", 200, None): lambda api: api.delete(
        f"/api/1/list/{LIST}/record/{LIST}:2"
    ),
    ("DELETE", "/api/1/list/{listid}/record/{recordid}", 400, None): lambda api: api.delete(
        f"/api/1/list/{LIST}/record/{LIST}:99999"
    ),
    ("DELETE", "/api/1/list/{listid}/record", 200, "Successful Response"): lambda api: api.delete(
        f"/api/1/list/{LIST}/record", params={"contactids": f"{LIST}:3,{LIST}:4"}
    ),
    ("DELETE", "/api/1/list/{listid}/record", 200, "Failed Records"): lambda api: api.delete(
        f"/api/1/list/{LIST}/record", params={"contactids": f"{LIST}:5,{LIST}:a"}
    ),
    ("GET", "/api/1/message", 200, None): lambda api: api.get("/api/1/message", params={"type": "SENT", "count": 5}),
    ("POST", "/api/1/list/{listid}/record", 200, None): lambda api: api.post(
        f"/api/1/list/{LIST}/record", json={"E-mail Address": "new@example.com", "First Name": "New"}
    ),
    ("POST", "/api/1/list/{listid}/record", 400, None): lambda api: api.post(
        f"/api/1/list/{LIST}/record", json={"No Such Column": "x"}
    ),
    ("PUT", "/api/1/list/{listid}/record/{recordid}", 200, None): lambda api: api.put(
        f"/api/1/list/{LIST}/record/{LIST}:6", json={"Company": "Acme"}
    ),
}


@pytest.mark.parametrize("call", list(CALLS), ids=[f"{m} {p} {s} {n or ''}".strip() for m, p, s, n in CALLS])
def test_replies_have_the_published_shape(api: httpx.Client, call: tuple[str, str, int, str | None]) -> None:
    method, path, status, name = call
    response = CALLS[call](api)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert conforms(response.json(), example(method, path, status, name)) == []


def _token(emulator: ActOnEmulator, **form: str) -> httpx.Response:
    return httpx.post(f"{emulator.url}/token", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form})


def test_token_replies_have_the_published_shape() -> None:
    with ActOnEmulator(records=5) as emulator:
        granted = _token(emulator, grant_type="password", username=USERNAME, password=PASSWORD)
        assert granted.status_code == 200
        assert conforms(granted.json(), example("POST", "/token", 200)) == []
        assert granted.json()["expires_in"] == 3600
        refresh = granted.json()["refresh_token"]
        assert _token(emulator, grant_type="refresh_token", refresh_token=refresh).status_code == 200
        # Refresh tokens are single-use.
        reused = _token(emulator, grant_type="refresh_token", refresh_token=refresh)
        assert (reused.status_code, reused.json()) == (403, example("POST", "/token", 403))
        wrong = _token(emulator, grant_type="password", username=USERNAME, password="wrong")
        assert (wrong.status_code, wrong.json()) == (403, example("POST", "/token?grant_type=password", 403))
        bad_client = _token(emulator, grant_type="password", username=USERNAME, password=PASSWORD, client_secret="x")
        assert (bad_client.status_code, bad_client.json()) == (401, example("POST", "/token", 401))


def test_five_logins_an_hour() -> None:
    with ActOnEmulator(records=5) as emulator:
        login = {"grant_type": "password", "username": USERNAME, "password": PASSWORD}
        assert [_token(emulator, **login).status_code for _ in range(5)] == [200] * 5
        refused = _token(emulator, **login)
        assert refused.status_code == 403 and refused.json()["error"] == "access_denied"
        assert "5 password or code grants an hour" in refused.json()["error_description"]
        emulator.clock.advance(3601)
        assert _token(emulator, **login).status_code == 200


def test_calls_over_the_rate_limit_get_the_gateway_429(api: httpx.Client, emulator: ActOnEmulator) -> None:
    emulator.set_quotas([Quota("second", 5, 1.0)])
    try:
        replies = [api.get("/api/1/image") for _ in range(7)]
    finally:
        emulator.set_quotas([])
    assert [r.status_code for r in replies].count(429) >= 2
    refused = next(r for r in replies if r.status_code == 429)
    assert refused.json()["httpCode"] == "429" and int(refused.headers["retry-after"]) >= 1


def test_a_missing_token_gets_the_gateway_401(emulator: ActOnEmulator) -> None:
    refused = httpx.get(f"{emulator.url}/api/1/image", headers={"Authorization": "Bearer expired"})
    assert refused.status_code == 401 and set(refused.json()) == {"httpCode", "httpMessage", "moreInformation"}
