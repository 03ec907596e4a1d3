"""EXPLAIN run on a connection: DuckDB's plan of the statement, then one row per scan naming the API request it
will make and the limits its calls count against, all before any data call.

`federation.explain` says what one scan will send; this module runs the EXPLAIN on a cursor to find which scans
a statement makes and what DuckDB accepted from each while planning it, and for a write to a source table
explains the SELECT that finds its rows and then the write calls (`federation.dml`). It is apart from the
connection, which hands every other query to DuckDB as planned: an EXPLAIN's answer is put together here, from
DuckDB's plan, what each registered scan accepted and the sources' call limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from federation import explain
from federation.bridge import TableSource
from federation.dml import Writes
from federation.planner import Plan
from federation.readback import Database
from federation.registrations import Registrations
from federation.sources import Federation, Found
from federation.statements import explained, referenced_tables

#: The statement that gives EXPLAIN's rows, from two lists (`Explainer.rows`): DuckDB's plan, then the requests.
ROWS_QUERY = "SELECT unnest($1::VARCHAR[]) AS explain_key, unnest($2::VARCHAR[]) AS explain_value"


class Host(Database, Protocol):
    """What an EXPLAIN needs from the connection it runs on."""

    federation: Federation

    def target(self, schema: str | None, table: str) -> Found | None:
        """(source key, connector, canonical name) of the source table a statement names, or None (DuckDB's own)."""
        ...


class Explainer:
    """The EXPLAIN rows of one cursor's statements, its sources registered in `registered`; `planned` plans a
    statement as the cursor runs it (registering the sources the plan reads)."""

    def __init__(
        self, connection: Host, writes: Writes, registered: Registrations, planned: Callable[[str], Plan]
    ) -> None:
        self._connection = connection
        self._writes = writes
        self._registered = registered
        self._planned = planned

    def rows(
        self, plan: Plan, parameters: Sequence[Any] | Mapping[str, Any] | None, *, quotas: bool = True
    ) -> list[list[str]]:
        """DuckDB's EXPLAIN rows, then one per scan naming the API request it will make (`federation.explain`); for
        a write to a source table, those of the SELECT that finds its rows, then the write calls."""
        inner = explained(plan.sql)
        routed = self._writes.route(inner) if inner is not None else None
        if routed is not None:
            finding, writing = self._writes.explain(routed)
            keys, values = ([], [])
            if finding is not None:
                keys, values = self.rows(self._planned(f"EXPLAIN {finding}"), parameters, quotas=False)
            writing += self._quotas([routed.source])
            return [keys + [explain.KEY] * len(writing), values + writing]
        scans = [s for s in self._registered.sources.values() if isinstance(s, TableSource)]
        for scan in scans:
            scan.accepted = []  # what DuckDB accepts while planning this EXPLAIN is what the scan will send
        try:
            duck = self._connection.duckdb
            found = self._connection.run(duck.execute, plan.sql, parameters).fetchall()
            return list(explain.rows(found, self._requests(plan, quotas=quotas)))
        finally:
            for scan in scans:
                scan.accepted = None

    def _requests(self, plan: Plan, *, quotas: bool = True) -> list[str]:
        """One line per scan the planned statement makes: its source table, API request and expected calls."""
        labels = {s.name: f"{s.key}.{s.table.info.name}" for s in plan.sources}
        requests: list[str] = []
        keys: dict[str, None] = {}
        for schema, table in dict.fromkeys(referenced_tables(plan.sql)):
            if table in labels:
                name, label = table, labels[table]
            else:
                target = self._connection.target(schema, table)
                if target is None:
                    continue
                name, label = f"_duckfed_{target[0]}_{target[2]}", f"{target[0]}.{target[2]}"
            scan = self._registered.sources.get(name)
            if scan is not None:
                requests.append(explain.describe(label, scan, plan.sql))
                keys.setdefault(label.split(".")[0])
        return requests + (self._quotas(keys) if quotas else [])

    def _quotas(self, keys: Iterable[str]) -> list[str]:
        """One line per source the statement calls: the limits its calls count against."""
        lines = []
        for key in keys:
            quota = self._connection.federation.sources[key].call_limits()
            if quota is not None:
                lines.append(f"{key}: quota: {quota}")
        return lines
