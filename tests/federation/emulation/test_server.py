"""The loopback HTTP/1.1 server: keep-alive, request parsing, dropped connections, and where it may listen."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from federation.emulation.server import Exchange, LoopbackServer, Reply, json_reply


class Recorder:
    """A handler that answers with what it received, drops on /drop, and fails on /bug."""

    def __init__(self) -> None:
        self.seen: list[Exchange] = []

    def __call__(self, exchange: Exchange) -> Reply | None:
        self.seen.append(exchange)
        if exchange.path == "/drop":
            return None
        if exchange.path == "/bug":
            raise ZeroDivisionError
        if exchange.path == "/empty":
            return Reply(204)
        return json_reply(200, {"method": exchange.method, "body": exchange.body.decode()}, {"X-Echo": "1"})


@pytest.fixture()
def served() -> Iterator[tuple[LoopbackServer, Recorder]]:
    recorder = Recorder()
    server = LoopbackServer(recorder)
    server.start()
    yield server, recorder
    server.stop()


def test_requests_share_one_keep_alive_connection(served: tuple[LoopbackServer, Recorder]) -> None:
    server, _ = served
    ports = set()
    with httpx.Client(base_url=server.url) as client:
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            with client.stream(method, "/x") as response:
                ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
                assert response.read() and response.json()["method"] == method
    assert len(ports) == 1


def test_a_request_is_parsed_into_an_exchange(served: tuple[LoopbackServer, Recorder]) -> None:
    server, recorder = served
    with httpx.Client(base_url=server.url) as client:
        response = client.post("/path/x", params={"q": "a b", "empty": ""}, data={"k": "v&w"}, headers={"X-Y": "Z"})
    assert response.status_code == 200 and response.headers["x-echo"] == "1"
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    exchange = recorder.seen[-1]
    assert (exchange.method, exchange.path) == ("POST", "/path/x")
    assert exchange.params == {"q": "a b", "empty": ""}
    assert exchange.headers["x-y"] == "Z"
    assert exchange.form() == {"k": "v&w"}
    assert exchange.base_url == server.url


def test_json_bodies_and_chunked_uploads(served: tuple[LoopbackServer, Recorder]) -> None:
    server, recorder = served
    with httpx.Client(base_url=server.url) as client:
        client.post("/j", json={"a": [1, None, "é"]})
        assert recorder.seen[-1].json() == {"a": [1, None, "é"]}
        chunked = client.post("/c", content=iter([b"first,", b"second"]))  # no length: sent chunked
    assert recorder.seen[-1].headers["transfer-encoding"] == "chunked"
    assert chunked.json()["body"] == "first,second"
    with pytest.raises(ValueError):
        Exchange("POST", "/", {}, {}, b"not json", server.url).json()


def test_urls_follow_the_host_the_client_asked_for(served: tuple[LoopbackServer, Recorder]) -> None:
    server, recorder = served
    with httpx.Client(base_url=server.url) as client:
        client.get("/x", headers={"Host": "api.example.com", "X-Forwarded-Proto": "https"})
    assert recorder.seen[-1].base_url == "https://api.example.com"


def test_a_dropped_request_closes_the_connection_without_a_response(
    served: tuple[LoopbackServer, Recorder],
) -> None:
    server, _ = served
    with httpx.Client(base_url=server.url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/drop")
        assert client.get("/x").status_code == 200  # the client reconnects


def test_a_handler_bug_is_a_500_and_the_server_keeps_serving(
    served: tuple[LoopbackServer, Recorder], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = served
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/bug").status_code == 500
        assert client.get("/empty").status_code == 204
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_it_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        LoopbackServer(Recorder(), host="0.0.0.0")
    server = LoopbackServer(Recorder())
    with pytest.raises(RuntimeError, match="not running"):
        server.url  # noqa: B018
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)):
            pass
    finally:
        server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
