"""A minimal vendor emulator built on the kit, for testing the kit itself through real HTTP.

``/oauth/token`` and ``/oauth/authorize`` are the kit's OAuth server; ``/items?after=K&limit=N`` pages through
integer-keyed records by key (needs a Bearer token); ``/boom`` fails with an emulator bug. Quotas count per
``X-Account`` header, and report each quota's remaining calls in ``X-Remaining-<name>``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import ClassVar

from federation.emulation.clock import Clock
from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.faults import Fault
from federation.emulation.oauth import OAuthClient, OAuthServer, TokenPolicy
from federation.emulation.quotas import QuotaState
from federation.emulation.server import Exchange, Reply, json_reply

CLIENT = OAuthClient("toy-client", "toy-secret")
USER, PASSWORD = "alice", "wonderland"
_KINDS = {"/oauth/token": "token", "/oauth/authorize": "authorize", "/items": "items", "/boom": "boom"}


class Toy(Emulator):
    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {"auth": frozenset({"token", "authorize"})}
    unmetered_kinds: ClassVar[frozenset[str]] = frozenset({"token", "authorize"})

    def __init__(self, records: int = 10, *, policy: TokenPolicy | None = None, clock: Clock | None = None) -> None:
        super().__init__(clock=clock)
        self.oauth = OAuthServer([CLIENT], {USER: PASSWORD}, self.clock, policy)
        self.items = {key: f"item {key}" for key in range(1, records + 1)}
        self._next_key = records + 1
        self._lock = threading.Lock()

    def kind_of(self, exchange: Exchange) -> str:
        return _KINDS.get(exchange.path, "unknown")

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        assert self.oauth is not None
        if kind == "token":
            return self.oauth.token(exchange)
        if kind == "authorize":
            return self.oauth.authorize(exchange)
        if kind == "boom":
            raise RuntimeError("a bug in the emulator")
        if kind == "unknown":
            return json_reply(404, {"error": "no such endpoint"})
        scheme, _, token = exchange.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.oauth.check(token) is None:
            return json_reply(401, {"error": "invalid_token"})
        after, limit = int(exchange.params.get("after", "0")), int(exchange.params.get("limit", "3"))
        with self._lock:
            keys = sorted(key for key in self.items if key > after)[:limit]
            page = [{"key": key, "value": self.items[key]} for key in keys]
        return json_reply(200, {"items": page})

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        with self._lock:
            keys = sorted(self.items)
            doomed = [keys[int((at + 0.5) * len(keys) / delete)] for at in range(delete)]
            for key in doomed:
                del self.items[key]
            created = list(range(self._next_key, self._next_key + create))
            self._next_key += create
            self.items.update({key: f"new {key}" for key in created})
        return Mutation(tuple(map(str, created)), tuple(map(str, doomed)))

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        return json_reply(fault.status, {"fault": fault.status, "kind": kind})

    def quota_headers(self, states: Mapping[str, QuotaState]) -> dict[str, str]:
        return {f"X-Remaining-{name}": str(state.remaining) for name, state in states.items()}

    def key_of(self, exchange: Exchange) -> str:
        return exchange.headers.get("x-account", "")
