"""ossobv's `exactonline` package (the widely used Python client of this API), unmodified, against the emulator:
consent and token, the current division, listing with paging, a filter, create, update, delete, and the token
refresh it does itself after a 401.

The client speaks only HTTPS with certificate checks (its `opt_secure`), through urllib. So the emulator is put
behind a small TLS front on 127.0.0.1 with a certificate from a test CA (`trustme`) that `SSL_CERT_FILE` makes
trusted, and the client's documented `[server]` settings name that address: its transport goes to the emulator,
its code is untouched. The front adds `X-Forwarded-Proto: https`, so the emulator's `__next` links stay https.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from connectors.exactonline.emulator import CLIENT_ID, CLIENT_SECRET, ExactOnlineEmulator

exactonline_api = pytest.importorskip("exactonline.api")
exactonline_storage = pytest.importorskip("exactonline.storage.ini")


class TlsFront:
    """Accepts TLS on 127.0.0.1 and relays each connection, plain, to the emulator (one request each: urllib
    sends `Connection: close`), adding `X-Forwarded-Proto: https` to the request head."""

    def __init__(self, ca: trustme.CA, target: int) -> None:
        self.target = target
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(raw,), daemon=True).start()

    def _relay(self, raw: socket.socket) -> None:
        try:
            with (
                self.context.wrap_socket(raw, server_side=True) as client,
                socket.create_connection(("127.0.0.1", self.target)) as server,
            ):
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                line, _, rest = head.partition(b"\r\n")
                server.sendall(line + b"\r\nX-Forwarded-Proto: https\r\n" + rest)
                threading.Thread(target=_pipe, args=(client, server), daemon=True).start()
                _pipe(server, client)
        except (OSError, ssl.SSLError):
            return

    def close(self) -> None:
        self.listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        return


@pytest.fixture()
def exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ExactOnlineEmulator, object]]:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with ExactOnlineEmulator(150) as emulator:
        front = TlsFront(ca, int(emulator.url.rsplit(":", 1)[1]))
        base = f"https://127.0.0.1:{front.port}"
        config = tmp_path / "exact.ini"
        config.write_text(
            f"[server]\nauth_url = {base}/api/oauth2/auth\nrest_url = {base}/api\ntoken_url = {base}/api/oauth2/token\n"
            f"[application]\nbase_url = https://example.com/callback\nclient_id = {CLIENT_ID}\n"
            f"client_secret = {CLIENT_SECRET}\n"
        )
        storage = exactonline_storage.IniStorage(str(config))
        yield emulator, exactonline_api.ExactApi(storage=storage)
        front.close()


def test_the_client_works_unmodified(exact: tuple[ExactOnlineEmulator, object]) -> None:
    emulator, api = exact
    client: object = api
    # The user's browser: open the client's consent URL, read the code off the redirect.
    with httpx.Client(verify=False) as browser:  # the test CA's cert, on loopback
        consent = browser.get(client.create_auth_request_url())  # type: ignore[attr-defined]
    code = consent.headers["location"].split("code=")[1]
    client.request_token(code)  # type: ignore[attr-defined]

    choices, current = client.get_divisions()  # type: ignore[attr-defined]
    assert current == 5512 and 5513 in choices
    client.set_division(current)  # type: ignore[attr-defined]

    relations = client.relations  # type: ignore[attr-defined]
    everyone = relations.all()
    assert len(everyone) == 150 and len({r["ID"] for r in everyone}) == 150  # three pages of 60
    assert emulator.calls_by_kind["list"] >= 3
    assert relations.get(relation_code="5")["Name"] == next(r["Name"] for r in everyone if r["Code"].strip() == "5")

    made = relations.create({"Name": "Third party B.V.", "City": "Utrecht"})
    assert made["ID"]
    relations.update(made["ID"], {"City": "Delft"})
    found = relations.filter(filter=f"ID eq guid'{made['ID']}'", select="ID,Name,City")
    assert found == [
        {"__metadata": found[0]["__metadata"], "ID": made["ID"], "Name": "Third party B.V.", "City": "Delft"}
    ]

    # Ten minutes later the token is refused; the client refreshes it (rotating) and carries on.
    refreshes = emulator.oauth.refreshes  # type: ignore[union-attr]
    emulator.clock.advance(601)
    relations.delete(made["ID"])
    assert emulator.oauth.refreshes == refreshes + 1  # type: ignore[union-attr]
    assert relations.filter(filter=f"ID eq guid'{made['ID']}'") == []
