"""Record writes with the platform's semantics: system fields, defaults, derivations, roll-ups, cascades.

Create assigns the Id, auto-numbers, defaults (OwnerId is the caller), audit fields; update rewrites the audit
fields; delete moves the record to the recycle bin (``IsDeleted = true``, still visible to queryAll) together
with its master-detail children. Calculated fields are re-derived on every write and roll-up summaries on the
parent move by the child's change. Every function raises `ApiError` before writing anything it rejects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping
from typing import Any

from . import ids
from .datagen import datetime_wire
from .errors import ApiError, not_found, record_error
from .model import Record
from .schema import ObjectSpec
from .store import Store, Transaction
from .validation import coerce_body, missing_required


class _Stamps:
    """Write timestamps in milliseconds, strictly increasing across every write of the process.

    SystemModstamp is what incremental sync compares, so two writes within one millisecond still get distinct,
    increasing stamps.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def now(self) -> str:
        """The next timestamp as a datetime wire value."""
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1)
            seconds, millis = divmod(self._last, 1000)
        return f"{datetime_wire(seconds)[:19]}.{millis:03d}+0000"


now_wire = _Stamps().now


def _stamp(record: Record, user_id: str, stamp: str) -> None:
    record["LastModifiedDate"] = stamp
    record["LastModifiedById"] = user_id
    record["SystemModstamp"] = stamp


def _derive(spec: ObjectSpec, record: Record, old: Record | None, sent: Collection[str]) -> None:
    if spec.derive is not None:
        spec.derive(record, old, sent)


def _roll_up(tx: Transaction, store: Store, spec: ObjectSpec, old: Record | None, new: Record, stamp: str) -> None:
    """Move each roll-up total on the parent(s) by the child's change (deleted children count as zero)."""
    for rollup in spec.rollups:
        changes: dict[str, float] = {}
        for version, sign in ((old, -1), (new, 1)):
            if version is not None and not version["IsDeleted"] and version.get(rollup.parent_field):
                parent_id = version[rollup.parent_field]
                changes[parent_id] = changes.get(parent_id, 0.0) + sign * (version.get(rollup.source) or 0)
        for parent_id, delta in changes.items():
            parent = store.get(parent_id)
            parent_spec = store.spec_for_id(parent_id)
            if parent is None or parent_spec is None or parent["IsDeleted"] or not delta:
                continue
            updated = dict(parent)
            updated[rollup.target] = round((updated.get(rollup.target) or 0) + delta, 2)
            _derive(parent_spec, updated, parent, ())
            updated["SystemModstamp"] = stamp
            tx.put(parent_spec.name, updated)


def create(
    tx: Transaction, store: Store, spec: ObjectSpec, body: Mapping[str, Any], user_id: str, raw: str = ""
) -> str:
    """Insert a record from a request body; returns its Id."""
    obj = spec.definition
    if not obj.createable:
        raise record_error("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert")
    values = coerce_body(store, obj, body, creating=True, raw=raw)
    record: Record = {field.name: None for field in obj.fields}
    for field in obj.fields:
        if field.type == "boolean":
            record[field.name] = False
    record.update(spec.defaults)
    if "OwnerId" in record:
        record["OwnerId"] = user_id
    record.update(values)
    error = missing_required(obj, record)
    if error is not None:
        raise error
    serial = tx.new_serial(obj.name)
    stamp = now_wire()
    record["Id"] = ids.make_id(obj.key_prefix, serial)
    for name, pattern in spec.auto_number.items():
        record[name] = pattern.format(serial)
    record["CreatedDate"] = stamp
    record["CreatedById"] = user_id
    _stamp(record, user_id, stamp)
    record["IsDeleted"] = False
    _derive(spec, record, None, values.keys())
    tx.put(obj.name, record)
    _roll_up(tx, store, spec, None, record, stamp)
    return str(record["Id"])


def existing(store: Store, spec: ObjectSpec, record_id: str) -> Record:
    """The live record `record_id` of `spec`'s object, or the platform's error for a missing or deleted one."""
    record = store.get(record_id)
    if record is None or store.spec_for_id(record["Id"]) is not spec:
        raise not_found()
    if record["IsDeleted"]:
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return record


def update(
    tx: Transaction,
    store: Store,
    spec: ObjectSpec,
    record_id: str,
    body: Mapping[str, Any],
    user_id: str,
    raw: str = "",
) -> None:
    """Apply a partial update from a request body to a live record."""
    obj = spec.definition
    if not obj.updateable:
        raise record_error("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support update")
    old = existing(store, spec, record_id)
    values = coerce_body(store, obj, body, creating=False, raw=raw)
    record = dict(old)
    record.update(values)
    error = missing_required(obj, record)
    if error is not None:
        raise error
    stamp = now_wire()
    _stamp(record, user_id, stamp)
    _derive(spec, record, old, values.keys())
    tx.put(obj.name, record)
    _roll_up(tx, store, spec, old, record, stamp)


def delete(tx: Transaction, store: Store, spec: ObjectSpec, record_id: str, user_id: str) -> None:
    """Move a live record and its master-detail descendants to the recycle bin."""
    if not spec.definition.deletable:
        raise record_error("INVALID_TYPE_FOR_OPERATION", f"entity type {spec.definition.name} does not support delete")
    old = existing(store, spec, record_id)
    stamp = now_wire()
    _bin(tx, store, spec, old, user_id, stamp)


def _bin(tx: Transaction, store: Store, spec: ObjectSpec, old: Record, user_id: str, stamp: str) -> None:
    record = dict(old)
    record["IsDeleted"] = True
    _stamp(record, user_id, stamp)
    tx.put(spec.name, record)
    _roll_up(tx, store, spec, old, record, stamp)
    for child, field in store.children(spec.name):
        if field in child.master_detail:
            for row in [row for row in store.records(child.name) if row[field] == old["Id"]]:
                _bin(tx, store, child, row, user_id, stamp)
