"""The built-in sandbox: every source's emulator on a free loopback port, with working credentials.

```python
with Sandbox(records=1000) as sandbox:
    engine = create_engine(sandbox.url("financialforce"))   # works as is
    sandbox.calls("financialforce")                          # API requests served so far
    sandbox.server("financialforce").inject(503, kinds={"scan"})
```

Emulators are found through the `duckfed.sandbox` entry points: each maps a source scheme to a `SandboxSpec`,
which builds the emulator for a record count, knows the connection properties it accepts, and describes the
source to the conformance suite (`ConformanceCase`). The sandbox gives its sources a private metadata cache
directory, so runs never read each other's metadata and nothing is left behind, and OAuth sources a callback
URL on a port that is free when the sandbox starts, so parallel test workers never collide.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from federation.emulation.clock import Clock
from federation.emulation.emulator import Mutation
from federation.emulation.faults import FaultBody
from federation.emulation.oauth import OAuthServer
from federation.emulation.quotas import Quota, Quotas
from federation.errors import ConfigurationError

GROUP = "duckfed.sandbox"


class SandboxServer(Protocol):
    """What an emulator offers the sandbox and the tests (the kit's `Emulator` provides all of it)."""

    latency: float

    @property
    def url(self) -> str: ...

    @property
    def calls(self) -> int: ...

    @property
    def calls_by_kind(self) -> Mapping[str, int]: ...

    @property
    def rejected(self) -> int: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def quotas(self) -> Quotas: ...

    @property
    def oauth(self) -> OAuthServer | None: ...

    def start(self) -> object: ...

    def stop(self) -> None: ...

    def reset_counts(self) -> None: ...

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
    ) -> None: ...

    def clear_faults(self) -> None: ...

    def expire_sessions(self) -> None: ...

    def after(self, kind: str, count: int, action: Callable[[], None]) -> None: ...

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation: ...

    def set_quotas(self, quotas: Iterable[Quota]) -> None: ...


@dataclass(frozen=True)
class CallCase:
    """One row of a source's call-count matrix: a statement over its sandbox tables (schema `src`, sandbox of
    `CALL_RECORDS` records), the API calls it costs on a warm connection (logged in, metadata cached: those cost
    0), and the theoretical minimum, ceil(rows needed / the largest page the API serves). `reason` says, from the
    API, why the calls exceed the minimum (or why the shape can't be asked at all: `sql` None)."""

    shape: str
    sql: str | None
    calls: int
    minimum: int
    reason: str = ""


#: Records per table in the sandbox the call-count matrices (`ConformanceCase.calls`) are measured on.
CALL_RECORDS = 2500


@dataclass(frozen=True)
class ConformanceCase:
    """What the conformance suite needs to know about a source to check it against its emulator."""

    #: The main read table; it has at least the sandbox's record count of rows.
    table: str
    #: Its key column.
    key: str
    #: Properties that make `table` span several pages, e.g. ``{"PageSize": "200"}``.
    small_pages: Mapping[str, str]
    #: Rows per page under `small_pages`.
    page_size: int
    #: API calls a new connection's login costs.
    login_calls: int
    #: A text column of `table` seeded with `federation.emulation.pools.HOSTILE_TEXT` values.
    hostile_column: str
    #: The emulator's call kind (or kind group) of a scan page: faults are injected on it.
    scan_kind: str
    writable_table: str
    #: A valid INSERT row for `writable_table`, unique per `n`.
    new_row: Callable[[int], Mapping[str, object]]
    #: A text column of `writable_table` that UPDATE may set.
    update_column: str
    #: The call-count matrix: point lookup, range, long IN list, LIMIT, top-N, count, GROUP BY text and number,
    #: selective join, join on a filter the API can't apply, LIKE prefix (`tests/conformance/test_calls.py`).
    calls: tuple[CallCase, ...] = ()


@dataclass(frozen=True)
class SandboxSpec:
    """How to run one source's emulator, the connection properties it accepts, and what else it contributes."""

    build: Callable[[int], SandboxServer]
    credentials: Mapping[str, str]
    conformance: ConformanceCase | None = None
    #: The source's part of `duckfed demo`, run against the running sandbox; files go into the given directory.
    demo: Callable[[Sandbox, Path], None] | None = None
    #: Whether connections need a ``CallbackURL`` (OAuth authorization-code sources).
    oauth_callback: bool = False


def sandbox_sources() -> list[str]:
    """Every source with a sandbox, by scheme."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


class Sandbox:
    """Emulators for `sources` (default: all), started on enter and stopped on exit.

    Sources come from the `duckfed.sandbox` entry points; `specs` adds or replaces some by scheme (a connector
    that is not installed, such as a test's), and without `sources` the sandbox runs those alone.
    """

    def __init__(
        self,
        records: int = 1000,
        sources: Iterable[str] | None = None,
        *,
        specs: Mapping[str, SandboxSpec] | None = None,
    ) -> None:
        if records < 0:
            raise ConfigurationError("records must not be negative")
        self.records = records
        self._given = dict(specs or {})
        self.names = list(sources) if sources is not None else list(self._given) or sandbox_sources()
        self.servers: dict[str, SandboxServer] = {}
        self.specs: dict[str, SandboxSpec] = {}
        self._callbacks: dict[str, str] = {}
        self._cache_dir: str | None = None

    def __enter__(self) -> Sandbox:
        factories = {ep.name: ep for ep in entry_points(group=GROUP)}
        unknown = [name for name in self.names if name not in factories and name not in self._given]
        if unknown:
            known = sorted({*factories, *self._given})
            raise ConfigurationError(f"no sandbox for {', '.join(unknown)}; there are: {', '.join(known)}")
        self._cache_dir = tempfile.mkdtemp(prefix="duckfed-sandbox-")
        try:
            for name in self.names:
                spec = self._given[name] if name in self._given else factories[name].load()
                if not isinstance(spec, SandboxSpec):
                    raise ConfigurationError(f"the {GROUP} entry point {name!r} does not name a SandboxSpec")
                server = spec.build(self.records)
                server.start()
                self.specs[name] = spec
                self.servers[name] = server
                if spec.oauth_callback:
                    self._callbacks[name] = f"http://127.0.0.1:{free_port()}/callback"
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        self._callbacks.clear()
        if self._cache_dir:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    def server(self, source: str) -> SandboxServer:
        """The running emulator of `source`, with its test controls."""
        try:
            return self.servers[source]
        except KeyError:
            raise ConfigurationError(f"the sandbox is not running {source!r}") from None

    def endpoint(self, source: str) -> str:
        """The value for the `URL` property that points a connector at this emulator."""
        return self.server(source).url

    def properties(self, source: str) -> dict[str, str]:
        """Every connection property `source` needs to connect to its emulator, as it is."""
        endpoint = self.endpoint(source)
        properties = {**self.specs[source].credentials, "URL": endpoint, "MetadataCacheDir": self._cache()}
        if source in self._callbacks:
            properties["CallbackURL"] = self._callbacks[source]
            # Tokens go to the sandbox's own directory, never to the user's default token file.
            properties["OAuthSettingsLocation"] = str(Path(self._cache()) / f"{source}-tokens.json")
        return properties

    def url(self, source: str) -> str:
        """A SQLAlchemy URL for the emulator, with the sandbox's credentials."""
        return f"{source}:///?{urlencode(self.properties(source))}"

    def calls(self, source: str) -> int:
        """How many API requests the source's emulator has served so far."""
        return self.server(source).calls

    def _cache(self) -> str:
        if self._cache_dir is None:
            raise ConfigurationError("the sandbox is not running")
        return self._cache_dir


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it), for an OAuth callback listener."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
