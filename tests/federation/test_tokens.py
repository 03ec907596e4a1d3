"""The token store: keyed entries, atomic 0600 writes in a 0700 directory, and one refresh at a time across
threads and processes, adopting what another holder already rotated."""

from __future__ import annotations

import multiprocessing
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from federation.auth import Session
from federation.tokens import StoredLogin, TokenStore, token_key


class CountingLogin(StoredLogin):
    """Issues numbered tokens; a refresh must present the latest refresh token, as single-use ones demand."""

    def __init__(self, store: TokenStore | None, issued: list[str]) -> None:
        super().__init__(store, token_key("test", "http://127.0.0.1:1", "u"), skew=0.0)
        self.issued = issued

    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        number = len(self.issued) + 1
        if self.issued:
            assert previous.get("refresh_token") == f"r{len(self.issued)}", "a rotated refresh token was reused"
        self.issued.append(f"a{number}")
        return {"access_token": f"a{number}", "refresh_token": f"r{number}", "expires_in": 3600}

    def session(self, token: Mapping[str, Any]) -> Session:
        return Session(str(token["access_token"]))


def test_file_and_directory_modes(tmp_path: Path) -> None:
    path = tmp_path / "private" / "tokens.json"
    store = TokenStore.at(path)
    store.write("k", {"access_token": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.read("k") == {"access_token": "x"}
    assert store.read("other") is None
    assert TokenStore.at(path) is store  # one store per file in the process


def test_entries_are_keyed_by_source_endpoint_and_principal(tmp_path: Path) -> None:
    store = TokenStore.at(tmp_path / "t.json")
    old = token_key("acton", "http://127.0.0.1:1000/token", "client")
    new = token_key("acton", "http://127.0.0.1:2000/token", "client")
    store.write(old, {"access_token": "old"})
    assert store.read(new) is None
    assert store.read(token_key("exactonline", "http://127.0.0.1:1000/token", "client")) is None


def test_a_file_in_another_format_is_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"access_token": "from another tool"}')
    assert TokenStore.at(path).read("anything") is None


def test_threads_renewing_the_same_stale_session_refresh_once(tmp_path: Path) -> None:
    issued: list[str] = []
    logins = [CountingLogin(TokenStore.at(tmp_path / "t.json"), issued) for _ in range(8)]
    first = logins[0].login()
    sessions: list[Session] = []
    barrier = threading.Barrier(8)

    def renew(login: CountingLogin) -> None:
        barrier.wait()
        sessions.append(login.renew(first))

    threads = [threading.Thread(target=renew, args=(login,)) for login in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert issued == ["a1", "a2"]
    assert {s.token for s in sessions} == {"a2"}


class NeverIssues(CountingLogin):
    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        raise AssertionError("refreshed although another process holds a newer token")


def _renew_in_child(path: str, stale: str) -> None:
    NeverIssues(TokenStore.at(Path(path)), []).renew(Session(stale))


def test_processes_adopt_each_others_rotations(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    issued: list[str] = []
    login = CountingLogin(TokenStore.at(path), issued)
    session = login.login()
    # Another process whose session is older than the stored one adopts the stored one: no refresh.
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_renew_in_child, args=(str(path), "an-older-token"))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert issued == ["a1"]
    # Renewing the live token itself does refresh, with the latest refresh token.
    assert login.renew(session).token == "a2"
