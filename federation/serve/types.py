"""PostgreSQL types for Arrow types: the OID, name, size and type modifier a client is told a column has.

The same mapping answers the DuckDB extension's catalog query and labels every result column, so a column's
binary COPY encoding is always the one the extension expects from the catalog it loaded. OIDs and type modifiers
are PostgreSQL's own (`pg_type.dat`; numeric's typmod is `((precision << 16) | scale) + 4`, as
`numeric_typmod_in` in src/backend/utils/adt/numeric.c builds it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class PgType:
    """A PostgreSQL type as RowDescription and the catalog give it."""

    oid: int
    name: str
    #: pg_type.typlen: bytes of a fixed-size value, -1 for variable size.
    size: int
    #: pg_attribute.atttypmod: numeric's precision and scale; -1 for none.
    modifier: int = -1

    @property
    def precision_scale(self) -> tuple[int, int]:
        """numeric's (precision, scale), decoded from the modifier."""
        packed = self.modifier - 4
        return packed >> 16, packed & 0xFFFF


BOOL = PgType(16, "bool", 1)
BYTEA = PgType(17, "bytea", -1)
INT8 = PgType(20, "int8", 8)
INT2 = PgType(21, "int2", 2)
INT4 = PgType(23, "int4", 4)
TEXT = PgType(25, "text", -1)
JSON = PgType(114, "json", -1)
FLOAT4 = PgType(700, "float4", 4)
FLOAT8 = PgType(701, "float8", 8)
DATE = PgType(1082, "date", 4)
TIME = PgType(1083, "time", 8)
TIMESTAMP = PgType(1114, "timestamp", 8)
TIMESTAMPTZ = PgType(1184, "timestamptz", 8)
UUID = PgType(2950, "uuid", 16)
#: The largest precision numeric is given here: DuckDB's DECIMAL stops at 38 digits.
MAX_PRECISION = 38


def numeric(precision: int, scale: int) -> PgType:
    return PgType(1700, "numeric", -1, ((precision << 16) | scale) + 4)


def pg_type(arrow: pa.DataType, duckdb_type: str | None = None) -> PgType:
    """The PostgreSQL type of an Arrow column; `duckdb_type` (DuckDB's name for it, when known) tells UUID and
    JSON apart from the text DuckDB exports them as. Anything without a PostgreSQL counterpart is text."""
    if duckdb_type == "UUID" or _extension(arrow) == "arrow.uuid":
        return UUID
    if duckdb_type == "JSON" or _extension(arrow) == "arrow.json":
        return JSON
    if isinstance(arrow, pa.ExtensionType):
        return pg_type(arrow.storage_type)
    if pa.types.is_boolean(arrow):
        return BOOL
    if pa.types.is_int8(arrow) or pa.types.is_uint8(arrow) or pa.types.is_int16(arrow):
        return INT2
    if pa.types.is_uint16(arrow) or pa.types.is_int32(arrow):
        return INT4
    if pa.types.is_uint32(arrow) or pa.types.is_int64(arrow):
        return INT8
    if pa.types.is_uint64(arrow):
        return numeric(20, 0)
    if pa.types.is_float16(arrow) or pa.types.is_float32(arrow):
        return FLOAT4
    if pa.types.is_float64(arrow):
        return FLOAT8
    if pa.types.is_decimal(arrow) and arrow.precision <= MAX_PRECISION:
        return numeric(arrow.precision, arrow.scale)
    if pa.types.is_date(arrow):
        return DATE
    if pa.types.is_timestamp(arrow):
        return TIMESTAMPTZ if arrow.tz is not None else TIMESTAMP
    if pa.types.is_time(arrow):
        return TIME
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow) or pa.types.is_fixed_size_binary(arrow):
        return BYTEA
    if pa.types.is_binary_view(arrow):
        return BYTEA
    return TEXT


def _extension(arrow: pa.DataType) -> str | None:
    return arrow.extension_name if isinstance(arrow, pa.ExtensionType) else None
