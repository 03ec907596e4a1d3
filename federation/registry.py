"""Finds connectors by scheme through the `duckfed.connectors` entry points, and opens sources from URLs.

Discovery by entry point keeps import time free of every connector a program does not use, and a source URL is
read here without SQLAlchemy, so that `federation.connect` never pays for importing it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from federation.connector import Connector
from federation.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

GROUP = "duckfed.connectors"


@functools.cache
def _registered() -> dict[str, EntryPoint]:
    """The installed connectors' entry points by scheme, read once: reading them scans the metadata of every
    installed distribution (4 ms in a bare install, 12 ms in a full one), and SQLAlchemy's engine and a connection
    each ask."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def schemes() -> list[str]:
    """Every installed source scheme."""
    return sorted(_registered())


def connector_class(scheme: str) -> type[Connector]:
    """The connector class registered for `scheme`."""
    found = _registered().get(scheme.lower())
    if found is None:
        known = ", ".join(schemes())
        raise ConfigurationError(f"unknown source {scheme!r}; installed sources are: {known}")
    cls = found.load()
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigurationError(f"entry point {scheme!r} does not name a Connector")
    return cls


#: A source URL as SQLAlchemy reads one: `scheme[+driver]://[…]/[…][?query]` (`sqlalchemy.engine.url._parse_url`).
_SOURCE_URL = re.compile(r"(?P<scheme>[\w+]+)://[^?]*(?:\?(?P<query>.*))?", re.DOTALL)


def parse_source_url(text: str) -> tuple[str, dict[str, str]]:
    """The scheme and connection properties of a source URL (`financialforce:///?User=…`), decoded as SQLAlchemy's
    `make_url` decodes them (blank values dropped), so both entry points read a URL alike."""
    found = _SOURCE_URL.fullmatch(text.strip())
    if found is None:
        raise ConfigurationError(f"not a source URL (expected scheme:///?Property=value&…): {text.split('?')[0]!r}")
    raw: dict[str, str] = {}
    for key, value in parse_qsl(found.group("query") or ""):
        if key in raw:
            raise ConfigurationError(f"connection property {key} is given more than once")
        raw[key] = value
    return found.group("scheme").split("+")[0], raw


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
    if isinstance(spec, str):
        scheme, properties = parse_source_url(spec)
        return connector_class(scheme)(properties)
    return connector_class(spec.drivername.split("+")[0])(properties_of(spec))
