"""The built-in sandbox: every source's emulator on a free loopback port, with working credentials.

```python
with Sandbox(records=1000) as sandbox:
    engine = create_engine(sandbox.url("financialforce"))   # works as is
    sandbox.calls("financialforce")                          # API requests served so far
```

Emulators are found through the `duckfed.sandbox` entry points: each maps a source scheme to a `SandboxSpec`,
which builds the emulator for a record count and knows the credentials it accepts. The sandbox also gives its
sources a private metadata cache directory, so runs never read each other's metadata and nothing is left behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol
from urllib.parse import urlencode

from federation.errors import ConfigurationError

GROUP = "duckfed.sandbox"


class SandboxServer(Protocol):
    """What an emulator offers the sandbox."""

    @property
    def url(self) -> str: ...

    @property
    def calls(self) -> int: ...

    def start(self) -> Any: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class SandboxSpec:
    """How to run one source's emulator, and the connection properties it accepts."""

    build: Callable[[int], SandboxServer]
    credentials: Mapping[str, str]


def sandbox_sources() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


class Sandbox:
    """Emulators for `sources` (default: all), started on enter and stopped on exit."""

    def __init__(self, records: int = 1000, sources: Iterable[str] | None = None) -> None:
        if records < 0:
            raise ConfigurationError("records must not be negative")
        self.records = records
        self.names = list(sources) if sources is not None else sandbox_sources()
        self.servers: dict[str, SandboxServer] = {}
        self.specs: dict[str, SandboxSpec] = {}
        self._cache_dir: str | None = None

    def __enter__(self) -> Sandbox:
        factories = {ep.name: ep for ep in entry_points(group=GROUP)}
        unknown = [name for name in self.names if name not in factories]
        if unknown:
            raise ConfigurationError(f"no sandbox for {', '.join(unknown)}; there are: {', '.join(factories)}")
        self._cache_dir = tempfile.mkdtemp(prefix="duckfed-sandbox-")
        try:
            for name in self.names:
                spec = factories[name].load()
                if not isinstance(spec, SandboxSpec):
                    raise ConfigurationError(f"the {GROUP} entry point {name!r} does not name a SandboxSpec")
                server = spec.build(self.records)
                server.start()
                self.specs[name] = spec
                self.servers[name] = server
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        if self._cache_dir:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    def server(self, source: str) -> SandboxServer:
        try:
            return self.servers[source]
        except KeyError:
            raise ConfigurationError(f"the sandbox is not running {source!r}") from None

    def endpoint(self, source: str) -> str:
        """The value for the `URL` property that points a connector at this emulator."""
        return self.server(source).url

    def properties(self, source: str) -> dict[str, str]:
        """Connection properties that work against the emulator as they are."""
        credentials = self.specs[source].credentials
        return {**credentials, "URL": self.endpoint(source), "MetadataCacheDir": self._cache()}

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
