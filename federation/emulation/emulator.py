"""`Emulator`: the base class of every vendor's emulator, and what it does around each request.

A vendor's emulator subclasses it and supplies the protocol: `kind_of` names the endpoint a request addresses
(the *kind* tests count and inject faults by), `handle` serves it, and the rendering hooks give the vendor's own
error bodies. The base runs the loopback server and, around every request, in this order: classify; wait the
configured `latency`; take an injected fault; admit the call under the quotas (or reject it with the vendor's
429 and ``Retry-After``); count it; let the vendor serve it; then run what `after` scheduled.

```python
with AcmeEmulator(records=1000) as acme:
    acme.inject(503, retry_after=1, kinds={"page"}, skip=2)    # the third page fails once
    acme.set_quotas([Quota("second", 5, 1.0)])
    acme.after("page", 1, lambda: acme.mutate("Customer", create=3, delete=3))
    acme.clock.advance(3600)                                   # every token issued so far has expired
    acme.calls, acme.calls_by_kind, acme.rejected, acme.max_in_flight
```
"""

from __future__ import annotations

import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

import orjson

from .clock import Clock
from .faults import Fault, FaultBody, Faults
from .oauth import OAuthServer
from .quotas import Quota, Quotas, QuotaState, Rejection
from .server import Exchange, LoopbackServer, Reply, json_reply


@dataclass(frozen=True)
class Mutation:
    """Keys (as text) of the records `Emulator.mutate` created and deleted."""

    created: tuple[str, ...]
    deleted: tuple[str, ...]


@dataclass
class _After:
    kinds: frozenset[str]
    remaining: int
    action: Callable[[], None]


class Emulator(ABC):
    """A vendor API on 127.0.0.1 with counting, latency, faults, quotas and scheduled actions.

    Use as a context manager (or `start` / `stop`). Subclasses call ``super().__init__`` and implement
    `kind_of`, `handle` and `mutate`; an emulator whose tokens come from the kit's `OAuthServer` sets `oauth`,
    which makes `expire_sessions` work.
    """

    #: Names of groups of kinds, usable wherever kinds are given (`inject`, `after`): e.g. all pages of a scan.
    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {}
    #: Kinds no quota counts (a vendor's token endpoint usually lives on another host with its own limits).
    unmetered_kinds: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        clock: Clock | None = None,
        quotas: Iterable[Quota] = (),
    ) -> None:
        #: The emulator's time: tokens, cursors and quota windows expire on it.
        self.clock = clock or Clock()
        #: Seconds added to every request before it is served.
        self.latency = latency
        #: Requests answered (faults included; rejections by a quota are counted in `rejected` instead).
        self.calls = 0
        self.calls_by_kind: Counter[str] = Counter()
        #: Requests refused by a quota.
        self.rejected = 0
        #: Requests being served right now, and the most served at once since the last `reset_counts`.
        self.in_flight = 0
        self.max_in_flight = 0
        self.quotas = Quotas(self.clock, quotas)
        self.oauth: OAuthServer | None = None
        self._faults = Faults()
        self._afters: list[_After] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(self.serve, port=port, name=type(self).__name__)

    # -- what a vendor implements ---------------------------------------------------------------------------

    @abstractmethod
    def kind_of(self, exchange: Exchange) -> str:
        """The kind of endpoint `exchange` addresses (known before authentication, so every request counts)."""

    @abstractmethod
    def handle(self, kind: str, exchange: Exchange) -> Reply:
        """Serve one request whose kind `kind_of` named."""

    @abstractmethod
    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        """Create `create` new records of `table` and delete `delete` existing ones spread over its key range."""

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        """The vendor's error reply for an injected fault's status (a custom body replaces its body)."""
        return json_reply(fault.status, {"error": f"injected fault {fault.status}"})

    def quota_reply(self, rejection: Rejection, kind: str, exchange: Exchange) -> Reply:
        """The vendor's reply to a call over a quota (``Retry-After`` and `quota_headers` are added to it)."""
        return json_reply(429, {"error": f"rate limit {rejection.state.quota.name!r} exceeded"})

    def quota_headers(self, states: Mapping[str, QuotaState]) -> dict[str, str]:
        """Rate-limit headers sent with every metered reply, from each quota's state by name; default none."""
        return {}

    def key_of(self, exchange: Exchange) -> str:
        """What quotas count calls per (an account, an app and division, …); default one key for everything."""
        return ""

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free loopback port and serve in a background thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port`` of the running server."""
        return self._server.url

    # -- test controls --------------------------------------------------------------------------------------

    def reset_counts(self) -> None:
        """Zero `calls`, `calls_by_kind` and `rejected` (quota windows keep what they counted)."""
        with self._lock:
            self.calls = 0
            self.rejected = 0
            self.calls_by_kind.clear()
            self.max_in_flight = self.in_flight

    def inject(
        self,
        status: int = 500,
        *,
        times: int = 1,
        kinds: Collection[str] | None = None,
        body: FaultBody = None,
        retry_after: float | None = None,
        drop: bool = False,
        after_processing: bool = False,
        skip: int = 0,
    ) -> None:
        """Fail `times` requests of `kinds` (all kinds when None), after letting the next `skip` of them through.

        They answer `status` with the vendor's error body for it (or `body`: bytes, text, or JSON-ready data),
        plus ``Retry-After`` when `retry_after` is given; with `drop` the connection closes without a response.
        With `after_processing` the request is carried out first and only its response is replaced or lost.
        """
        chosen = frozenset(kinds) if kinds is not None else None
        self._faults.add(Fault(status, times, chosen, body, retry_after, drop, after_processing, skip))

    def clear_faults(self) -> None:
        """Forget every injected fault that has not fired yet."""
        self._faults.clear()

    def set_quotas(self, quotas: Iterable[Quota]) -> None:
        """Enforce `quotas` from now on (an empty list: none), starting their counts afresh."""
        self.quotas.configure(quotas)

    def after(self, kind: str, count: int, action: Callable[[], None]) -> None:
        """Run `action` right after the `count`-th next request of `kind` is served, before its reply is sent."""
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._afters.append(_After(self._expand({kind}), count, action))

    def expire_sessions(self) -> None:
        """End every access token issued so far (refresh tokens keep working)."""
        if self.oauth is None:
            raise NotImplementedError(f"{type(self).__name__} has no sessions to expire")
        self.oauth.expire_all()

    # -- serving --------------------------------------------------------------------------------------------

    def serve(self, exchange: Exchange) -> Reply | None:
        """Answer one request; None means close the connection without answering (an injected drop)."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._served(exchange)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _served(self, exchange: Exchange) -> Reply | None:
        kind = self.kind_of(exchange)
        if self.latency > 0:
            time.sleep(self.latency)
        fault = self._faults.take(lambda kinds: kind in self._expand(kinds))
        metered = kind not in self.unmetered_kinds and (fault is None or fault.after_processing)
        key = self.key_of(exchange) if metered else ""
        rejection = self.quotas.admit(key) if metered else None
        with self._lock:
            if rejection is not None:
                self.rejected += 1
            else:
                self.calls += 1
                self.calls_by_kind[kind] += 1
        if rejection is not None:
            headers = {"Retry-After": str(rejection.retry_after), **self.quota_headers(self.quotas.states(key))}
            return self.quota_reply(rejection, kind, exchange).with_headers(headers)
        served: Reply | None = None
        if fault is None or fault.after_processing:
            served = self._handle(kind, exchange)
            self._run_afters(kind)
        reply = served if fault is None else self._fault(fault, kind, exchange)
        if reply is None or not metered:
            return reply
        return reply.with_headers(self.quota_headers(self.quotas.states(key)))

    def _handle(self, kind: str, exchange: Exchange) -> Reply:
        try:
            return self.handle(kind, exchange)
        except Exception:
            # A bug in the emulator: answer as the vendor does for its own, and leave the trace on stderr.
            traceback.print_exc()
            return self.fault_reply(Fault(500), kind, exchange)

    def _fault(self, fault: Fault, kind: str, exchange: Exchange) -> Reply | None:
        if fault.drop:
            return None
        reply = self.fault_reply(fault, kind, exchange)
        if fault.body is not None:
            body = fault.body
            raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else orjson.dumps(body)
            reply = Reply(reply.status, raw, reply.content_type, reply.headers)
        if fault.retry_after is not None:
            reply = reply.with_headers({"Retry-After": f"{fault.retry_after:g}"})
        return reply

    def _run_afters(self, kind: str) -> None:
        due: list[Callable[[], None]] = []
        with self._lock:
            for scheduled in list(self._afters):
                if kind in scheduled.kinds:
                    scheduled.remaining -= 1
                    if scheduled.remaining == 0:
                        self._afters.remove(scheduled)
                        due.append(scheduled.action)
        for action in due:
            action()

    def _expand(self, kinds: Iterable[str]) -> frozenset[str]:
        """`kinds` with every group name replaced by the kinds it stands for."""
        return frozenset(one for kind in kinds for one in self.kind_groups.get(kind, {kind}))
