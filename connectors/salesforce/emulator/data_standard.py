"""Generators for the standard objects: users, accounts, contacts, opportunities.

Each takes (context, index) and returns the record's stored fields; calculated fields are filled afterwards by
the object's derivation, exactly as on a write. About one value in ten of a nullable field is null.
"""

from __future__ import annotations

import unicodedata
from typing import TypeVar

from federation.emulation.pools import (
    CITIES,
    COMPANY_CORES,
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    DEPARTMENTS,
    DESCRIPTIONS,
    FIRST_NAMES,
    HOSTILE_TEXT,
    LAST_NAMES,
    PRODUCTS,
    STREETS,
    TITLES,
)

from .datagen import DIGITS2, DIGITS4, GenContext, date_wire, u16
from .model import Record
from .schema_standard import (
    ACCOUNT_TYPES,
    INDUSTRIES,
    INTERESTS,
    LEAD_SOURCES,
    OPPORTUNITY_TYPES,
    OWNERSHIP,
    RATINGS,
    SALUTATIONS,
    STAGES,
    TIME_ZONES,
)

T = TypeVar("T")
USER_COUNT = 25
#: The API user every session logs in as: user 0.
API_USERNAME = "myUser"
#: The industry of the vendors' SQLAlchemy example (``filter_by(Industry="Floppy Disks")``): about one account in
#: 85 has it (10 of the default 1,000). Industry is an unrestricted picklist: a value outside its list is valid.
FLOPPY_DISKS = "Floppy Disks"
_STATED_CITIES = tuple(place for place in CITIES if place[1])
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.co.uk")
_STAGE_NAMES = tuple(STAGES)


def _slug(text: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in ascii_only.lower() if char.isalnum())


_FIRST_SLUGS = tuple(_slug(name) for name in FIRST_NAMES)
_LAST_SLUGS = tuple(_slug(name) for name in LAST_NAMES)
_CORE_SLUGS = tuple(_slug(core) for core in COMPANY_CORES)


def _nullable(value: T, digest: bytes, at: int) -> T | None:
    """`value`, or None for about one draw in ten."""
    return None if digest[at] < 26 else value


def user(ctx: GenContext, i: int) -> Record:
    """User `i`; user 0 is the API user the credentials log in as."""
    d = ctx.digest("User", i)
    first, last = FIRST_NAMES[d[0] % len(FIRST_NAMES)], LAST_NAMES[d[1] % len(LAST_NAMES)]
    if i == 0:
        first, last = "Integration", "User"
    slug = f"{_slug(first)}.{_slug(last)}{i}"
    record: Record = {
        "Id": ctx.user_id(i),
        "Username": API_USERNAME if i == 0 else f"{slug}@example.com",
        "LastName": last,
        "FirstName": first,
        "Alias": slug[:8],
        "Email": f"{slug}@example.com",
        "IsActive": i == 0 or d[2] > 30,
        "Title": TITLES[d[3] % len(TITLES)],
        "Department": DEPARTMENTS[d[4] % len(DEPARTMENTS)],
        "Phone": f"+1 415-555-{DIGITS4[u16(d, 5) % 10000]}",
        "TimeZoneSidKey": TIME_ZONES[d[7] % len(TIME_ZONES)],
        "ManagerId": None if i == 0 else ctx.user_id(d[8] % i),
    }
    ctx.audit(record, ctx.created_at("User", i, d), d, users=1)
    return record


def account(ctx: GenContext, i: int) -> Record:
    """Account `i`: a company with a billing address, industry and size; some have a parent account."""
    d = ctx.digest("Account", i)
    created = ctx.created_at("Account", i, d)
    core = d[1] % len(COMPANY_CORES)
    if d[0] < 6:
        name = HOSTILE_TEXT[d[2] % len(HOSTILE_TEXT)]
    else:
        name = f"{COMPANY_PREFIXES[d[2] % 20]} {COMPANY_CORES[core]} {COMPANY_SUFFIXES[d[3] % 10]}"
    floppy = d[48] < 3
    # The vendors' example maps BillingState as the key: its Floppy Disks accounts are in cities with a state.
    places = _STATED_CITIES if floppy else CITIES
    city, state, country, postal, area = places[d[4] % len(places)]
    street = f"{(d[5] | d[6] << 8) % 9000 + 1} {STREETS[d[7] % len(STREETS)]}"
    revenue = None if d[8] < 26 else float(((d[9] | d[10] << 8) % 9999 + 1) * 10 ** (3 + d[11] % 6))
    has_shipping = d[12] > 80
    record: Record = {
        "Id": ctx.id_of("Account", i),
        "Name": name,
        "Type": ACCOUNT_TYPES[d[13] % 7] if d[14] > 25 else None,
        "ParentId": ctx.id_of("Account", (d[15] | d[16] << 8) % i) if i and d[17] < 20 else None,
        "BillingStreet": street,
        "BillingCity": city,
        "BillingState": state,
        "BillingPostalCode": postal + DIGITS2[d[18] % 100],
        "BillingCountry": country,
        "ShippingStreet": street if has_shipping else None,
        "ShippingCity": city if has_shipping else None,
        "ShippingCountry": country if has_shipping else None,
        "Phone": f"+{area} 555 {DIGITS4[(d[20] | d[21] << 8) % 10000]}" if d[22] > 25 else None,
        "Fax": f"+{area} 555 {DIGITS4[(d[23] | d[24] << 8) % 10000]}" if d[25] < 40 else None,
        "AccountNumber": f"CD{100000 + i}",
        "Website": f"https://www.{_CORE_SLUGS[core]}{i}.example.com" if d[26] > 25 else None,
        "Industry": FLOPPY_DISKS if floppy else INDUSTRIES[d[27] % 32] if d[28] > 25 else None,
        "AnnualRevenue": revenue,
        "NumberOfEmployees": (d[29] | d[30] << 8) % 50000 + 1 if d[31] > 25 else None,
        "Ownership": OWNERSHIP[d[32] % 4] if d[33] > 25 else None,
        "TickerSymbol": f"{_CORE_SLUGS[core][:3].upper()}{d[34] % 10}" if d[35] < 30 else None,
        "Description": DESCRIPTIONS[d[36] % len(DESCRIPTIONS)] if d[37] < 90 else None,
        "Rating": RATINGS[d[38] % 3] if d[39] > 25 else None,
        "Site": None,
        "AccountSource": LEAD_SOURCES[d[40] % 5] if d[41] > 25 else None,
        "LastActivityDate": date_wire(created + (d[42] | d[43] << 8) * 3600) if d[44] > 60 else None,
        "Key_Account__c": d[45] < 30,
        "Customer_Since__c": date_wire(created) if d[46] > 100 else None,
        "OwnerId": ctx.user_id(d[47] % USER_COUNT),
    }
    ctx.audit(record, created, d, USER_COUNT)
    return record


def contact(ctx: GenContext, i: int) -> Record:
    """Contact `i`: a person at an existing account (a few are private contacts with no account)."""
    d = ctx.digest("Contact", i)
    first_at, last_at = d[0] % len(FIRST_NAMES), d[1] % len(LAST_NAMES)
    city, state, country, postal, area = CITIES[d[2] % len(CITIES)]
    email = f"{_FIRST_SLUGS[first_at]}.{_LAST_SLUGS[last_at]}{i}@{_DOMAINS[d[3] % 4]}"
    interests = ";".join(value for bit, value in enumerate(INTERESTS) if d[4] >> bit & 1)
    birth = -631152000 + u16(d, 5) * 14400  # 1950-01-01 plus up to ~30 years
    record: Record = {
        "Id": ctx.id_of("Contact", i),
        "AccountId": ctx.pick_id("Account", d, 6) if d[9] > 12 else None,
        "LastName": LAST_NAMES[last_at],
        "FirstName": _nullable(FIRST_NAMES[first_at], d, 10),
        "Salutation": _nullable(SALUTATIONS[d[11] % len(SALUTATIONS)], d, 12),
        "Title": TITLES[d[13] % len(TITLES)],
        "Department": DEPARTMENTS[d[14] % len(DEPARTMENTS)],
        "Email": _nullable(email, d, 15),
        "Phone": f"+{area} 555 {DIGITS4[u16(d, 16) % 10000]}" if d[18] > 25 else None,
        "MobilePhone": f"+{area} 7{DIGITS4[u16(d, 19) % 1000][1:]} {DIGITS4[u16(d, 21) % 10000]}"
        if d[23] > 100
        else None,
        "Birthdate": date_wire(birth) if d[24] > 100 else None,
        "MailingStreet": f"{u16(d, 25) % 900 + 1} {STREETS[d[27] % len(STREETS)]}",
        "MailingCity": city,
        "MailingState": state,
        "MailingPostalCode": postal + DIGITS2[d[28] % 100],
        "MailingCountry": country,
        "LeadSource": _nullable(LEAD_SOURCES[d[29] % len(LEAD_SOURCES)], d, 30),
        "HasOptedOutOfEmail": d[31] < 20,
        "Description": DESCRIPTIONS[d[32] % len(DESCRIPTIONS)] if d[33] < 40 else None,
        "Preferred_Call_Time__c": f"{DIGITS2[8 + d[34] % 10]}:{DIGITS2[d[35] % 4 * 15]}:00.000Z"
        if d[36] > 90
        else None,
        "Interests__c": interests or None,
        "OwnerId": ctx.user_id(d[37] % USER_COUNT),
    }
    ctx.audit(record, ctx.created_at("Contact", i, d), d, USER_COUNT)
    return record


def opportunity(ctx: GenContext, i: int) -> Record:
    """Opportunity `i` on an existing account, closing one to twelve months after it was opened."""
    d = ctx.digest("Opportunity", i)
    created = ctx.created_at("Opportunity", i, d)
    product = PRODUCTS[d[0] % len(PRODUCTS)]
    record: Record = {
        "Id": ctx.id_of("Opportunity", i),
        "AccountId": ctx.pick_id("Account", d, 1) if d[4] > 8 else None,
        "Name": f"{COMPANY_PREFIXES[d[5] % 20]} {COMPANY_CORES[d[6] % 20]} - {product}",
        "Description": DESCRIPTIONS[d[7] % len(DESCRIPTIONS)] if d[8] < 50 else None,
        "StageName": _STAGE_NAMES[d[9] % len(_STAGE_NAMES)],
        "Amount": _nullable((u16(d, 10) % 20000 + 1) * 25 + d[12] % 100 / 100, d, 13),
        "TotalOpportunityQuantity": _nullable(float(d[14] % 50 + 1), d, 15),
        "CloseDate": date_wire(created + (30 + u16(d, 16) % 335) * 86400),
        "Type": _nullable(OPPORTUNITY_TYPES[d[18] % len(OPPORTUNITY_TYPES)], d, 19),
        "NextStep": _nullable("Send proposal", d, 20) if d[21] < 60 else None,
        "LeadSource": _nullable(LEAD_SOURCES[d[22] % len(LEAD_SOURCES)], d, 23),
        "OwnerId": ctx.user_id(d[24] % USER_COUNT),
    }
    ctx.audit(record, created, d, USER_COUNT)
    return record
