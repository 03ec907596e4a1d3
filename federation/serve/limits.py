"""What one `duckfed serve` allows its clients: connections at once, and per statement its time, rows and bytes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one server allows: clients at once, and per statement its run time, rows and bytes."""

    max_connections: int = 16
    #: Seconds a statement may run, results sent included (None: no limit).
    statement_timeout: float | None = None
    #: Rows one result may have; a larger one fails (never a silent partial result).
    max_rows: int | None = None
    #: Bytes one result may take on the wire.
    max_bytes: int | None = None
