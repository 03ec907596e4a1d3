"""The sources of one database: name resolution across them, and what every statement asks of them all.

`fin.Account` is source `fin`'s table; an unqualified name is the table of the one source that has it (several:
an error listing them); an unknown name gets suggestions from source tables only. Interrupts and the statement
timeout reach every source at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from federation.connector import Connector
from federation.errors import ConfigurationError, ProgrammingError, UnknownTableError


def check_key(key: str) -> None:
    """A source name must be a plain identifier that is not one of DuckDB's own schemas."""
    if not key or not key.replace("_", "").isalnum() or key.lower() in ("main", "temp", "information_schema"):
        raise ConfigurationError(f"source name {key!r} must be a plain identifier and not a DuckDB schema name")


Found = tuple[str, Connector, str]


class Federation:
    """The sources of one database, shared by every cursor of it, and how table names resolve to them."""

    def __init__(self, sources: Mapping[str, Connector]) -> None:
        self.sources = dict(sources)

    def source(self, key: str) -> tuple[str, Connector] | None:
        lowered = key.lower()
        return next(((k, c) for k, c in self.sources.items() if k.lower() == lowered), None)

    def holders(self, table: str) -> list[Found]:
        """(source key, connector, canonical name) for every source that has a table of this name."""
        return [(key, c, name) for key, c in self.sources.items() if (name := c.resolve(table)) is not None]

    def find(self, schema: str | None, table: str) -> Found | None:
        """The source table `schema.table` names (unqualified: the one source that has it), or None when it names
        none (it may be DuckDB's own). Raises UnknownTableError when `schema` is a source without that table, and
        ProgrammingError, listing them, when several sources have an unqualified name."""
        if schema is None:
            holders = self.holders(table)
            if len(holders) > 1:
                names = " and ".join(f"{key}.{name}" for key, _, name in holders)
                raise ProgrammingError(f"table name {table!r} is ambiguous: there are {names}; qualify it")
            return holders[0] if holders else None
        found = self.source(schema)
        if found is None:
            return None
        key, connector = found
        canonical = connector.resolve(table)
        if canonical is None:
            hint = self.hint(table, within=key)
            raise UnknownTableError(f"source {key!r} has no table {table!r}{hint}", source=connector.scheme)
        return key, connector, canonical

    def locate(self, name: str) -> Found:
        """The source table a user names (`fin.Account`, or `Account` when one source has it), or the error."""
        schema, _, table = name.rpartition(".")
        if schema and self.source(schema) is None:
            raise UnknownTableError(f"no source {schema!r}; the sources are {self.listing()}")
        found = self.find(schema or None, table)
        if found is None:
            raise UnknownTableError(f"no source has a table {table!r}{self.hint(table)}")
        return found

    def hint(self, table: str, *, within: str | None = None) -> str:
        """`; did you mean fin.Account?` for the source table names closest to `table` (of one source: unqualified)."""
        named: dict[str, list[str]] = {}
        for key, connector in self.sources.items():
            if within is None or key == within:
                for name in connector.table_names():
                    named.setdefault(name.lower(), []).append(name if within else f"{key}.{name}")
        close = difflib.get_close_matches(table.lower(), list(named), n=1)
        return f"; did you mean {' or '.join(named[close[0]])}?" if close else ""

    def listing(self) -> str:
        return ", ".join(self.sources) or "(none)"

    def close(self) -> None:
        for connector in self.sources.values():
            connector.close()

    @property
    def timeout(self) -> float | None:
        """The shortest `QueryTimeout` any source sets, or None."""
        limits = [c.config.query_timeout for c in self.sources.values() if c.config.query_timeout]
        return min(limits) if limits else None
