"""sObject Collections (``/composite/sobjects``): create, update, delete and retrieve up to 200 records a call.

A well-formed request answers HTTP 200 with one SaveResult per record, in order. With ``allOrNone`` every
record is still validated, and if any fails the whole call is rolled back: failures keep their own errors and
the others report ALL_OR_NONE_OPERATION_ROLLED_BACK. A malformed request (no records, more than 200, a record
without a type) fails as a whole with HTTP 400.

UNCONFIRMED wire details, chosen from public client code and logs: more than 200 records gives
``EXCEEDED_ID_LIMIT`` / "record limit reached. cannot submit more than 200 records into this call" (the
wording of the SOAP API and jsforce); an unknown Id in an update or delete is INVALID_CROSS_REFERENCE_KEY
"invalid cross reference id" and a recycled one ENTITY_IS_DELETED "entity is deleted"; a malformed Id is
MALFORMED_ID "malformed id X".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from federation.emulation.server import Reply, json_reply

from . import ids, writes
from .calls import Call
from .errors import ApiError, not_found, record_error
from .rendering import render_record, selected_fields
from .schema import ObjectSpec
from .store import Store, Transaction

LIMIT = 200
_ROLLED_BACK = ApiError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


def _limit_error() -> ApiError:
    return ApiError(
        400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {LIMIT} records into this call"
    )


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _records(call: Call) -> tuple[list[Mapping[str, Any]], bool]:
    body = call.json()
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ApiError(400, "INVALID_FIELD", "No records to process: the request needs a records list")
    if len(records) > LIMIT:
        raise _limit_error()
    return records, _flag(body.get("allOrNone"))


def _spec_of(store: Store, record: Mapping[str, Any]) -> ObjectSpec:
    attributes = record.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if not isinstance(type_name, str):
        raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    spec = store.spec(type_name)
    if spec is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
    return spec


def _save(store: Store, items: Sequence[tuple[str | None, Callable[[Transaction], str]]], all_or_none: bool) -> Reply:
    """Run each item's write (the Id it names, if any, and the write) and answer with the SaveResults."""
    outcomes: list[str | ApiError] = []
    with store.transaction() as tx:
        for _, write in items:
            try:
                outcomes.append(write(tx))
            except ApiError as error:
                outcomes.append(error)
        rolled_back = all_or_none and any(isinstance(outcome, ApiError) for outcome in outcomes)
        if rolled_back:
            tx.rollback()
    results: list[dict[str, Any]] = []
    for (known_id, _), outcome in zip(items, outcomes, strict=True):
        if isinstance(outcome, str) and not rolled_back:
            results.append({"id": outcome, "success": True, "errors": []})
            continue
        reported = outcome if isinstance(outcome, ApiError) else _ROLLED_BACK
        # A record that failed, or a create that was rolled back, has no Id to report.
        failure = {"success": False, "errors": [reported.save_error()]}
        results.append(({"id": known_id} if known_id else {}) | failure)
    return json_reply(200, results)


def create(store: Store, call: Call) -> Reply:
    """``POST /composite/sobjects``: insert each record (which must not carry an Id)."""
    records, all_or_none = _records(call)
    specs = [_spec_of(store, record) for record in records]
    raw = call.text()

    def writer(spec: ObjectSpec, record: Mapping[str, Any]) -> Callable[[Transaction], str]:
        return lambda tx: writes.create(tx, store, spec, record, call.user_id, raw)

    return _save(
        store, [(None, writer(spec, record)) for spec, record in zip(specs, records, strict=True)], all_or_none
    )


def _target(store: Store, value: Any) -> tuple[str, ObjectSpec]:
    """The canonical Id and object of an Id in an update or delete, or the per-record error."""
    canonical = ids.normalize(value)
    if canonical is None:
        raise record_error("MALFORMED_ID", f"malformed id {value}", ["Id"])
    spec = store.spec_for_id(canonical)
    record = store.get(canonical)
    if spec is None or record is None:
        raise record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    if record["IsDeleted"]:
        raise record_error("ENTITY_IS_DELETED", "entity is deleted")
    return canonical, spec


def update(store: Store, call: Call) -> Reply:
    """``PATCH /composite/sobjects``: apply each record's fields to the record its ``id`` names."""
    records, all_or_none = _records(call)
    for record in records:
        _spec_of(store, record)
    raw = call.text()

    def writer(record: Mapping[str, Any]) -> Callable[[Transaction], str]:
        def write(tx: Transaction) -> str:
            body = {key: value for key, value in record.items() if key.lower() != "id"}
            raw_id = next((value for key, value in record.items() if key.lower() == "id"), None)
            if raw_id is None:
                raise record_error("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            record_id, spec = _target(store, raw_id)
            writes.update(tx, store, spec, record_id, body, call.user_id, raw)
            return record_id

        return write

    items = [(_known_id(record), writer(record)) for record in records]
    return _save(store, items, all_or_none)


def _known_id(record: Mapping[str, Any]) -> str | None:
    raw_id = next((value for key, value in record.items() if key.lower() == "id"), None)
    return ids.normalize(raw_id) or (raw_id if isinstance(raw_id, str) else None)


def delete(store: Store, call: Call) -> Reply:
    """``DELETE /composite/sobjects?ids=…&allOrNone=…``: move each record to the recycle bin."""
    raw_ids = [value for value in call.params.get("ids", "").split(",") if value]
    if not raw_ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(raw_ids) > LIMIT:
        raise _limit_error()

    def writer(raw_id: str) -> Callable[[Transaction], str]:
        def write(tx: Transaction) -> str:
            record_id, spec = _target(store, raw_id)
            writes.delete(tx, store, spec, record_id, call.user_id)
            return record_id

        return write

    items = [(ids.normalize(raw_id) or raw_id, writer(raw_id)) for raw_id in raw_ids]
    return _save(store, items, _flag(call.params.get("allOrNone")))


def retrieve(store: Store, call: Call) -> Reply:
    """``GET /composite/sobjects/{type}?ids=…&fields=…``: the records in order, null for ones not found."""
    spec = store.spec(call.parts[2])
    if spec is None:
        raise not_found()
    raw_ids = [value for value in call.params.get("ids", "").split(",") if value]
    fields = selected_fields(spec.definition, call.params.get("fields"))
    if not raw_ids or fields is None:
        raise ApiError(400, "MISSING_ARGUMENT", "ids and fields parameters are required")
    if len(raw_ids) > 2000:
        raise _limit_error()
    rows: list[dict[str, Any] | None] = []
    for raw_id in raw_ids:
        canonical = ids.normalize(raw_id)
        if canonical is None:
            raise ApiError(400, "MALFORMED_ID", f"malformed id {raw_id}")
        record = store.get(canonical)
        live = record is not None and not record["IsDeleted"] and store.spec_for_id(canonical) is spec
        rows.append(render_record(spec, record, call.prefix, fields) if live and record else None)
    return json_reply(200, rows)


def upsert(store: Store, call: Call) -> Reply:
    """``PATCH /composite/sobjects/{type}/{externalIdField}``: each record updates the live record whose external
    Id field holds its value, or is created when none does; each SaveResult says which (``created``).

    From the REST API Developer Guide, "Upsert Up to 200 Records Using an External ID" (API 46.0+). Text
    external Ids match case-insensitively unless the field is case-sensitive, as the platform's unique check
    treats them. UNCONFIRMED wire details: a record without the field's value fails with MISSING_ARGUMENT, and
    a value two live records hold with DUPLICATE_EXTERNAL_ID (the single-record upsert's code)."""
    spec = store.spec(call.parts[2])
    if spec is None:
        raise not_found()
    name = call.parts[3]
    field = next((f for f in spec.definition.fields if f.name.lower() == name.lower()), None)
    if field is None or not field.external_id:
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
    records, all_or_none = _records(call)
    for record in records:
        if _spec_of(store, record) is not spec:
            raise ApiError(400, "INVALID_TYPE", f"every record must be a {spec.definition.name}")
    raw = call.text()

    def matching(value: Any) -> list[str]:
        def same(held: Any) -> bool:
            if isinstance(held, str) and isinstance(value, str) and not field.case_sensitive:
                return held.casefold() == value.casefold()
            return bool(held == value)

        return [str(r["Id"]) for r in store.records(spec.definition.name) if same(r.get(field.name))]

    created: dict[int, bool] = {}

    def writer(position: int, record: Mapping[str, Any]) -> Callable[[Transaction], str]:
        def write(tx: Transaction) -> str:
            value = next((v for k, v in record.items() if k.lower() == field.name.lower()), None)
            if value is None or value == "":
                raise record_error("MISSING_ARGUMENT", f"{field.name} not specified", [field.name])
            found = matching(value)
            if len(found) > 1:
                raise record_error(
                    "DUPLICATE_EXTERNAL_ID", f"{field.name}: more than one record found for external id field"
                )
            body = {k: v for k, v in record.items() if k != "attributes"}
            if found:
                writes.update(tx, store, spec, found[0], body, call.user_id, raw)
                created[position] = False
                return found[0]
            created[position] = True
            return writes.create(tx, store, spec, body, call.user_id, raw)

        return write

    reply = _save(store, [(None, writer(i, record)) for i, record in enumerate(records)], all_or_none)
    results = orjson.loads(reply.body)
    for position, result in enumerate(results):
        if result.get("success"):
            result["created"] = created[position]
    return json_reply(200, results)
