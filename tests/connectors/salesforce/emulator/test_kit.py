"""The Salesforce emulator on the emulation kit: scan faults, quotas, the clock, churn, and the sandbox specs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.salesforce.emulator import SalesforceEmulator
from connectors.salesforce.emulator.rest import CURSOR_TTL
from connectors.salesforce.emulator.store import Store
from connectors.salesforce.sandbox import certinia, financialforce
from federation.emulation.clock import Clock
from federation.emulation.pools import HOSTILE_TEXT
from federation.emulation.quotas import Quota
from federation.sandbox import SandboxSpec

from .conftest import V, password_grant

SOQL = "SELECT Id FROM Account ORDER BY Id"


@pytest.fixture()
def sf() -> Iterator[SalesforceEmulator]:
    """A small FinancialForce org on a frozen clock, private to one test."""
    with SalesforceEmulator("financialforce", records=500, clock=Clock(frozen=True)) as running:
        yield running


@pytest.fixture()
def api(sf: SalesforceEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sf.url, timeout=30) as plain:
        token = password_grant(plain).json()["access_token"]
    with httpx.Client(base_url=sf.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        yield client


def scan(client: httpx.Client, soql: str = SOQL) -> tuple[list[str], list[int]]:
    """Every Id of a paged query, and the status of each page request."""
    response = client.get(f"{V}/query", params={"q": soql}, headers={"Sforce-Query-Options": "batchSize=200"})
    ids, statuses = [], [response.status_code]
    while response.status_code == 200:
        page: dict[str, Any] = response.json()
        ids += [record["Id"] for record in page["records"]]
        if page["done"]:
            break
        response = client.get(page["nextRecordsUrl"])
        statuses.append(response.status_code)
    return ids, statuses


def test_scan_names_every_page_of_a_query(sf: SalesforceEmulator, api: httpx.Client) -> None:
    sf.inject(503, kinds={"scan"}, skip=1)
    assert scan(api)[1] == [200, 503]
    sf.inject(503, kinds={"scan"})
    assert scan(api)[1] == [503]
    assert scan(api)[1] == [200, 200, 200]


def test_a_quota_answers_the_platforms_429_and_spares_logins(sf: SalesforceEmulator, api: httpx.Client) -> None:
    sf.set_quotas([Quota("second", 2, 1.0)])
    assert [api.get(f"{V}/limits").status_code for _ in range(3)] == [200, 200, 429]
    rejected = api.get(f"{V}/limits")
    assert rejected.headers["retry-after"] == "1"
    assert rejected.json() == [
        {"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert password_grant(api).status_code == 200  # OAuth is outside the org's API limits
    sf.clock.advance(1)
    assert api.get(f"{V}/limits").status_code == 200
    assert sf.rejected == 2


def test_sessions_and_cursors_expire_on_the_clock(sf: SalesforceEmulator, api: httpx.Client) -> None:
    first = api.get(f"{V}/query", params={"q": SOQL}, headers={"Sforce-Query-Options": "batchSize=200"}).json()
    sf.clock.advance(7199)  # activity keeps a session alive
    assert api.get(first["nextRecordsUrl"]).status_code == 200
    sf.clock.advance(CURSOR_TTL - 7199 + 1)
    with httpx.Client(base_url=sf.url) as plain:
        fresh = {"Authorization": f"Bearer {password_grant(plain).json()['access_token']}"}
    assert api.get(f"{V}/limits").status_code == 401  # two days idle
    expired = api.get(first["nextRecordsUrl"], headers=fresh)
    assert expired.status_code == 400 and expired.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_records_mutated_during_a_scan(sf: SalesforceEmulator, api: httpx.Client) -> None:
    before = scan(api)[0]
    mutations = []
    sf.after("queryMore", 1, lambda: mutations.append(sf.mutate("Account", create=3, delete=4)))
    during = scan(api)[0]
    assert during == before  # a query's pages come from the result it produced when it ran
    (mutation,) = mutations
    after = scan(api)[0]
    assert after == [key for key in before if key not in mutation.deleted] + list(mutation.created)
    positions = [before.index(key) for key in mutation.deleted]
    assert positions == sorted(positions) and positions[0] < 200 < positions[-1]  # spread over the key range
    deleted = scan(api, f"SELECT Id, IsDeleted FROM Account WHERE Id = '{mutation.deleted[0]}'")[0]
    assert deleted == []
    recycled = api.get(
        f"{V}/queryAll", params={"q": f"SELECT IsDeleted FROM Account WHERE Id = '{mutation.deleted[0]}'"}
    )
    assert recycled.json()["records"][0]["IsDeleted"] is True
    created = api.get(f"{V}/sobjects/Account/{mutation.created[0]}").json()
    assert created["Name"] and created["BillingCountry"]


@pytest.mark.parametrize("name", ["Contact", "Opportunity", "c2g__codaInvoice__c", "pse__Proj__c"])
def test_any_generated_object_can_churn(name: str) -> None:
    emulator = SalesforceEmulator("certinia", records=50)
    mutation = emulator.mutate(name, create=2, delete=2)
    assert len(set(mutation.created)) == 2 and len(mutation.deleted) == 2
    assert {record["Id"] for record in emulator.store.records(name)} >= set(mutation.created)
    with pytest.raises(ValueError, match="fewer than"):
        emulator.mutate(name, delete=1000)
    with pytest.raises(KeyError):
        emulator.mutate("Nope__c", create=1)


def test_the_vendor_example_finds_floppy_disk_accounts_in_every_state() -> None:
    accounts = Store("financialforce", 1000).records("Account")
    assert 5 <= sum(account["Industry"] == "Floppy Disks" for account in accounts) <= 20
    states = Counter(account["BillingState"] for account in accounts if account["BillingState"])
    assert len(states) >= 10 and min(states.values()) >= 20


@pytest.mark.parametrize("spec", [financialforce, certinia], ids=["financialforce", "certinia"])
def test_the_sandbox_specs_conformance_cases_match_the_emulator(spec: SandboxSpec) -> None:
    case = spec.conformance
    assert case is not None
    emulator = spec.build(30)
    assert isinstance(emulator, SalesforceEmulator)
    with emulator, httpx.Client(base_url=emulator.url) as client:
        token = password_grant(client).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        rows = emulator.store.records(case.table)
        assert len(rows) >= 30 and all(row[case.key] for row in rows)
        assert {row[case.hostile_column] for row in Store(emulator.profile, 1000).records(case.table)} & set(
            HOSTILE_TEXT
        )
        writable = emulator.store.spec(case.writable_table)
        assert writable is not None
        column = writable.definition.field(case.update_column)
        assert column is not None and column.updateable and column.type == "string"
        for n in (1, 2):
            created = client.post(f"{V}/sobjects/{case.writable_table}", json=dict(case.new_row(n)))
            assert created.status_code == 201, created.text
        emulator.inject(503, kinds={case.scan_kind})
        assert client.get(f"{V}/query", params={"q": f"SELECT Id FROM {case.table}"}).status_code == 503
