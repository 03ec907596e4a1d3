"""query / queryMore / queryAll over HTTP: paging, batch sizes, cursors, deleted records, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.salesforce.emulator import SalesforceEmulator

from .conftest import RECORDS, V


def query(client: httpx.Client, soql: str, batch: int | None = None, resource: str = "query") -> httpx.Response:
    headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else {}
    return client.get(f"{V}/{resource}", params={"q": soql}, headers=headers)


def all_pages(client: httpx.Client, first: dict[str, Any]) -> list[dict[str, Any]]:
    pages = [first]
    while not pages[-1]["done"]:
        pages.append(client.get(pages[-1]["nextRecordsUrl"]).json())
    return pages


@pytest.mark.parametrize(("batch", "sizes"), [(None, [RECORDS]), (200, [200, 200, 100]), (50, [200, 200, 100])])
def test_pages_follow_the_batch_size(client: httpx.Client, batch: int | None, sizes: list[int]) -> None:
    first = query(client, "SELECT Id, Name FROM Account", batch).json()
    pages = all_pages(client, first)
    assert [len(page["records"]) for page in pages] == sizes
    assert all(page["totalSize"] == RECORDS for page in pages)
    assert [("nextRecordsUrl" in page) for page in pages] == [True] * (len(pages) - 1) + [False]
    ids = [record["Id"] for page in pages for record in page["records"]]
    assert len(set(ids)) == RECORDS
    if len(pages) > 1:
        assert pages[0]["nextRecordsUrl"].startswith(f"{V}/query/0r8")
        assert pages[0]["nextRecordsUrl"].endswith("-200")


def test_records_have_attributes_and_nested_parents(client: httpx.Client) -> None:
    body = query(client, "SELECT Id, Name, Owner.Name FROM Account WHERE Owner.Name != null LIMIT 1").json()
    record = body["records"][0]
    assert record["attributes"] == {"type": "Account", "url": f"{V}/sobjects/Account/{record['Id']}"}
    assert record["Owner"]["attributes"]["type"] == "User"


def test_a_page_can_be_fetched_again(client: httpx.Client) -> None:
    first = query(client, "SELECT Id FROM Contact", 200).json()
    again = client.get(first["nextRecordsUrl"]).json()
    assert client.get(first["nextRecordsUrl"]).json() == again


def test_count_query(client: httpx.Client) -> None:
    body = query(client, "SELECT COUNT() FROM Opportunity").json()
    assert body == {"totalSize": RECORDS, "done": True, "records": []}


@pytest.mark.parametrize("locator", ["0r85g0000000000AAA-200", "garbage", "0r85g0000000001AAA-999999"])
def test_unknown_locators(client: httpx.Client, locator: str) -> None:
    response = client.get(f"{V}/query/{locator}")
    assert response.status_code == 400
    assert response.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


def test_soql_errors_are_400_with_the_engines_code(client: httpx.Client) -> None:
    response = query(client, "SELECT Nme FROM Account")
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "INVALID_FIELD" and "Nme" in error["message"]
    assert query(client, "SELECT Id FROM AccountChangeEvent").json()[0]["errorCode"] == "INVALID_TYPE"
    missing = client.get(f"{V}/query")
    assert missing.status_code == 400 and missing.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_query_all_shows_deleted_records(emulator: SalesforceEmulator, client: httpx.Client) -> None:
    created = client.post(f"{V}/sobjects/Account", json={"Name": "To be recycled"}).json()["id"]
    assert client.delete(f"{V}/sobjects/Account/{created}").status_code == 204
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{created}'"
    assert query(client, soql).json()["totalSize"] == 0
    body = query(client, soql, resource="queryAll").json()
    assert body["records"][0]["IsDeleted"] is True
    assert emulator.store.is_deleted(emulator.store.get(created) or {})


def test_queries_see_writes(client: httpx.Client) -> None:
    before = query(client, "SELECT COUNT() FROM Contact").json()["totalSize"]
    client.post(f"{V}/sobjects/Contact", json={"LastName": "Nguyễn"})
    assert query(client, "SELECT COUNT() FROM Contact").json()["totalSize"] == before + 1
    found = query(client, "SELECT LastName FROM Contact WHERE LastName = 'nguyễn'").json()
    assert found["records"][0]["LastName"] == "Nguyễn"


def test_every_generated_value_is_queryable(client: httpx.Client) -> None:
    for name in ("Account", "pse__Timecard_Header__c", "c2g__codaTransactionLineItem__c"):
        body = query(client, f"SELECT FIELDS(ALL) FROM {name} LIMIT 200").json()
        assert len(body["records"]) == 200
