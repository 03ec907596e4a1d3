"""Arrow record batches as PostgreSQL rows: binary and text field encodings and the framing of each row, column at a
time with Arrow compute kernels (no Python loop over values), so a served scan keeps pace with the API.

A row on the wire (DataRow 'D', or one CopyData 'd' per row in a binary COPY) is a field count (int16) followed by
each field as an int32 length (-1 for NULL) and its bytes; the binary encodings are those of PostgreSQL's
`*_send` functions (protocol docs, "Binary COPY File Format" and src/backend/utils/adt/*.c): big-endian integers
and IEEE floats, date as days and timestamps as microseconds since 2000-01-01, numeric as base-10000 digit groups,
uuid as its 16 bytes. Text encodings are PostgreSQL's output formats (`t`/`f`, ISO dates, `\\x` hex bytea).

Big-endian bytes come from viewing an array's little-endian value buffer as fixed-size binary and reversing each
value (`binary_reverse`); numeric digit groups from integer division by 10,000 of the unscaled decimal when it
fits an int64 (precision up to 18), else from long division over 32-bit limbs, vectorised across rows. A NULL
text value stays NULL in its payload and is joined into its row as no bytes, so a text column is copied once,
into the rows.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from federation.serve import types as pg
from federation.serve.types import PgType

#: Days and microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
_PG_EPOCH_DAYS = 10957
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400_000_000
#: numeric's sign words (src/backend/utils/adt/numeric.c: NUMERIC_POS, NUMERIC_NEG).
_POSITIVE, _NEGATIVE = 0x0000, 0x4000
_NULL_FIELD = b"\xff\xff\xff\xff"
_HEX = pa.array([f"{i:02x}".encode() for i in range(256)], pa.binary())
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_TRAILER = struct.pack("!h", -1)

_INTS = {1: pa.int8(), 2: pa.int16(), 4: pa.int32(), 8: pa.int64()}


def big_endian(values: pa.Array, width: int) -> pa.Array:
    """Each value of a fixed-width numeric array (no nulls) as its `width` bytes, big-endian."""
    if pa.types.is_integer(values.type) and values.type != _INTS[width]:
        values = values.cast(_INTS[width])
    view = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(values), [None, values.buffers()[1]], offset=values.offset
    ).cast(pa.binary())
    return view if width == 1 else pc.binary_reverse(view)


def _view(fixed: pa.Array, as_type: pa.DataType) -> pa.Array:
    """A fixed-size binary array's bytes read as values of a fixed-width type of the same size."""
    return pa.Array.from_buffers(as_type, len(fixed), [None, fixed.buffers()[-1]], offset=fixed.offset)


def _offsets(values: pa.Array) -> pa.Array:
    """A binary array's value offsets (n + 1 of them)."""
    return pa.Array.from_buffers(pa.int32(), len(values) + 1, [None, values.buffers()[1]], offset=values.offset)


def _filled(column: pa.Array, value: object) -> pa.Array:
    return column.fill_null(pa.scalar(value, column.type)) if column.null_count else column


def _ints(column: pa.Array, width: int, offset: int = 0) -> pa.Array:
    values = _filled(column, 0).cast(_INTS[width])
    return big_endian(pc.subtract(values, offset) if offset else values, width)


def _u64(value: int) -> pa.Scalar:
    return pa.scalar(value, pa.uint64())


_MASK = _u64(0xFFFFFFFF)
_SHIFT = _u64(32)

# -- numeric ---------------------------------------------------------------------------------------------------------


#: Decimal digits every int64 holds.
_INT64_DIGITS = 18


def _fixed16(column: pa.Array) -> pa.Array:
    """A decimal column's 16-byte two's complement unscaled values (little-endian), as fixed-size binary."""
    if pa.types.is_decimal256(column.type):
        column = column.cast(pa.decimal128(column.type.precision, column.type.scale))
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(column), [None, column.buffers()[1]], offset=column.offset
    )


def _limbs(column: pa.Array) -> tuple[list[pa.Array], pa.Array]:
    """The absolute unscaled values of a decimal column as five 32-bit limbs (least significant first, in uint64
    arrays, so products and carries fit), and which values are negative."""
    raw = _fixed16(column)
    limbs = []
    for k in range(4):
        part = pc.binary_slice(raw, 4 * k, 4 * k + 4)
        limbs.append(_view(part, pa.uint32()).cast(pa.uint64()))
    negative = pc.greater_equal(limbs[3], _u64(1 << 31))
    # Two's complement: invert and add one, carrying across the limbs of the negative values.
    carry: pa.Array = pc.if_else(negative, 1, 0).cast(pa.uint64())
    absolute = []
    for limb in limbs:
        flipped = pc.if_else(negative, pc.bit_wise_and(pc.bit_wise_not(limb), _MASK), limb)
        total = pc.add(flipped, carry)
        absolute.append(pc.bit_wise_and(total, _MASK))
        carry = pc.shift_right(total, _SHIFT)
    absolute.append(pa.nulls(len(column), pa.uint64()).fill_null(0))
    return absolute, negative


def _scale(limbs: list[pa.Array], factor: int) -> list[pa.Array]:
    carry: pa.Array | int = 0
    out = []
    for limb in limbs:
        total = pc.add(pc.multiply(limb, _u64(factor)), carry)
        out.append(pc.bit_wise_and(total, _MASK))
        carry = pc.shift_right(total, _SHIFT)
    return out


def _divmod(limbs: list[pa.Array], divisor: int) -> tuple[list[pa.Array], pa.Array]:
    remainder: pa.Array | int = 0
    quotient = []
    for limb in reversed(limbs):
        current = pc.add(pc.shift_left(remainder, _SHIFT), limb) if not isinstance(remainder, int) else limb
        quotient.append(pc.divide(current, _u64(divisor)))
        remainder = pc.subtract(current, pc.multiply(quotient[-1], _u64(divisor)))
    assert not isinstance(remainder, int)
    return list(reversed(quotient)), remainder


def _base_10000(values: pa.Array, count: int) -> list[pa.Array]:
    """The `count` lowest base-10,000 digits of non-negative integers, most significant first."""
    groups = []
    for _ in range(count):
        quotient = pc.divide(values, 10_000)
        groups.append(pc.subtract(values, pc.multiply(quotient, 10_000)))
        values = quotient
    return list(reversed(groups))


def _groups(column: pa.Array) -> tuple[list[pa.Array], int, int, pa.Array]:
    """A decimal column's base-10000 digit groups, most significant first, aligned on the decimal point; how many
    are before it; its scale; and which values are negative."""
    precision, scale = column.type.precision, column.type.scale
    before = max(-(-(precision - scale) // 4), 1)
    after = -(-scale // 4)
    shift = 4 * after - scale
    filled = _filled(column, 0)
    if precision <= _INT64_DIGITS and 4 * after <= _INT64_DIGITS:
        # The common case (money, counts): the unscaled value fits an int64, and so does its fraction aligned on
        # a digit group, so the groups come from plain integer division instead of the limbs' long division.
        value = _view(pc.binary_slice(_fixed16(filled), 0, 8), pa.int64())
        negative = pc.less(value, 0)
        absolute = pc.abs(value)
        whole = pc.divide(absolute, 10**scale) if scale else absolute
        fraction = pc.subtract(absolute, pc.multiply(whole, 10**scale)) if scale else None
        groups = _base_10000(whole, before)
        if fraction is not None:
            groups += _base_10000(pc.multiply(fraction, 10**shift) if shift else fraction, after)
        return groups, before, scale, negative
    limbs, negative = _limbs(filled)
    limbs = _scale(limbs, 10**shift)
    groups = []
    for _ in range(before + after):
        limbs, group = _divmod(limbs, 10_000)
        groups.append(group)
    return list(reversed(groups)), before, scale, negative


def _numeric_binary(column: pa.Array) -> pa.Array:
    groups, before, scale, negative = _groups(column)
    # ndigits, weight, sign, dscale; leading and trailing zero groups are valid (numeric_recv normalises them).
    head = struct.pack("!hh", len(groups), before - 1)
    sign = pc.if_else(negative, struct.pack("!H", _NEGATIVE), struct.pack("!H", _POSITIVE))
    parts = [pa.scalar(head), sign, pa.scalar(struct.pack("!h", scale)), *(big_endian(g, 2) for g in groups)]
    return pc.binary_join_element_wise(*parts, b"")


def _numeric_text(column: pa.Array) -> pa.Array:
    groups, before, scale, negative = _groups(column)
    digits = [pc.utf8_lpad(g.cast(pa.string()), width=4, padding="0") for g in groups]
    whole = pc.utf8_ltrim(pc.binary_join_element_wise(*digits[:before], ""), characters="0")
    whole = pc.if_else(pc.equal(whole, ""), "0", whole)
    text = whole
    if scale:
        fraction = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*digits[before:], ""), 0, scale)
        text = pc.binary_join_element_wise(whole, fraction, ".")
    # A decimal's two's complement has no negative zero, so a negative value always shows its sign.
    signed = pc.if_else(negative, pc.binary_join_element_wise("-", text, ""), text)
    return signed.cast(pa.binary())


# -- uuid and bytea --------------------------------------------------------------------------------------------------

_NIBBLES = pa.array([int(chr(c), 16) if chr(c) in "0123456789abcdefABCDEF" else 0 for c in range(256)], pa.uint8())


def _uuid_binary(column: pa.Array) -> pa.Array:
    """The 16 bytes of each UUID (DuckDB exports UUIDs as their text)."""
    if isinstance(column.type, pa.ExtensionType):
        return column.storage.cast(pa.binary())
    hexes = pc.replace_substring(_filled(column, "00000000000000000000000000000000"), "-", "").cast(pa.binary())
    chars = pa.Array.from_buffers(pa.uint8(), 32 * len(hexes), [None, hexes.buffers()[2]], offset=0)
    nibbles = pc.take(_NIBBLES, chars)
    pairs = pa.FixedSizeBinaryArray.from_buffers(pa.binary(2), 16 * len(hexes), [None, nibbles.buffers()[1]])
    high = _view(pc.binary_slice(pairs, 0, 1), pa.uint8())
    low = _view(pc.binary_slice(pairs, 1, 2), pa.uint8())
    combined = pc.add(pc.multiply(high, 16), low).cast(pa.uint8())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(hexes), [None, combined.buffers()[1]]).cast(
        pa.binary()
    )


def _bytea_text(column: pa.Array) -> pa.Array:
    """`\\x` and two hex digits per byte: every byte's digits taken from a table, regrouped by the values' offsets."""
    values = _filled(column, b"").cast(pa.binary())
    offsets = _offsets(values)
    start = offsets[0].as_py()
    size = offsets[-1].as_py() - start
    data = values.buffers()[2]
    octets = pa.Array.from_buffers(pa.uint8(), size, [None, data], offset=start)
    hexed = pc.take(_HEX, octets)
    doubled = pc.multiply(pc.subtract(offsets, start), 2).cast(pa.int32())
    regrouped = pa.Array.from_buffers(pa.binary(), len(values), [None, doubled.buffers()[1], hexed.buffers()[2]])
    return pc.binary_join_element_wise(b"\\x", regrouped, b"")


# -- payloads --------------------------------------------------------------------------------------------------------


def binary_payload(column: pa.Array, kind: PgType) -> pa.Array:
    """Each value's bytes in PostgreSQL's binary format (NULLs marked separately by the caller)."""
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.binary())
    if kind == pg.UUID:
        return _uuid_binary(column)
    if isinstance(column.type, pa.ExtensionType):
        column = column.storage
    if kind == pg.BOOL:
        return big_endian(_filled(column, False).cast(pa.uint8()), 1)
    if kind in (pg.INT2, pg.INT4, pg.INT8):
        return _ints(column, kind.size)
    if kind in (pg.FLOAT4, pg.FLOAT8):
        return big_endian(_filled(column, 0).cast(pa.float32() if kind == pg.FLOAT4 else pa.float64()), kind.size)
    if kind == pg.DATE:
        return _ints(column.cast(pa.date32()).cast(pa.int32()), 4, _PG_EPOCH_DAYS)
    if kind in (pg.TIMESTAMP, pg.TIMESTAMPTZ):
        micros = column.cast(pa.timestamp("us", column.type.tz)).cast(pa.int64())
        return _ints(micros, 8, _PG_EPOCH_MICROS)
    if kind == pg.TIME:
        return _ints(column.cast(pa.time64("us")).cast(pa.int64()), 8)
    if kind.name == "numeric":
        if pa.types.is_integer(column.type):
            column = column.cast(pa.decimal128(kind.precision_scale[0], 0))
        return _numeric_binary(column)
    if kind == pg.BYTEA:
        return column.cast(pa.binary())
    return _text(column)


def _text(column: pa.Array) -> pa.Array:
    """The values as UTF-8 bytes: a text column's own buffers (a view, not a cast: one call per column counts)."""
    if column.type == pa.string():
        return column.view(pa.binary())
    try:
        return column.cast(pa.string()).view(pa.binary())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Lists, structs, maps and intervals have no Arrow cast to text: these rare columns go value by value.
        return pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.binary())


def text_payload(column: pa.Array, kind: PgType) -> pa.Array:
    """Each value in PostgreSQL's text output format, as bytes."""
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.binary())
    if isinstance(column.type, pa.ExtensionType):
        column = column.storage if kind != pg.UUID else column.storage.cast(pa.binary())
    if kind == pg.UUID and pa.types.is_fixed_size_binary(column.type):
        hexed = _bytea_text(column).cast(pa.string())
        parts = [pc.utf8_slice_codeunits(hexed, a, b) for a, b in ((2, 10), (10, 14), (14, 18), (18, 22), (22, 34))]
        return pc.binary_join_element_wise(*parts, "-").cast(pa.binary())
    if kind == pg.BOOL:
        return pc.if_else(column, b"t", b"f")
    if kind in (pg.FLOAT4, pg.FLOAT8):
        text = column.cast(pa.string())
        text = pc.if_else(pc.is_nan(column), "NaN", text)
        text = pc.if_else(pc.is_inf(column), pc.if_else(pc.greater(column, 0), "Infinity", "-Infinity"), text)
        return text.cast(pa.binary())
    if kind in (pg.TIMESTAMP, pg.TIMESTAMPTZ):
        micros = column.cast(pa.timestamp("us", column.type.tz))
        # PostgreSQL prints no zero fraction digits: 12:00:00, 12:00:00.5.
        text = pc.strftime(micros, format="%Y-%m-%d %H:%M:%S")
        text = pc.replace_substring_regex(pc.replace_substring_regex(text, r"(\.\d*?)0+$", r"\1"), r"\.$", "")
        if kind == pg.TIMESTAMPTZ:
            text = pc.binary_join_element_wise(text, "+00", "")
        return text.cast(pa.binary())
    if kind.name == "numeric" and pa.types.is_decimal(column.type):
        return _numeric_text(column)
    if kind == pg.BYTEA:
        return _bytea_text(column)
    return _text(column)


def fields(column: pa.Array, kind: PgType, binary: bool) -> tuple[pa.Array, pa.Array]:
    """Each value as a wire field: its length as an int32 (-1 for NULL), then its bytes (NULL for a NULL field,
    which `rows` joins as no bytes).

    An encoder's payload is NULL exactly where the column is (casts and views keep the validity), or nowhere (the
    fixed-width encoders fill a NULL's place with a zero): only the latter needs its NULLs put back."""
    payload = binary_payload(column, kind) if binary else text_payload(column, kind)
    if column.null_count and payload.null_count != column.null_count:
        payload = pc.if_else(pc.is_null(column), pa.scalar(None, payload.type), payload)
    sizes = pc.binary_length(payload)
    return (sizes.fill_null(-1) if payload.null_count else sizes), payload


def rows(kind: bytes, batch: pa.RecordBatch, types: Sequence[PgType], formats: Sequence[bool]) -> pa.Array:
    """One protocol message per row (`kind` b"D" for DataRow, b"d" for a binary COPY's CopyData), built by one
    concatenation of every field's length and bytes per row.

    Kernel calls, not values, are what a batch of a few thousand rows spends its time on, so the field lengths of
    every column are made big-endian in one call over all of them, and each column costs three calls or so."""
    count = batch.num_rows
    sizes: list[pa.Array] = []
    payloads: list[pa.Array] = []
    for i in range(batch.num_columns):
        size, payload = fields(batch.column(i), types[i], formats[i])
        sizes.append(size)
        payloads.append(payload)
    every = pa.concat_arrays(sizes)
    framed_sizes = big_endian(every, 4)
    sent = pc.max_element_wise(every, 0)  # a NULL field's -1 sends no bytes
    # A row message's length counts itself (4), the field count (2), each field's length (4) and the bytes.
    lengths = pa.repeat(pa.scalar(4 + 2 + 4 * batch.num_columns, pa.int32()), count)
    parts: list[pa.Array] = []
    for i, payload in enumerate(payloads):
        lengths = pc.add(lengths, sent.slice(i * count, count))
        parts.extend((framed_sizes.slice(i * count, count), payload))
    head = pa.scalar(kind)
    fields_count = pa.scalar(struct.pack("!h", batch.num_columns))
    framed = big_endian(lengths, 4)
    return pc.binary_join_element_wise(
        head, framed, fields_count, *parts, b"", null_handling="replace", null_replacement=""
    )


def contiguous(messages: pa.Array) -> memoryview:
    """The bytes of every value of a binary array, back to back (they already are, in its data buffer)."""
    if len(messages) == 0:
        return memoryview(b"")
    offsets = _offsets(messages)
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return memoryview(messages.buffers()[2])[start:end]
