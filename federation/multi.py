"""The SQLAlchemy dialect `duckfed://`: several sources in one engine, so cross-source joins work from SQLAlchemy.

Each query parameter names a source and carries its whole URL, URL-encoded once more as the parameter's value:

```python
create_engine("duckfed:///?fin=" + quote(fin_url, safe="") + "&gl=" + quote(gl_url, safe=""))
```

That is `federation.connect({"fin": fin_url, "gl": gl_url})` as an engine: each source's tables are views in the
schema of its name (`fin.Account`), and reflection answers per source (`inspect(engine).get_table_names("fin")`).
The sources' URLs are checked when the engine is created, and `engine.url` masks their secrets as the
single-source dialects mask theirs (`federation.dialect.redacted_url`).

The sources can also come from a TOML file (`federation.sources_file`), named as SQLite names its database:
`duckfed:///sources.toml` (relative to the working directory) or `duckfed:////home/me/sources.toml`; the URL
then holds no secret at all. A query string may add sources to the file's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from federation.connection import connect
from federation.connector import Connector
from federation.dialect import FederatedConnectionWrapper, FederationDialect, redacted_url
from federation.errors import ConfigurationError
from federation.registry import connector_class, properties_of
from federation.sources import check_key
from federation.sources_file import Source, read_sources

_FORM = "duckfed:///?name=<URL-encoded source URL>&…, or duckfed:///sources.toml"


def _scheme(source: URL) -> str:
    return source.drivername.split("+")[0]


def sources_of(url: URL) -> dict[str, URL]:
    """The sources a `duckfed://` URL names, by source name, each URL checked: its scheme is installed and its
    properties are given once each. Errors name the source, never a value (it may be a secret)."""
    if url.host or url.port or url.username or url.password or (url.database and not _is_file(url.database)):
        raise ConfigurationError(f"a duckfed URL names its sources in the query string only, or a file: {_FORM}")
    if not url.query and not url.database:
        raise ConfigurationError(f"a duckfed URL needs at least one source: {_FORM}")
    sources: dict[str, URL] = {}
    for name, value in url.query.items():
        check_key(name)
        if name.lower() in (known.lower() for known in sources):
            raise ConfigurationError("source names differ only in case", source=name)
        if not isinstance(value, str):
            raise ConfigurationError("the source is given more than once", source=name)
        try:
            source = make_url(value)
            connector_class(_scheme(source))
            properties_of(source)
        except ArgumentError:
            raise ConfigurationError(
                f"the value is not a source URL (scheme:///?properties), URL-encoded whole: {_FORM}", source=name
            ) from None
        except ConfigurationError as e:
            raise ConfigurationError(e.message, source=name) from None
        sources[name] = source
    return sources


def _is_file(database: str) -> bool:
    return database.lower().endswith(".toml")


def all_sources(url: URL) -> dict[str, Source]:
    """Every source a `duckfed://` URL names, as `federation.connect` takes them: its sources file's, then its
    query string's (`sources_of`); a name may be given once."""
    found: dict[str, Source] = {}
    queried = {name: u.render_as_string(hide_password=False) for name, u in sources_of(url).items()}
    named = read_sources(url.database) if url.database else {}
    for name, source in [*named.items(), *queried.items()]:
        check_key(name)
        if name.lower() in (known.lower() for known in found):
            raise ConfigurationError("the source is named twice (names differ in case at most)", source=name)
        found[name] = source
    return found


class DuckfedDialect(FederationDialect):
    """Several sources, each in the schema of its name: from a sources file, and the URL's query string mapping
    names to source URLs."""

    scheme = "duckfed"
    supports_statement_cache = False

    def create_connect_args(self, url: URL) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (), {"sources": all_sources(url)}

    def connect(self, *cargs: Any, **cparams: Any) -> FederatedConnectionWrapper:  # type: ignore[override]
        return FederatedConnectionWrapper(connect(cparams["sources"]))

    @classmethod
    def engine_created(cls, engine: Engine) -> None:
        """Check the sources file, if any, and mask the secrets inside every source URL of the query string; the
        pool already holds the real ones."""
        all_sources(engine.url)
        masked = {
            name: redacted_url(source, _scheme(source)).render_as_string(hide_password=True)
            for name, source in sources_of(engine.url).items()
        }
        engine.url = engine.url.set(query=masked)

    def _source(self, connection: Any, schema: str | None) -> Connector | None:
        # Only a source's own schema holds its tables: the default one is the user's DuckDB schema.
        found = self._federated(connection).federation.source(schema) if schema else None
        return found[1] if found else None

    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return list(self._federated(connection).federation.sources)
