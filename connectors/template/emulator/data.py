"""The template API's tables: their schema (as `GET /api/v1/tables/{name}` describes it) and generated records.

Records are generated deterministically from the record number, so every run and every test sees the same data;
one text column of `contacts` cycles through the hostile-value pool, and several columns are partly null.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from federation.emulation.pools import CITIES, COMPANY_CORES, FIRST_NAMES, HOSTILE_TEXT, LAST_NAMES

#: Operators the API's `where` evaluates, per field type (documented in the template connector's README).
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "in", "null", "notnull"]
EQUALITY = ["eq", "ne", "in", "null", "notnull"]
#: Text also takes `startswith`: the value begins with the given text, compared by code point.
TEXT = [*COMPARE, "startswith"]


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # integer | text | decimal | float | boolean | date | datetime
    nullable: bool = True
    key: bool = False
    readonly: bool = False
    required: bool = False
    filterable: tuple[str, ...] = tuple(COMPARE)
    sortable: bool = True

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "key": self.key,
            "readonly": self.readonly,
            "required": self.required,
            "filterable": list(self.filterable),
            "sortable": self.sortable,
        }


CONTACTS = (
    Field("id", "integer", nullable=False, key=True, readonly=True),
    Field("name", "text", nullable=False, required=True, filterable=tuple(TEXT)),
    Field("email", "text", filterable=tuple(TEXT)),
    Field("city", "text", filterable=tuple(TEXT)),
    Field("company_id", "integer"),
    Field("score", "decimal"),
    Field("rating", "float"),
    Field("active", "boolean", nullable=False, filterable=tuple(EQUALITY)),
    Field("birthday", "date"),
    Field("updated_at", "datetime", nullable=False, readonly=True),
)
COMPANIES = (
    Field("id", "integer", nullable=False, key=True, readonly=True),
    Field("name", "text", nullable=False, required=True, filterable=tuple(TEXT)),
    Field("country", "text", filterable=tuple(TEXT)),
    Field("updated_at", "datetime", nullable=False, readonly=True),
)
SCHEMAS: dict[str, tuple[Field, ...]] = {"contacts": CONTACTS, "companies": COMPANIES}
LABELS = {"contacts": "Contacts", "companies": "Companies"}

_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def _contact(n: int, companies: int) -> dict[str, Any]:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
    name = HOSTILE_TEXT[n // 3 % len(HOSTILE_TEXT)] if n % 3 == 0 else f"{first} {last}"
    return {
        "id": n,
        "name": name,
        "email": None if n % 11 == 0 else f"{first.lower()}.{n}@example.com",
        "city": None if n % 5 == 0 else CITIES[n % len(CITIES)][0],
        "company_id": None if n % 13 == 0 or not companies else n % companies + 1,
        "score": None if n % 7 == 0 else str(Decimal(n * 37 % 10_000) / 100),
        "rating": None if n % 9 == 0 else round((n * 0.37) % 5, 2),
        "active": n % 4 != 0,
        "birthday": None
        if n % 6 == 0
        else (datetime.date(1960, 1, 1) + datetime.timedelta(days=n * 17 % 15_000)).isoformat(),
        "updated_at": _stamp(_EPOCH + datetime.timedelta(minutes=n * 13)),
    }


def _company(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "name": f"{COMPANY_CORES[n % len(COMPANY_CORES)]} {n}",
        "country": None if n % 4 == 0 else CITIES[n % len(CITIES)][2],
        "updated_at": _stamp(_EPOCH + datetime.timedelta(hours=n)),
    }


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Store:
    """The records of every table, by id, and the next id to assign; thread-safe."""

    records: int
    tables: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        companies = max(self.records // 10, 1)
        self.tables["contacts"] = {n: _contact(n, companies) for n in range(1, self.records + 1)}
        self.tables["companies"] = {n: _company(n) for n in range(1, companies + 1)}
        self.next_id = {name: len(rows) + 1 for name, rows in self.tables.items()}

    def now(self) -> str:
        return _stamp(datetime.datetime.now(datetime.UTC))

    def create(self, table: str, values: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            key = self.next_id[table]
            self.next_id[table] += 1
            record = {f.name: None for f in SCHEMAS[table]} | values | {"id": key, "updated_at": self.now()}
            self.tables[table][key] = record
            return record
