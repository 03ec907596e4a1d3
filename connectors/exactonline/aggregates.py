"""COUNT(*) as Exact Online computes it: `GET …/{Entity}/$count?$filter=…` answers a bare integer (api-protocols.md
§2.6, from Exact's "OData | Query string options": "`…/Entity/$count` returns a bare integer"), one call however
many records match.

Only a count of rows, without groups, is asked of the API (OData v2 has no GROUP BY, and `$count` no other
aggregate), and only under a filter `compile_filter` states exactly and whose URL fits Exact's cap: a count is
never re-checked, so a widened filter would count rows DuckDB drops. The planner already pushes only WHERE
clauses on columns the API compares exactly (not text, which Exact compares without regard to case).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pyarrow as pa

from connectors.exactonline.odata import compile_filter, states_exactly
from federation.table import Aggregate, AggregateCall, AggregateRequest

#: What `TableInfo.aggregates` declares for every entity.
AGGREGATES = frozenset({Aggregate.COUNT})
_COUNT = AggregateCall(Aggregate.COUNT)


def count_params(request: AggregateRequest, types: dict[str, tuple[str, str]]) -> dict[str, str] | None:
    """The `$count` request's query parameters, or None when the API can't count exactly these rows."""
    if request.group_by or request.calls != (_COUNT,):
        return None
    if request.predicate is None:
        return {}
    text = compile_filter(request.predicate, types)
    if text is None or not states_exactly(request.predicate, types):
        return None
    return {"$filter": text}


def count_url(url: str, params: dict[str, str]) -> str:
    return f"{url}/$count" + (f"?{urlencode(params)}" if params else "")


def counted(request: AggregateRequest, body: bytes) -> pa.RecordBatchReader:
    """The one row of a count from the API's bare integer."""
    schema = pa.schema([pa.field(_COUNT.label, pa.int64())])
    rows = pa.RecordBatch.from_arrays([pa.array([int(body.strip())], pa.int64())], schema=schema)
    return pa.RecordBatchReader.from_batches(schema, [rows])
