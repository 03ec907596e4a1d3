"""Finds connectors by scheme through the `duckfed.connectors` entry points, and opens sources from URLs.

Discovery by entry point keeps import time free of every connector a program does not use.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points

from sqlalchemy.engine import URL, make_url

from federation.connector import Connector
from federation.errors import ConfigurationError

GROUP = "duckfed.connectors"


def schemes() -> list[str]:
    """Every installed source scheme."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


def connector_class(scheme: str) -> type[Connector]:
    """The connector class registered for `scheme`."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == scheme.lower()]
    if not found:
        known = ", ".join(schemes())
        raise ConfigurationError(f"unknown source {scheme!r}; installed sources are: {known}")
    cls = found[0].load()
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigurationError(f"entry point {scheme!r} does not name a Connector")
    return cls


def properties_of(url: URL) -> dict[str, str]:
    """The connection properties a SQLAlchemy URL carries in its query string (already URL-decoded)."""
    raw: dict[str, str] = {}
    for key, value in url.query.items():
        if not isinstance(value, str):
            raise ConfigurationError(f"connection property {key} is given more than once")
        raw[key] = value
    return raw


def open_source(spec: str | URL | Connector | Mapping[str, object]) -> Connector:
    """A connector from a URL (`financialforce:///?User=…`), a mapping with a `scheme` key, or a connector."""
    if isinstance(spec, Connector):
        return spec
    if isinstance(spec, Mapping):
        props = dict(spec)
        scheme = props.pop("scheme", None)
        if not isinstance(scheme, str):
            raise ConfigurationError("a source given as a mapping needs a 'scheme' key, e.g. 'financialforce'")
        return connector_class(scheme)(props)
    url = make_url(spec) if isinstance(spec, str) else spec
    return connector_class(url.drivername.split("+")[0])(properties_of(url))
