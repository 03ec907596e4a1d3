"""The sandbox company's data: divisions, and deterministic records of every entity in each division.

Values are kept as the API's JSON carries them, except dates, kept as epoch milliseconds (rendered
`/Date(ms)/`). Records are generated from their number, so every run sees the same data: account names cycle
through the hostile-value pool, `IsCompetitor` is true for one account in five, and most optional properties
are null now and then. Keys are name-based UUIDs, spread over the key order, so records created later land
between existing ones as they do on the real API.

Listings are ordered by key the way SQL Server orders `uniqueidentifier` values (the last six bytes first),
which is the order Exact's `$skiptoken=guid'…'` paging follows.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from typing import Any

from connectors.exactonline.entities import ENTITIES, Entity, Property
from federation.emulation.pools import (
    CITIES,
    COMPANY_CORES,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    HOSTILE_TEXT,
    LAST_NAMES,
    PRODUCTS,
    TITLES,
)

#: The sandbox company's divisions (code, description, country); the user's current division comes first.
DIVISIONS = ((5512, "Sandbox Trading B.V.", "NL"), (5513, "Sandbox Services B.V.", "NL"), (7001, "Sandbox Inc.", "US"))
CURRENT_DIVISION = DIVISIONS[0][0]
USER_ID = "6c1a0b8e-3f0e-4b2b-9d35-4a4a3cde5512"
USER_NAME = "Sandbox Analyst"
_NAMESPACE = uuid.UUID("a3c3f0e2-8a57-4d7c-9d4e-5512e0a1c001")
_EPOCH_MS = int(datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC).timestamp() * 1000)
_DAY_MS = 86_400_000

Record = dict[str, Any]


def sql_guid_order(key: str) -> bytes:
    """SQL Server's sort key for a uniqueidentifier: bytes 10-15, then 8-9, 6-7, 4-5, 0-3."""
    raw = uuid.UUID(key).bytes
    return raw[10:16] + raw[8:10] + raw[6:8] + raw[4:6] + raw[0:4]


def key_of(division: int, entity: str, n: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{division}/{entity}/{n}"))


def now_ms() -> int:
    return int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)


def _account(n: int, division: int) -> Record:
    city, _, country, postal, area = CITIES[n % len(CITIES)]
    name = (
        HOSTILE_TEXT[n // 2 % len(HOSTILE_TEXT)]
        if n % 2 == 0
        else f"{COMPANY_CORES[n % len(COMPANY_CORES)]} {COMPANY_SUFFIXES[n % len(COMPANY_SUFFIXES)]}"
    )
    return {
        # An 18-character code, right-aligned with leading spaces, as Exact stores it.
        "Code": f"{n:18d}",
        "Name": name,
        "Status": "ASPC"[n % 4] if n % 9 else None,
        "Type": "A",
        "IsCompetitor": n % 5 == 0,
        "IsSupplier": n % 3 == 0,
        "IsSales": n % 3 != 0,
        "IsPurchase": n % 3 == 0,
        "IsReseller": n % 11 == 0,
        "IsAccountant": n % 3,
        "Blocked": n % 17 == 0,
        "CreditLinePurchase": 0.0 if n % 4 else round(n * 12.5 % 10_000, 2),
        "CreditLineSales": None if n % 13 == 0 else round(n * 7.25 % 25_000, 2),
        "DiscountSales": round(n % 20 / 100, 2),
        "Email": None if n % 6 == 0 else f"info{n}@{COMPANY_CORES[n % len(COMPANY_CORES)].lower()}.example",
        "Phone": None if n % 7 == 0 else f"+{area} {n:07d}",
        "Website": None if n % 4 == 0 else f"https://www.example.com/{n}",
        "AddressLine1": f"{n} Main Street",
        "City": None if n % 10 == 0 else city,
        "Postcode": f"{postal}{n % 100:02d}",
        # Country codes come padded to three characters ("NL ").
        "Country": f"{country[:2].upper():<3}",
        "VATNumber": None if n % 5 == 1 else f"NL{n:09d}B01",
        "ChamberOfCommerce": None if n % 8 == 0 else f"{n:08d}",
        "SalesCurrency": "EUR" if n % 7 else "USD",
        "MainContact": None,
        "Parent": None,
        "SearchCode": None if n % 3 else f"S{n}",
        "Remarks": None if n % 2 else f"Remark {n}",
        "StartDate": None if n % 5 == 2 else _EPOCH_MS + (n % 700) * _DAY_MS,
        "Creator": USER_ID,
        "CreatorFullName": USER_NAME,
    }


def _contact(n: int, division: int, accounts: int) -> Record:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
    return {
        "Account": key_of(division, "Accounts", n % accounts + 1),
        "AccountName": None,
        "FirstName": first,
        "LastName": last,
        "FullName": f"{first} {last}",
        "Email": None if n % 9 == 0 else f"{first.lower()}.{n}@example.com",
        "Phone": None if n % 4 == 0 else f"+31 20 {n:07d}",
        "JobTitleDescription": TITLES[n % len(TITLES)],
        "Gender": "MFO"[n % 3],
        "IsMainContact": n % 3 == 0,
        "BirthDate": None if n % 6 == 0 else _EPOCH_MS - (9000 + n * 37 % 15_000) * _DAY_MS,
    }


def _generic(entity: Entity, n: int, division: int, sizes: dict[str, int]) -> Record:
    """Values for entities whose data only has to be plausible: by type, with references to real records."""
    record: Record = {}
    for prop in entity.properties:
        if prop.name in ("Division", "Created", "Modified") or prop.name == entity.key:
            continue
        record[prop.name] = _value(prop, n, division, sizes)
    return record


_REFERENCES = {
    "Account": "Accounts",
    "Supplier": "Accounts",
    "InvoiceTo": "Accounts",
    "OrderedBy": "Accounts",
    "Item": "Items",
    "GLAccount": "GLAccounts",
    "InvoiceID": "SalesInvoices",
}


def _value(prop: Property, n: int, division: int, sizes: dict[str, int]) -> Any:
    name, edm = prop.name, prop.edm
    if name in _REFERENCES:
        target = _REFERENCES[name]
        return key_of(division, target, n % max(sizes.get(target, 1), 1) + 1)
    if edm == "Edm.String":
        if name in ("Code", "AccountCode", "GLAccountCode", "JournalCode", "Journal"):
            return f"{n % 9000 + 1000}"
        if name in ("Currency",):
            return "EUR"
        if prop.mandatory or n % 5:
            return f"{PRODUCTS[n % len(PRODUCTS)]} {n}"
        return None
    if edm == "Edm.Guid":
        return None
    if edm == "Edm.Boolean":
        return n % 2 == 0
    if edm == "Edm.Double":
        return None if n % 11 == 0 and not prop.mandatory else round((n * 37.5) % 5000 - 500, 2)
    if edm == "Edm.DateTime":
        return _EPOCH_MS + (n * 3 % 720) * _DAY_MS
    if name == "FinancialYear":
        return 2023 + n % 3
    if name == "FinancialPeriod":
        return n % 12 + 1
    return n % 50 if edm in ("Edm.Int16", "Edm.Byte") else n


class Store:
    """Every division's records of every entity, by key; thread-safe."""

    def __init__(self, records: int, on_delete: Callable[[int, Entity, str], None]) -> None:
        self.records = records
        self.lock = threading.Lock()
        #: Told of each record `delete` removed (division, entity, key): the `sync/Deleted` log.
        self._on_delete = on_delete
        #: (division, entity name) → key → record
        self.tables: dict[tuple[int, str], dict[str, Record]] = {}
        #: Each table's records in key order, kept until a record is created or deleted.
        self._ordered: dict[tuple[int, str], list[Record]] = {}
        for code, _, _ in DIVISIONS:
            self._fill(code, records if code == CURRENT_DIVISION else min(records, 25))

    def _fill(self, division: int, size: int) -> None:
        sizes = {
            "Accounts": size,
            "Contacts": size,
            "Items": max(size // 10, 1),
            "GLAccounts": 40,
            "SalesInvoices": max(size // 5, 1),
            "SalesInvoiceLines": max(size // 5, 1) * 2,
            "PurchaseEntries": max(size // 10, 1),
            "TransactionLines": max(size // 2, 1),
            "Journals": 8,
            "Documents": max(size // 10, 1),
            "Opportunities": max(size // 5, 1),
        }
        for entity in ENTITIES:
            if entity.name == "Divisions":
                continue
            table: dict[str, Record] = {}
            for n in range(1, sizes[entity.name] + 1):
                if entity.name == "Accounts":
                    values = _account(n, division)
                elif entity.name == "Contacts":
                    values = _contact(n, division, sizes["Accounts"])
                else:
                    values = _generic(entity, n, division, sizes)
                stamp = _EPOCH_MS + n * 60_000
                key = key_of(division, entity.name, n)
                table[key] = {entity.key: key, **values, "Division": division, "Created": stamp, "Modified": stamp}
            self.tables[division, entity.name] = table

    def divisions(self) -> list[Record]:
        return [
            {
                "Code": code,
                "Description": description,
                "HID": index + 1,
                "Country": country,
                "Currency": "USD" if country == "US" else "EUR",
                "Current": code == CURRENT_DIVISION,
                "Customer": key_of(code, "Customer", 0),
                "Started": _EPOCH_MS - 365 * _DAY_MS,
                "Created": _EPOCH_MS - 365 * _DAY_MS,
                "Modified": _EPOCH_MS,
            }
            for index, (code, description, country) in enumerate(DIVISIONS)
        ]

    def rows(self, division: int, entity: Entity) -> list[Record]:
        """A snapshot of the entity's records in the division, in key order."""
        if entity.name == "Divisions":
            return self.divisions()
        with self.lock:
            ordered = self._ordered.get((division, entity.name))
            if ordered is None:
                # Sorted once per change of the key set, not per page: a scan of 100,000 records is 100 pages.
                ordered = sorted(
                    self.tables[division, entity.name].values(), key=lambda r: sql_guid_order(r[entity.key])
                )
                self._ordered[division, entity.name] = ordered
            return list(ordered)

    def create(self, division: int, entity: Entity, values: Record) -> Record:
        stamp = now_ms()
        key = str(uuid.uuid4())
        record: Record = {p.name: None for p in entity.properties}
        record |= values
        record |= {entity.key: key, "Division": division, "Created": stamp, "Modified": stamp}
        if entity.name == "Accounts" and record.get("Code") is None:
            with self.lock:
                record["Code"] = f"{len(self.tables[division, entity.name]) + 1_000_000:18d}"
        if entity.name == "Accounts":
            record |= {"Creator": USER_ID, "CreatorFullName": USER_NAME}
        with self.lock:
            self.tables[division, entity.name][key] = record
            self._ordered.pop((division, entity.name), None)
        return record

    def get(self, division: int, entity: Entity, key: str) -> Record | None:
        with self.lock:
            return self.tables[division, entity.name].get(key)

    def update(self, division: int, entity: Entity, key: str, values: Record) -> bool:
        with self.lock:
            record = self.tables[division, entity.name].get(key)
            if record is None:
                return False
            record.update(values, Modified=now_ms())
            return True

    def delete(self, division: int, entity: Entity, key: str) -> bool:
        with self.lock:
            gone = self.tables[division, entity.name].pop(key, None) is not None
            self._ordered.pop((division, entity.name), None)
        if gone:
            self._on_delete(division, entity, key)
        return gone
