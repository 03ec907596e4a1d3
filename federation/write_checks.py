"""The checks a write to a source table passes that need only the table's metadata: the table accepts the
operation, an UPDATE or DELETE is scoped, the columns it names exist and may be written, and the values it
writes are present where the API requires one.

They are apart from the statements' evaluation (`federation.dml`, `federation.inserts`) because each is a pure
function of the routed statement and its table's metadata, shared by the INSERT path and the UPDATE/DELETE
path, and most run before any API call: SaaS writes can't be rolled back, so what can be refused is refused first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from federation.casting import first_true
from federation.errors import IntegrityError, ProgrammingError, ReadOnlyError
from federation.readback import Routed
from federation.statements import Kind, unscoped
from federation.table import Column

#: The connection property that lets an UPDATE or DELETE reach every record of a table.
ALLOW_UNSCOPED = "AllowUnscopedWrites"


def check_table(routed: Routed) -> None:
    """The table accepts the statement's operation."""
    info, kind = routed.info, routed.write.kind
    allowed = {Kind.INSERT: info.insertable, Kind.UPDATE: info.updatable, Kind.DELETE: info.deletable}[kind]
    if not allowed:
        raise routed.fail(ReadOnlyError, f"table {info.name!r} is read-only: the API does not allow {kind.value}")


def check_scoped(routed: Routed) -> None:
    """An UPDATE or DELETE has a WHERE clause that can be false, unless the connection allows unscoped writes."""
    if unscoped(routed.write) and not routed.connector.config.allow_unscoped_writes:
        kind, name = routed.write.kind.value, routed.info.name
        raise routed.fail(
            ProgrammingError,
            f"{kind} without a WHERE clause that can be false would change every record of {name!r}, and the "
            f"API can't roll that back: add a WHERE clause, or set the connection property {ALLOW_UNSCOPED}=true",
        )


def written_columns(routed: Routed, names: Sequence[str], *, api_set: Collection[str] = ()) -> list[Column]:
    """The columns `names` name, or the error naming every one that is unknown or read-only; for an INSERT,
    those in `api_set` may be columns the API sets (their values are checked once known:
    `federation.inserts.leave_to_api`)."""
    kind, info = routed.write.kind, routed.info
    columns = [info.column(name) for name in names]
    seen = Counter(c.name for c in columns)
    if any(n > 1 for n in seen.values()):
        twice = ", ".join(name for name, n in seen.items() if n > 1)
        raise routed.fail(ProgrammingError, f"column {twice} is given more than once")
    if kind is Kind.INSERT:
        # The statement spells names as the user wrote them; DuckDB matches them case-insensitively.
        given_null = {name.lower() for name in api_set}
        refused = [c.name for c in columns if not c.insertable and c.name.lower() not in given_null]
    else:
        refused = [c.name for c in columns if not c.updatable]
    if refused:
        verb = "set on insert" if kind is Kind.INSERT else "updated"
        raise routed.fail(ReadOnlyError, f"column {', '.join(refused)} of {info.name!r} can't be {verb}")
    return columns


def check_values_present(
    routed: Routed, rows: pa.Table, columns: Sequence[Column], keys: Sequence[object] = ()
) -> None:
    """No NULL where the API requires a value; the row (of an INSERT) or record (of an UPDATE) is named."""
    for column in columns:
        if column.required and rows.column(column.name).null_count:
            row = first_true(pc.is_null(rows.column(column.name)))
            where = f"record {keys[row]}" if keys else f"row {row + 1}"
            raise routed.fail(IntegrityError, f"column {column.name!r} can't be null ({where})")
