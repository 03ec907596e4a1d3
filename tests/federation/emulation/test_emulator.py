"""The `Emulator` base around every request: counting, latency, faults, scheduled actions, mutation, sessions."""

from __future__ import annotations

import time

import httpx
import pytest

from .toy import Toy


def keys(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["key"] for item in response.json()["items"]]


def test_every_request_is_counted_by_kind(toy: Toy, client: httpx.Client) -> None:
    toy.reset_counts()
    assert toy.calls == 0 and not toy.calls_by_kind
    client.get("/items")
    client.get("/items")
    client.get("/nowhere")
    toy.inject(503, kinds={"items"})
    client.get("/items")  # a failed request is still a request served
    assert toy.calls == 4
    assert toy.calls_by_kind == {"items": 3, "unknown": 1}


def test_latency_is_added_to_every_request(toy: Toy, client: httpx.Client) -> None:
    toy.latency = 0.05
    started = time.perf_counter()
    client.get("/items")
    assert time.perf_counter() - started >= 0.05


def test_faults_take_kinds_times_and_skip(toy: Toy, client: httpx.Client) -> None:
    toy.inject(503, times=2, kinds={"items"}, skip=1, retry_after=2.5)
    statuses = [client.get("/items") for _ in range(4)]
    assert [response.status_code for response in statuses] == [200, 503, 503, 200]
    assert statuses[1].json() == {"fault": 503, "kind": "items"}  # the vendor's error body
    assert statuses[1].headers["retry-after"] == "2.5"
    toy.inject(500, kinds={"token"})
    assert client.get("/items").status_code == 200  # another kind is untouched


def test_faults_match_a_group_of_kinds(toy: Toy, anonymous: httpx.Client) -> None:
    toy.inject(502, kinds={"auth"})
    assert anonymous.post("/oauth/token", data={}).json() == {"fault": 502, "kind": "token"}


@pytest.mark.parametrize("body", [b"raw bytes", "text", {"errors": ["custom"]}])
def test_a_fault_body_replaces_the_vendors(
    toy: Toy, client: httpx.Client, body: bytes | str | dict[str, list[str]]
) -> None:
    toy.inject(500, body=body)
    response = client.get("/items")
    assert response.status_code == 500
    assert response.content == (
        body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else b'{"errors":["custom"]}'
    )


def test_a_drop_before_processing_changes_nothing(toy: Toy, client: httpx.Client) -> None:
    toy.after("items", 1, lambda: toy.mutate("items", create=1))
    toy.inject(drop=True, kinds={"items"})
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/items")
    assert len(toy.items) == 10  # the request was not served, so nothing ran after it
    client.get("/items")
    assert len(toy.items) == 11


def test_a_fault_after_processing_keeps_the_effect(toy: Toy, client: httpx.Client) -> None:
    toy.after("items", 1, lambda: toy.mutate("items", create=1))
    toy.inject(502, kinds={"items"}, after_processing=True)
    assert client.get("/items").status_code == 502
    assert len(toy.items) == 11


def test_cleared_faults_never_fire(toy: Toy, client: httpx.Client) -> None:
    toy.inject(500, times=3)
    toy.clear_faults()
    assert client.get("/items").status_code == 200


def test_an_emulator_bug_answers_with_the_vendors_500(
    toy: Toy, client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    response = client.get("/boom")
    assert (response.status_code, response.json()) == (500, {"fault": 500, "kind": "boom"})
    assert "a bug in the emulator" in capsys.readouterr().err


def test_after_runs_once_right_after_the_nth_request(toy: Toy, client: httpx.Client) -> None:
    ran: list[int] = []
    toy.after("items", 2, lambda: ran.append(toy.calls))
    client.get("/items")
    assert ran == []
    client.get("/items")
    assert ran == [toy.calls]
    client.get("/items")
    assert len(ran) == 1
    with pytest.raises(ValueError):
        toy.after("items", 0, lambda: None)


def test_records_mutated_during_a_key_paged_scan(toy: Toy, client: httpx.Client) -> None:
    mutations = []
    toy.after("items", 1, lambda: mutations.append(toy.mutate("items", create=2, delete=4)))
    seen: list[int] = []
    after = 0
    while page := keys(client.get("/items", params={"after": after, "limit": 3})):
        seen += page
        after = page[-1]
    (mutation,) = mutations
    assert mutation.created == ("11", "12")
    deleted = [int(key) for key in mutation.deleted]
    assert deleted == [2, 4, 7, 9]  # spread: one already served by the first page, the others not yet
    assert seen == [1, 2, 3, 5, 6, 8, 10, 11, 12]
    assert set(seen) >= {key for key in range(1, 11) if key not in deleted}


def test_expire_sessions_ends_every_access_token(toy: Toy, client: httpx.Client) -> None:
    assert client.get("/items").status_code == 200
    toy.expire_sessions()
    assert client.get("/items").status_code == 401
