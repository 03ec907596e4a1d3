"""The row encoding read back by an independent decoder: numeric values in binary and text, on both of the encoder's
paths (an unscaled value that fits an int64, and the long division over limbs for larger ones), NULLs among
text values (length -1, no bytes), every fixed-width type with NULLs anywhere against PostgreSQL's `*_send` formats
packed value by value, and DuckDB's small batches gathered into the batches that are encoded."""

from __future__ import annotations

import datetime
import struct
from decimal import Decimal, localcontext

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.serve import encoding
from federation.serve import types as pg
from federation.serve.results import BATCH_ROWS, next_batch
from federation.serve.types import TEXT, numeric


def _decoded_rows(data: bytes) -> list[list[bytes | None]]:
    """DataRow messages back into their fields, checking each message's length."""
    rows, at = [], 0
    while at < len(data):
        assert data[at : at + 1] == b"D"
        (length,) = struct.unpack_from("!i", data, at + 1)
        end = at + 1 + length
        (count,) = struct.unpack_from("!h", data, at + 5)
        fields, pos = [], at + 7
        for _ in range(count):
            (size,) = struct.unpack_from("!i", data, pos)
            pos += 4
            fields.append(None if size == -1 else data[pos : pos + size])
            pos += max(size, 0)
        assert pos == end
        rows.append(fields)
        at = end
    return rows


def _numeric_recv(field: bytes) -> Decimal:
    """PostgreSQL's binary numeric (numeric_recv): digit groups of base 10,000, the first one's weight, sign, scale."""
    ndigits, weight, sign, dscale = struct.unpack_from("!hhHh", field)
    digits = struct.unpack_from(f"!{ndigits}h", field, 8)
    assert len(field) == 8 + 2 * ndigits and all(0 <= d < 10_000 for d in digits)
    with localcontext() as exact:
        exact.prec = 100  # numeric(38, s) and more, without rounding
        value = sum(Decimal(d) * Decimal(10_000) ** (weight - i) for i, d in enumerate(digits))
        value = value.quantize(Decimal(1).scaleb(-dscale)) if dscale else value.to_integral_value()
        return -value if sign == 0x4000 else value


CASES = {
    # precision, scale: values (the int64 path holds precision + the alignment of the scale to 4 digits <= 18)
    (18, 0): ["0", "1", "-1", "999999999999999999", "-999999999999999999", "10000", "-10000", "123456789"],
    (18, 2): ["0.00", "80474.85", "-80474.85", "9999999999999999.99", "-0.01", "0.10", "10000.00"],
    (12, 4): ["0.0001", "-0.0001", "12345678.9012", "-99999999.9999"],
    (18, 16): ["99.9999999999999999", "-0.0000000000000001", "10.5"],
    (5, 1): ["9999.9", "-0.1", "0.0"],
    (18, 18): ["0.000000000000000001", "-0.999999999999999999", "0"],
    (28, 8): ["-0.00000001", "12345678901234567890.12345678", "-99999999999999999999.99999999"],
    (38, 8): ["-123456789012345678901234567890.12345678", "0.00000000", "1.5"],
}


@pytest.mark.parametrize(("precision", "scale"), list(CASES))
def test_numeric_values_decode_to_themselves_in_binary_and_text(precision: int, scale: int) -> None:
    values = [Decimal(v) for v in CASES[precision, scale]]
    column = pa.array([*values, None], pa.decimal128(precision, scale))
    batch = pa.record_batch([column, column], names=["binary", "text"])
    messages = encoding.rows(b"D", batch, [numeric(precision, scale)] * 2, [True, False])
    decoded = _decoded_rows(bytes(encoding.contiguous(messages)))
    assert [r[0] for r in decoded][-1] is None and [r[1] for r in decoded][-1] is None
    assert [_numeric_recv(r[0]) for r in decoded[:-1] if r[0] is not None] == values
    assert [Decimal(r[1].decode()) for r in decoded[:-1] if r[1] is not None] == values
    # The text output carries exactly the column's scale, as PostgreSQL prints numeric(p, s).
    assert all(r[1] is not None and -Decimal(r[1].decode()).as_tuple().exponent == scale for r in decoded[:-1])


def test_nulls_among_text_values_are_fields_of_length_minus_one() -> None:
    texts = pa.array(["a", None, "", "ü", None], pa.string())
    numbers = pa.array([None, 1, None, 3, 4], pa.int64())
    batch = pa.record_batch([texts, numbers, texts], names=["t", "n", "u"])
    messages = encoding.rows(b"D", batch, [TEXT, numeric(19, 0), TEXT], [False, False, True])
    decoded = _decoded_rows(bytes(encoding.contiguous(messages)))
    assert decoded == [
        [b"a", None, b"a"],
        [None, b"1", None],
        [b"", None, b""],
        ["ü".encode(), b"3", "ü".encode()],
        [None, b"4", None],
    ]


_EPOCH = datetime.datetime(2000, 1, 1)
#: Per column: its Arrow type, its PostgreSQL type, values to draw from, and PostgreSQL's binary format of one value
#: (the `*_send` functions), packed value by value as the reference the vectorised encoder must equal.
_COLUMNS = [
    (pa.int16(), pg.INT2, st.integers(-(2**15), 2**15 - 1), lambda v: struct.pack("!h", v)),
    (pa.int32(), pg.INT4, st.integers(-(2**31), 2**31 - 1), lambda v: struct.pack("!i", v)),
    (pa.int64(), pg.INT8, st.integers(-(2**63), 2**63 - 1), lambda v: struct.pack("!q", v)),
    (pa.float64(), pg.FLOAT8, st.floats(allow_nan=False), lambda v: struct.pack("!d", v)),
    (pa.bool_(), pg.BOOL, st.booleans(), lambda v: b"\x01" if v else b"\x00"),
    (
        pa.date32(),
        pg.DATE,
        st.dates(),
        lambda v: struct.pack("!i", (v - _EPOCH.date()).days),
    ),
    (
        pa.timestamp("us"),
        pg.TIMESTAMP,
        st.datetimes(),
        lambda v: struct.pack("!q", (v - _EPOCH) // datetime.timedelta(microseconds=1)),
    ),
    (pa.string(), pg.TEXT, st.text(), lambda v: v.encode()),
    (pa.binary(), pg.BYTEA, st.binary(), lambda v: v),
]


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(0, 40))
def test_fields_of_every_fixed_width_type_with_nulls_anywhere_equal_postgresqls_send_formats(
    data: st.DataObject, count: int
) -> None:
    columns, expected = [], []
    for arrow_type, _, values, _ in _COLUMNS:
        drawn = data.draw(st.lists(st.none() | values, min_size=count, max_size=count))
        columns.append(pa.array(drawn, arrow_type))
        expected.append(drawn)
    batch = pa.record_batch(columns, names=[f"c{i}" for i in range(len(columns))])
    # A batch that starts part-way into its buffers, as a sliced or gathered one does.
    offset = data.draw(st.integers(0, count))
    batch = batch.slice(offset)
    kinds = [kind for _, kind, _, _ in _COLUMNS]
    decoded = _decoded_rows(bytes(encoding.contiguous(encoding.rows(b"D", batch, kinds, [True] * len(kinds)))))
    assert len(decoded) == count - offset
    for row, fields in enumerate(decoded):
        for (_, _, _, send), values, field in zip(_COLUMNS, expected, fields, strict=True):
            value = values[offset + row]
            assert field == (None if value is None else send(value))


def test_duckdbs_small_batches_are_encoded_gathered_and_in_order() -> None:
    sizes = [2_048, 2_048, 2_048, 2_048, 2_048, 100]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    source = iter(pa.record_batch([pa.array(range(s, s + n))], names=["n"]) for s, n in zip(starts, sizes, strict=True))
    gathered = []
    while (batch := next_batch(source)) is not None:
        gathered.append(batch)
    assert BATCH_ROWS == 4 * 2_048
    assert [b.num_rows for b in gathered] == [4 * 2_048, 2_048 + 100]
    assert [n for b in gathered for n in b.column(0).to_pylist()] == list(range(sum(sizes)))
