"""Injected faults, latency and the request counters."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.salesforce.emulator import SalesforceEmulator

from .conftest import V, password_grant


def test_status_faults_use_the_platforms_bodies_and_retry_after(
    emulator: SalesforceEmulator, client: httpx.Client
) -> None:
    emulator.inject(503, times=2, kinds={"query"}, retry_after=7)
    assert client.get(f"{V}/limits").status_code == 200  # another kind is untouched
    for _ in range(2):
        response = client.get(f"{V}/query", params={"q": "SELECT Id FROM User"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "7"
        assert response.json() == [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
        assert "sforce-limit-info" in response.headers
    assert client.get(f"{V}/query", params={"q": "SELECT Id FROM User"}).status_code == 200


def test_fault_with_a_custom_body(emulator: SalesforceEmulator, client: httpx.Client) -> None:
    emulator.inject(500, body=[{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}])
    response = client.get(f"{V}/sobjects")
    assert (response.status_code, response.json()[0]["message"]) == (500, "boom")


def test_login_faults_speak_each_protocol(emulator: SalesforceEmulator, anonymous: httpx.Client) -> None:
    emulator.inject(500, kinds={"token"})
    response = password_grant(anonymous)
    assert response.status_code == 500
    assert response.json() == {"error": "unknown_error", "error_description": "retry your request"}
    emulator.inject(500, kinds={"login"})
    soap = anonymous.post("/services/Soap/u/59.0", content=b"<x/>")
    assert soap.status_code == 500 and "<sf:exceptionCode>UNKNOWN_EXCEPTION</sf:exceptionCode>" in soap.text


def test_a_dropped_connection_before_processing_changes_nothing(
    emulator: SalesforceEmulator, client: httpx.Client
) -> None:
    before = len(emulator.store.records("Account"))
    emulator.inject(drop=True, kinds={"create"})
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{V}/sobjects/Account", json={"Name": "Lost before"})
    assert len(emulator.store.records("Account")) == before


def test_a_dropped_response_after_processing_keeps_the_write(
    emulator: SalesforceEmulator, client: httpx.Client
) -> None:
    before = len(emulator.store.records("Account"))
    emulator.inject(drop=True, kinds={"create"}, after_processing=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{V}/sobjects/Account", json={"Name": "Lost after"})
    records = emulator.store.records("Account")
    assert len(records) == before + 1 and records[-1]["Name"] == "Lost after"
    emulator.inject(502, kinds={"update"}, after_processing=True)
    response = client.patch(f"{V}/sobjects/Account/{records[-1]['Id']}", json={"Rating": "Warm"})
    assert response.status_code == 502
    assert emulator.store.get(records[-1]["Id"])["Rating"] == "Warm"  # type: ignore[index]


def test_latency_is_added_to_every_request(emulator: SalesforceEmulator, client: httpx.Client) -> None:
    emulator.latency = 0.2
    started = time.perf_counter()
    client.get(f"{V}/limits")
    assert time.perf_counter() - started >= 0.2


def test_every_request_is_counted_by_kind(emulator: SalesforceEmulator, client: httpx.Client) -> None:
    emulator.reset_counts()
    assert emulator.calls == 0 and not emulator.calls_by_kind
    client.get(f"{V}/sobjects/Account/describe")
    client.get(f"{V}/query", params={"q": "SELECT Id FROM Account"}, headers={"Sforce-Query-Options": "batchSize=200"})
    client.get("/nowhere")
    emulator.inject(500, kinds={"limits"})
    client.get(f"{V}/limits")
    assert emulator.calls == 4
    assert emulator.calls_by_kind == {"describe": 1, "query": 1, "unknown": 1, "limits": 1}


def test_requests_share_a_keep_alive_connection(emulator: SalesforceEmulator) -> None:
    with httpx.Client(base_url=emulator.url) as client:
        token = password_grant(client).json()["access_token"]
        local_ports = set()
        for _ in range(3):
            with client.stream("GET", f"{V}/limits", headers={"Authorization": f"Bearer {token}"}) as response:
                local_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
                response.read()  # a response left unread would cost its connection
    assert len(local_ports) == 1
