"""Fixtures for the SOQL engine tests: a small in-memory Catalog (User, Account, Contact) with known records.

The catalog implements the emulator's Catalog protocol directly, so the engine is tested against real data, with
no mocks. The clock is fixed at NOW (a Wednesday) so relative date literals have known ranges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.salesforce.emulator.model import FieldDef, ObjectDef, Record
from connectors.salesforce.emulator.soql import QueryResult, SoqlError, execute, parse

NOW = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def full_id(id15: str) -> str:
    """The 18-character form of a 15-character Id (the platform's case checksum)."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if ch.isupper())
        suffix += _CHECKSUM[bits]
    return id15 + suffix


class MemoryCatalog:
    """An in-memory Catalog: objects by name, records in insertion order, a recycle bin."""

    def __init__(self, objects: Iterable[ObjectDef]) -> None:
        self._objects = {o.name.lower(): o for o in objects}
        self._records: dict[str, list[Record]] = {o.name: [] for o in self._objects.values()}
        self._by_id: dict[str, Record] = {}
        self._deleted: set[str] = set()

    def add(self, object_name: str, **fields: Any) -> Record:
        obj = self._objects[object_name.lower()]
        records = self._records[obj.name]
        record: Record = {"Id": full_id(f"{obj.key_prefix}Xq{len(records) + 1:010d}"), **fields}
        records.append(record)
        self._by_id[record["Id"][:15]] = record
        return record

    def delete(self, record: Record) -> None:
        self._deleted.add(record["Id"])

    def object(self, name: str) -> ObjectDef | None:
        return self._objects.get(name.lower())

    def records(self, name: str, *, include_deleted: bool = False) -> Sequence[Record]:
        records = self._records[self._objects[name.lower()].name]
        if include_deleted:
            return records
        return [r for r in records if r["Id"] not in self._deleted]

    def get(self, record_id: str) -> Record | None:
        return self._by_id.get(record_id[:15])

    def is_deleted(self, record: Record) -> bool:
        return record["Id"] in self._deleted


def _id(name: str = "Id") -> FieldDef:
    return FieldDef(name, "id", createable=False, updateable=False, nillable=False)


USER = ObjectDef("User", "User", "Users", "005", (_id(), FieldDef("Name", "string"), FieldDef("Email", "email")))
ACCOUNT = ObjectDef(
    "Account",
    "Account",
    "Accounts",
    "001",
    (
        _id(),
        FieldDef("Name", "string"),
        FieldDef("Industry", "picklist", picklist_values=("Banking", "Retail")),
        FieldDef("AnnualRevenue", "currency"),
        FieldDef("NumberOfEmployees", "int"),
        FieldDef("IsActive__c", "boolean", custom=True),
        FieldDef("CreatedDate", "datetime", createable=False),
        FieldDef("LastActivityDate", "date"),
        FieldDef("OwnerId", "reference", reference_to=("User",), relationship_name="Owner"),
        FieldDef("Tags__c", "multipicklist", custom=True),
        FieldDef("Code__c", "string", custom=True, case_sensitive=True),
        FieldDef("Description", "textarea", sortable=False, filterable=False, groupable=False),
        FieldDef("ParentId", "reference", reference_to=("Account",), relationship_name="Parent"),
    ),
)
CONTACT = ObjectDef(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    (
        _id(),
        FieldDef("LastName", "string"),
        FieldDef("Email", "email"),
        FieldDef("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
    ),
)


# A polymorphic parent: a note hangs off an Account or a Contact.
NOTE = ObjectDef(
    "Note",
    "Note",
    "Notes",
    "002",
    (
        _id(),
        FieldDef("Title", "string"),
        FieldDef("ParentId", "reference", reference_to=("Account", "Contact"), relationship_name="Parent"),
    ),
)


def build_catalog() -> MemoryCatalog:
    """The sample data most tests read; see the table in each test module for what matters there."""
    catalog = MemoryCatalog([USER, ACCOUNT, CONTACT, NOTE])
    jo = catalog.add("User", Name="Jo", Email="jo@example.com")
    al = catalog.add("User", Name="Al", Email="al@example.com")
    accounts: list[dict[str, Any]] = [
        dict(Name="Acme", Industry="Banking", AnnualRevenue=1000000, NumberOfEmployees=100, IsActive__c=True,
             CreatedDate="2024-05-10T12:00:00.000+0000", LastActivityDate="2024-05-14", OwnerId=jo["Id"],
             Tags__c="A;B", Code__c="abc"),
        dict(Name="acme labs", Industry="Retail", AnnualRevenue=250000.5, NumberOfEmployees=20, IsActive__c=False,
             CreatedDate="2024-05-15T08:30:00.000+0000", LastActivityDate="2024-05-15", OwnerId=al["Id"],
             Tags__c="B;C", Code__c="ABC"),
        dict(Name="Globex", Industry=None, AnnualRevenue=None, NumberOfEmployees=5, IsActive__c=None,
             CreatedDate="2023-12-31T23:59:59.000+0000", LastActivityDate=None, OwnerId=None,
             Tags__c=None, Code__c=None),
        dict(Name="Initech_%", Industry="Banking", AnnualRevenue=5000000, NumberOfEmployees=1000, IsActive__c=True,
             CreatedDate="2024-04-01T00:00:00.000+0000", LastActivityDate="2024-03-31", OwnerId=jo["Id"],
             Tags__c="C", Code__c="x"),
        dict(Name="Umbrella", Industry="retail", AnnualRevenue=0, NumberOfEmployees=None, IsActive__c=False,
             CreatedDate="2024-05-14T23:00:00.000+0000", LastActivityDate="2024-05-16", OwnerId=al["Id"],
             Tags__c="A;C", Code__c="y"),
    ]  # fmt: skip
    added = [catalog.add("Account", **fields) for fields in accounts]
    gone = catalog.add("Account", Name="Deleted Co", Industry="Banking", NumberOfEmployees=7, IsActive__c=True)
    catalog.delete(gone)
    smith = catalog.add("Contact", LastName="Smith", Email="s@example.com", AccountId=added[0]["Id"])
    catalog.add("Contact", LastName="Jones", Email=None, AccountId=added[4]["Id"])
    catalog.add("Contact", LastName="Orphan", Email="o@example.com", AccountId=None)
    catalog.add("Note", Title="on acme", ParentId=added[0]["Id"])
    catalog.add("Note", Title="on smith", ParentId=smith["Id"])
    return catalog


@pytest.fixture
def catalog() -> MemoryCatalog:
    return build_catalog()


@pytest.fixture
def run(catalog: MemoryCatalog) -> Callable[..., QueryResult]:
    """Parse and execute against the sample catalog at NOW."""

    def run_query(text: str, **options: Any) -> QueryResult:
        options.setdefault("now", NOW)
        return execute(parse(text), catalog, **options)

    return run_query


@pytest.fixture
def rows(run: Callable[..., QueryResult]) -> Callable[..., list[dict[str, Any]]]:
    """The rendered rows of a query, as a list."""

    def query_rows(text: str, **options: Any) -> list[dict[str, Any]]:
        return list(run(text, **options).rows)

    return query_rows


@pytest.fixture
def names(rows: Callable[..., list[dict[str, Any]]]) -> Callable[[str], list[str]]:
    """The Name column of ``SELECT Name FROM Account WHERE <condition>`` (in insertion order unless ordered)."""

    def account_names(tail: str) -> list[str]:
        return [row["Name"] for row in rows(f"SELECT Name FROM Account {tail}")]

    return account_names


@pytest.fixture
def error(run: Callable[..., QueryResult]) -> Callable[[str], SoqlError]:
    """The SoqlError a query raises (parse or execute); fails the test if it succeeds."""

    def query_error(text: str) -> SoqlError:
        with pytest.raises(SoqlError) as caught:
            run(text)
        return caught.value

    return query_error
