"""The connector contract: a source's settings, its HTTP client, and its tables.

A connector parses its connection properties into typed settings once, authenticates lazily on the first call,
lists its tables from cached metadata, and hands out `Table` objects. Everything DuckDB- or SQLAlchemy-specific
lives elsewhere, so a connector is plain Python over an API.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import ClassVar

from federation.errors import UnknownTableError
from federation.settings import Kind, Property, parse_properties
from federation.table import Table

#: Properties every connector takes.
COMMON_PROPERTIES: tuple[Property, ...] = (
    Property("URL", Kind.URL, doc="Base URL of the API; defaults to the vendor's production host."),
    Property("Pushdown", Kind.BOOLEAN, default=True, doc="Send filters to the API (false: filter locally only)."),
    Property("Timeout", Kind.SECONDS, default=60.0, doc="Seconds to wait for one API response."),
    Property("MaxRetries", Kind.POSITIVE_INT, default=5, doc="Attempts for a request that fails transiently."),
    Property("MetadataCacheTTL", Kind.SECONDS, default=3600.0, doc="Seconds table metadata is reused from disk."),
    Property("MetadataCacheDir", Kind.PATH, doc="Where table metadata is cached (default: the user cache dir)."),
)


class Connector(abc.ABC):
    """One configured source: a scheme (`financialforce`), validated settings and its tables."""

    #: The SQLAlchemy scheme and source name.
    scheme: ClassVar[str]
    #: The properties this connector takes besides `COMMON_PROPERTIES`.
    properties: ClassVar[tuple[Property, ...]] = ()

    def __init__(self, properties: Mapping[str, object]) -> None:
        self.settings = parse_properties(self.all_properties(), properties, source=self.scheme)

    @classmethod
    def all_properties(cls) -> tuple[Property, ...]:
        return (*COMMON_PROPERTIES, *cls.properties)

    @abc.abstractmethod
    def table_names(self) -> list[str]:
        """The names of every table, from cached metadata when fresh."""

    @abc.abstractmethod
    def _open_table(self, name: str) -> Table:
        """The table with exactly this canonical name."""

    def table(self, name: str) -> Table:
        """The table named `name`, matched case-insensitively like DuckDB identifiers."""
        canonical = self.resolve(name)
        if canonical is None:
            raise UnknownTableError(f"no table {name!r}", source=self.scheme)
        return self._open_table(canonical)

    def resolve(self, name: str) -> str | None:
        """The canonical name of table `name`, or None."""
        lowered = name.lower()
        return next((t for t in self.table_names() if t.lower() == lowered), None)

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connector's HTTP client."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.scheme}>"
