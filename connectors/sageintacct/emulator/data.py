"""Deterministic, related data for the emulated company: customers, vendors, contacts, the chart of accounts,
journal entries that balance per batch, AR invoices and AP bills with their lines, and the dimensions.

Values are kept typed (int, Decimal, date, datetime, bool, str; None for an empty field) and rendered as the
gateway's strings on the way out. Sizes follow the sandbox's record count: `records` customers (one of them is
CUSTOMERID `12345`, which the vendor's SQLAlchemy example looks for); the customers' NAME cycles through the
hostile-text pool every third record, and several fields are partly empty.
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from typing import Any

from federation.emulation.pools import CITIES, COMPANY_CORES, FIRST_NAMES, HOSTILE_TEXT, LAST_NAMES, PRODUCTS

from .schema import OBJECTS

Record = dict[str, Any]

_EPOCH = datetime.datetime(2024, 1, 1, 8, 0, 0)
_DAY0 = datetime.date(2024, 1, 1)
ACCOUNTS = (
    ("1000", "Cash", "balancesheet", "debit", "Cash"),
    ("1200", "Accounts Receivable", "balancesheet", "debit", "Receivables"),
    ("1400", "Inventory", "balancesheet", "debit", "Inventory"),
    ("2000", "Accounts Payable", "balancesheet", "credit", "Payables"),
    ("3000", "Retained Earnings", "balancesheet", "credit", "Equity"),
    ("4000", "Product Revenue", "incomestatement", "credit", "Revenue"),
    ("4100", "Service Revenue", "incomestatement", "credit", "Revenue"),
    ("5000", "Cost of Goods Sold", "incomestatement", "debit", "Cost of Sales"),
    ("6000", "Salaries", "incomestatement", "debit", "Expenses"),
    ("6100", "Rent", "incomestatement", "debit", "Expenses"),
    ("6200", "Travel", "incomestatement", "debit", "Expenses"),
)
DEPARTMENTS = ("SALES", "FIN", "IT", "OPS", "MKT", "ENG")
LOCATIONS = ("HQ", "EAST", "WEST", "EU")
#: The customer the vendor's SQLAlchemy example filters for.
EXAMPLE_CUSTOMER = "12345"


def _stamp(n: int, minutes: int) -> datetime.datetime:
    return _EPOCH + datetime.timedelta(minutes=n * minutes, seconds=n % 60)


def _contact(n: int, name: str) -> Record:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
    return {
        "DISPLAYCONTACT.PRINTAS": name,
        "DISPLAYCONTACT.COMPANYNAME": name,
        "DISPLAYCONTACT.FIRSTNAME": first,
        "DISPLAYCONTACT.LASTNAME": last,
        "DISPLAYCONTACT.EMAIL1": None if n % 11 == 0 else f"{first.lower()}.{n}@example.com",
        "DISPLAYCONTACT.PHONE1": None if n % 4 == 0 else f"+1 {CITIES[n % len(CITIES)][4]} 555 {n % 10000:04d}",
        "DISPLAYCONTACT.MAILADDRESS.CITY": None if n % 5 == 0 else CITIES[n % len(CITIES)][0],
    }


def _customer(n: int) -> Record:
    name = HOSTILE_TEXT[n // 3 % len(HOSTILE_TEXT)] if n % 3 == 0 else f"{COMPANY_CORES[n % len(COMPANY_CORES)]} {n}"
    return {
        "CUSTOMERID": EXAMPLE_CUSTOMER if n == 7 else f"C{n:05d}",
        "NAME": name,
        "STATUS": "inactive" if n % 10 == 0 else "active",
        "CUSTTYPE": None if n % 6 == 0 else ("Direct", "Partner", "Government")[n % 3],
        "PARENTID": None if n % 8 else f"C{max(n - 1, 1):05d}",
        "TERMNAME": ("N30", "N15", "Due on receipt")[n % 3],
        "CURRENCY": "USD" if n % 7 else "EUR",
        "CREDITLIMIT": None if n % 9 == 0 else Decimal(n * 250 % 50_000),
        "TOTALDUE": Decimal(0),
        "ONETIME": n % 17 == 0,
        "ONHOLD": n % 13 == 0,
        "LASTINVOICEDATE": None,
        "COMMENTS": None if n % 2 else f"Account reviewed {n % 12 + 1} times",
        **_contact(n, name),
        "WHENCREATED": _stamp(n, 37),
        "WHENMODIFIED": _stamp(n, 41),
    }


def _vendor(n: int) -> Record:
    name = f"{COMPANY_CORES[(n * 3) % len(COMPANY_CORES)]} Supply {n}"
    return {
        "VENDORID": f"V{n:05d}",
        "NAME": name,
        "STATUS": "inactive" if n % 12 == 0 else "active",
        "VENDTYPE": ("Supplier", "Contractor", None)[n % 3],
        "TERMNAME": "N30",
        "TOTALDUE": Decimal(0),
        "ONHOLD": n % 19 == 0,
        "COMMENTS": None,
        **_contact(n + 5000, name),
        "WHENCREATED": _stamp(n, 53),
        "WHENMODIFIED": _stamp(n, 59),
    }


def _person(n: int) -> Record:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 3) % len(LAST_NAMES)]
    city = CITIES[n % len(CITIES)]
    return {
        "CONTACTNAME": f"{last}, {first} ({n})",
        "PRINTAS": f"{first} {last}",
        "COMPANYNAME": None if n % 3 == 0 else f"{COMPANY_CORES[n % len(COMPANY_CORES)]} {n}",
        "FIRSTNAME": first,
        "LASTNAME": last,
        "EMAIL1": None if n % 7 == 0 else f"{first.lower()}.{last.lower()}@example.com",
        "PHONE1": f"+1 {city[4]} 555 {n % 10000:04d}",
        "MAILADDRESS.CITY": city[0],
        "MAILADDRESS.COUNTRY": city[2],
        "STATUS": "active",
        "WHENCREATED": _stamp(n, 17),
        "WHENMODIFIED": _stamp(n, 19),
    }


class Company:
    """Every object's records by RECORDNO, and the next RECORDNO per object; thread-safe through `lock`."""

    def __init__(self, records: int) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[int, Record]] = {name: {} for name in OBJECTS}
        self.next_key: dict[str, int] = dict.fromkeys(OBJECTS, 1)
        self._generate(max(records, 0))

    def add(self, obj: str, values: Record, when: datetime.datetime | None = None) -> Record:
        with self.lock:
            key = self.next_key[obj]
            self.next_key[obj] += 1
            stamp = when or _EPOCH
            record: Record = {f.id: None for f in OBJECTS[obj].fields}
            record.update(WHENCREATED=stamp, WHENMODIFIED=stamp)
            record.update(values)
            record["RECORDNO"] = key
            self.tables[obj][key] = record
            return record

    def _generate(self, records: int) -> None:
        for account, title, kind, balance, category in ACCOUNTS:
            self.add(
                "GLACCOUNT",
                {
                    "ACCOUNTNO": account,
                    "TITLE": title,
                    "ACCOUNTTYPE": kind,
                    "NORMALBALANCE": balance,
                    "CATEGORY": category,
                    "STATUS": "active",
                },
            )
        for i, dept in enumerate(DEPARTMENTS):
            self.add(
                "DEPARTMENT",
                {
                    "DEPARTMENTID": dept,
                    "TITLE": dept.title(),
                    "STATUS": "active",
                    "PARENTID": None if i < 2 else DEPARTMENTS[i % 2],
                },
            )
        for i, loc in enumerate(LOCATIONS):
            self.add(
                "LOCATION",
                {
                    "LOCATIONID": loc,
                    "NAME": f"{loc.title()} office",
                    "STATUS": "active",
                    "PARENTID": None if i == 0 else "HQ",
                },
            )
        customers = [self.add("CUSTOMER", _customer(n)) for n in range(1, records + 1)]
        vendors = [self.add("VENDOR", _vendor(n)) for n in range(1, max(records // 4, 1) + 1)]
        for n in range(1, max(records // 2, 1) + 1):
            self.add("CONTACT", _person(n))
        for n in range(1, max(records // 10, 1) + 1):
            first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 5) % len(LAST_NAMES)]
            self.add(
                "EMPLOYEE",
                {
                    "EMPLOYEEID": f"E{n:04d}",
                    "PERSONALINFO.CONTACTNAME": f"{last}, {first}",
                    "TITLE": ("Accountant", "Controller", "Analyst", None)[n % 4],
                    "DEPARTMENTID": DEPARTMENTS[n % len(DEPARTMENTS)],
                    "LOCATIONID": LOCATIONS[n % len(LOCATIONS)],
                    "STARTDATE": _DAY0 - datetime.timedelta(days=n * 29),
                    "STATUS": "active",
                },
            )
            product = PRODUCTS[n % len(PRODUCTS)]
            self.add(
                "ITEM",
                {
                    "ITEMID": f"I{n:04d}",
                    "NAME": f"{product} {n}",
                    "ITEMTYPE": ("Inventory", "Non-Inventory", "Kit")[n % 3],
                    "BASEPRICE": Decimal(n * 37 % 900 + 10) + Decimal("0.99"),
                    "STANDARD_COST": Decimal(n * 23 % 500 + 5),
                    "STATUS": "active",
                },
            )
        for n in range(1, max(records // 20, 1) + 1):
            customer = customers[n * 7 % len(customers)] if customers else None
            self.add(
                "PROJECT",
                {
                    "PROJECTID": f"P{n:04d}",
                    "NAME": f"Implementation {n}",
                    "CUSTOMERID": customer["CUSTOMERID"] if customer else None,
                    "BEGINDATE": _DAY0 + datetime.timedelta(days=n * 3),
                    "ENDDATE": None if n % 3 == 0 else _DAY0 + datetime.timedelta(days=n * 3 + 90),
                    "BUDGETAMOUNT": Decimal(n * 1000 + 5000),
                    "PERCENTCOMPLETE": Decimal(n * 13 % 100),
                    "STATUS": "active",
                },
            )
        self._invoices(customers, records)
        self._bills(vendors, records)
        self._journals(records)

    def _invoices(self, customers: list[Record], records: int) -> None:
        for n in range(1, max(records // 2, 1) + 1 if customers else 1):
            customer = customers[(n * 3) % len(customers)]
            posted = _DAY0 + datetime.timedelta(days=n * 5 % 360)
            lines = [Decimal(n * (i + 3) * 17 % 2000 + 50) + Decimal("0.25") * i for i in range(1 + n % 3)]
            total = sum(lines, Decimal(0))
            paid = total if n % 4 == 0 else (total / 2).quantize(Decimal("0.01")) if n % 4 == 1 else Decimal(0)
            invoice = self.add(
                "ARINVOICE",
                {
                    "RECORDID": f"INV-{n:05d}",
                    "CUSTOMERID": customer["CUSTOMERID"],
                    "WHENPOSTED": posted,
                    "WHENDUE": posted + datetime.timedelta(days=30),
                    "STATE": "Paid" if paid == total else "Partially Paid" if paid else "Posted",
                    "TOTALENTERED": total,
                    "TOTALPAID": paid,
                    "TOTALDUE": total - paid,
                    "CURRENCY": customer["CURRENCY"],
                    "DESCRIPTION": None if n % 5 else "Annual subscription",
                },
                datetime.datetime.combine(posted, datetime.time(9)),
            )
            customer["TOTALDUE"] += total - paid
            last = customer["LASTINVOICEDATE"]
            customer["LASTINVOICEDATE"] = posted if last is None or posted > last else last
            for i, amount in enumerate(lines):
                self.add(
                    "ARINVOICEITEM",
                    {
                        "RECORDKEY": invoice["RECORDNO"],
                        "LINE_NO": i + 1,
                        "ACCOUNTNO": "4000" if i % 2 == 0 else "4100",
                        "AMOUNT": amount,
                        "DEPARTMENTID": DEPARTMENTS[(n + i) % len(DEPARTMENTS)],
                        "LOCATIONID": LOCATIONS[n % len(LOCATIONS)],
                        "ENTRYDESCRIPTION": f"Line {i + 1}",
                    },
                )

    def _bills(self, vendors: list[Record], records: int) -> None:
        for n in range(1, max(records // 4, 1) + 1):
            vendor = vendors[(n * 5) % len(vendors)]
            posted = _DAY0 + datetime.timedelta(days=n * 7 % 360)
            lines = [Decimal(n * (i + 2) * 29 % 3000 + 20) for i in range(1 + n % 2)]
            total = sum(lines, Decimal(0))
            paid = total if n % 3 == 0 else Decimal(0)
            bill = self.add(
                "APBILL",
                {
                    "RECORDID": f"BILL-{n:05d}",
                    "VENDORID": vendor["VENDORID"],
                    "WHENPOSTED": posted,
                    "WHENDUE": posted + datetime.timedelta(days=30),
                    "STATE": "Paid" if paid else "Posted",
                    "TOTALENTERED": total,
                    "TOTALPAID": paid,
                    "TOTALDUE": total - paid,
                    "DESCRIPTION": PRODUCTS[n % len(PRODUCTS)],
                },
                datetime.datetime.combine(posted, datetime.time(10)),
            )
            vendor["TOTALDUE"] += total - paid
            for i, amount in enumerate(lines):
                self.add(
                    "APBILLITEM",
                    {
                        "RECORDKEY": bill["RECORDNO"],
                        "LINE_NO": i + 1,
                        "ACCOUNTNO": ("5000", "6100", "6200")[(n + i) % 3],
                        "AMOUNT": amount,
                        "DEPARTMENTID": DEPARTMENTS[(n * 2 + i) % len(DEPARTMENTS)],
                        "ENTRYDESCRIPTION": f"Bill line {i + 1}",
                    },
                )

    def _journals(self, records: int) -> None:
        pairs = (("1000", "4000"), ("1200", "4100"), ("5000", "1400"), ("6000", "1000"), ("6100", "2000"))
        for n in range(1, max(records // 5, 1) + 1):
            day = _DAY0 + datetime.timedelta(days=n * 3 % 365)
            batch = self.add(
                "GLBATCH",
                {
                    "BATCHNO": n,
                    "BATCH_TITLE": f"Journal {n}",
                    "JOURNAL": ("GJ", "SJ", "PJ")[n % 3],
                    "BATCH_DATE": day,
                    "STATE": "Posted",
                    "REFERENCENO": None if n % 2 else f"R{n}",
                },
                datetime.datetime.combine(day, datetime.time(11)),
            )
            debit, credit = pairs[n % len(pairs)]
            amounts = [Decimal(n * 41 % 5000 + 100), Decimal(n * 13 % 700 + 10)][: 1 + n % 2]
            line = 0
            for amount in amounts:
                for account, sign in ((debit, 1), (credit, -1)):
                    line += 1
                    self.add(
                        "GLENTRY",
                        {
                            "BATCHNO": batch["BATCHNO"],
                            "LINE_NO": line,
                            "ACCOUNTNO": account,
                            "TR_TYPE": sign,
                            "AMOUNT": amount,
                            "ENTRY_DATE": day,
                            "DEPARTMENTID": DEPARTMENTS[n % len(DEPARTMENTS)],
                            "LOCATIONID": LOCATIONS[n % len(LOCATIONS)],
                            "DESCRIPTION": f"Batch {n} line {line}",
                        },
                    )
