"""Record CRUD and sObject Collections: status codes, validation errors, system fields, allOrNone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.salesforce.emulator import SalesforceEmulator
from connectors.salesforce.emulator.fields import datetime_
from connectors.salesforce.emulator.validation import coerce_value

from .conftest import V


def create(client: httpx.Client, obj: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{V}/sobjects/{obj}", json=body)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    [error] = response.json()
    return dict(error)


def test_create_retrieve_update_delete(emulator: SalesforceEmulator, client: httpx.Client) -> None:
    response = create(client, "Account", {"Name": "O'Brien & Søn", "AnnualRevenue": 2e9, "Industry": "Banking"})
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["errors"] == []
    record_id = body["id"]
    assert len(record_id) == 18 and record_id.startswith("001")

    record = client.get(f"{V}/sobjects/Account/{record_id}").json()
    assert record["attributes"] == {"type": "Account", "url": f"{V}/sobjects/Account/{record_id}"}
    assert record["Name"] == "O'Brien & Søn" and record["Account_Tier__c"] == "Enterprise"
    assert record["OwnerId"] == record["CreatedById"] == record["LastModifiedById"]
    assert record["CreatedDate"] == record["LastModifiedDate"] == record["SystemModstamp"]
    assert record["IsDeleted"] is False and record["Key_Account__c"] is False
    assert client.get(f"{V}/sobjects/Account/{record_id[:15]}").json()["Id"] == record_id
    narrowed = client.get(f"{V}/sobjects/Account/{record_id}", params={"fields": "name,Industry"}).json()
    assert list(narrowed) == ["attributes", "Name", "Industry"]

    updated = client.patch(f"{V}/sobjects/Account/{record_id}", json={"AnnualRevenue": 100, "Phone": "+1 555"})
    assert updated.status_code == 204 and updated.content == b""
    after = client.get(f"{V}/sobjects/Account/{record_id}").json()
    assert after["Account_Tier__c"] == "SMB" and after["Phone"] == "+1 555"
    assert after["CreatedDate"] == record["CreatedDate"]
    assert after["LastModifiedDate"] > record["LastModifiedDate"]
    assert after["SystemModstamp"] == after["LastModifiedDate"]

    assert client.delete(f"{V}/sobjects/Account/{record_id}").status_code == 204
    gone = client.get(f"{V}/sobjects/Account/{record_id}")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"
    assert emulator.store.get(record_id)["IsDeleted"] is True  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "code", "message", "fields"),
    [
        ({"Nmae": "x"}, "INVALID_FIELD", "No such column 'Nmae' on sobject of type Account", ["Nmae"]),
        ({"Type": "Other"}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ["Name"]),
        ({"Name": ""}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ["Name"]),
        (
            {"Name": "x", "Account_Tier__c": "Gold", "CreatedDate": "2020-01-01T00:00:00Z"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Account_Tier__c, CreatedDate. Please check the security settings of "
            "this field and verify that it is read/write for your profile or permission set.",
            ["Account_Tier__c", "CreatedDate"],
        ),
        (
            {"Name": "x", "Id": "001000000000000AAA"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "cannot specify Id in an insert call",
            ["Id"],
        ),
        (
            {"Name": "x" * 256},
            "STRING_TOO_LONG",
            f"Account Name: data value too large: {'x' * 40}... (max length=255)",
            ["Name"],
        ),
        (
            {"Name": "x", "ParentId": "nope"},
            "MALFORMED_ID",
            "Parent Account ID: id value of incorrect type: nope",
            ["ParentId"],
        ),
        (
            {"Name": "x", "OwnerId": "0015g0000000001AAA"},
            "FIELD_INTEGRITY_EXCEPTION",
            "Owner ID: id value of incorrect type: 0015g0000000001AAA",
            ["OwnerId"],
        ),
        (
            {"Name": "x", "ParentId": "0015g0000ZZZZZZAAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            ["ParentId"],
        ),
        (
            {"Name": "x", "AnnualRevenue": 1e19},
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Annual Revenue: value outside of valid range on numeric field: 1e+19",
            ["AnnualRevenue"],
        ),
    ],
)
def test_create_validation(
    client: httpx.Client, body: dict[str, Any], code: str, message: str, fields: list[str]
) -> None:
    error = error_of(create(client, "Account", body))
    assert error == {"message": message, "errorCode": code, "fields": fields}


@pytest.mark.parametrize(
    ("obj", "body", "expected"),
    [
        (
            "Account",
            {"Name": "x", "NumberOfEmployees": "many"},
            "Cannot deserialize instance of int from VALUE_STRING value many",
        ),
        (
            "Account",
            {"Name": "x", "Key_Account__c": "FALSE"},
            "Cannot deserialize instance of boolean from VALUE_STRING value FALSE",
        ),
        (
            "Contact",
            {"LastName": "x", "Birthdate": "2017-10-17 00:00:00"},
            "Cannot deserialize instance of date from VALUE_STRING value 2017-10-17 00:00:00",
        ),
        ("Contact", {"LastName": {"nested": 1}}, "Cannot deserialize instance of string from START_OBJECT value {"),
    ],
)
def test_wrong_json_types_are_parser_errors(
    client: httpx.Client, obj: str, body: dict[str, Any], expected: str
) -> None:
    error = error_of(create(client, obj, body))
    assert error["errorCode"] == "JSON_PARSER_ERROR"
    assert error["message"].startswith(expected + " or request may be missing a required field at [line:1, column:")


def test_values_are_coerced_to_wire_format(client: httpx.Client) -> None:
    body = {
        "LastName": "Wire",
        "Birthdate": "1980-02-29",
        "Preferred_Call_Time__c": "09:30",
        "HasOptedOutOfEmail": "true",
        "Email": "w@example.com",
        "Title": 42,
        "Interests__c": "Cloud;Security",
    }
    record_id = create(client, "Contact", body).json()["id"]
    record = client.get(f"{V}/sobjects/Contact/{record_id}").json()
    assert record["Preferred_Call_Time__c"] == "09:30:00.000Z"
    assert record["HasOptedOutOfEmail"] is True and record["Title"] == "42" and record["Name"] == "Wire"
    opportunity = {"Name": "Deal", "StageName": "Closed Won", "CloseDate": "2024-01-31", "Amount": "1234.567"}
    opportunity_id = create(client, "Opportunity", opportunity).json()["id"]
    deal = client.get(f"{V}/sobjects/Opportunity/{opportunity_id}").json()
    assert (deal["Amount"], deal["Probability"], deal["IsWon"], deal["IsClosed"]) == (1234.57, 100, True, True)
    assert deal["ExpectedRevenue"] == 1234.57
    email = error_of(create(client, "Contact", {"LastName": "x", "Email": "not an address"}))
    assert email["errorCode"] == "INVALID_EMAIL_ADDRESS"
    stamp = {"Name": "x", "StageName": "Prospecting", "CloseDate": "2024-01-31"}
    created = create(client, "Opportunity", stamp).json()["id"]
    client.patch(f"{V}/sobjects/Opportunity/{created}", json={"CloseDate": None})
    assert (
        client.patch(f"{V}/sobjects/Opportunity/{created}", json={"CloseDate": None}).json()[0]["errorCode"]
        == "REQUIRED_FIELD_MISSING"
    )


def test_datetime_values_become_utc(emulator: SalesforceEmulator) -> None:
    # The profiles have no writable datetime field: check the coercion every write goes through directly.
    field = datetime_("When__c")
    assert coerce_value(emulator.store, field, "2024-03-01T10:00:00+02:00") == "2024-03-01T08:00:00.000+0000"
    assert coerce_value(emulator.store, field, "2024-03-01T10:00:00.5Z") == "2024-03-01T10:00:00.500+0000"
    assert coerce_value(emulator.store, field, "2024-03-01") == "2024-03-01T00:00:00.000+0000"


def test_read_only_objects_and_ids(client: httpx.Client) -> None:
    error = error_of(create(client, "c2g__codaTransaction__c", {}))
    assert error["errorCode"] == "INVALID_TYPE_FOR_OPERATION"
    wrong_object = client.get(f"{V}/sobjects/Account/0035g0000000001AAA")
    assert wrong_object.json()[0]["errorCode"] == "MALFORMED_ID"
    not_an_id = client.get(f"{V}/sobjects/Account/abc")
    assert not_an_id.status_code == 404
    assert not_an_id.json()[0]["message"] == "Provided external ID field does not exist or is not accessible: abc"
    missing = client.patch(f"{V}/sobjects/Account/0015g0000ZZZZZZAAA", json={"Name": "x"})
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_auto_numbers_rollups_and_cascades(client: httpx.Client) -> None:
    account = client.get(f"{V}/query", params={"q": "SELECT Id FROM Account LIMIT 1"}).json()["records"][0]["Id"]
    invoice_id = create(client, "c2g__codaInvoice__c", {"c2g__Account__c": account}).json()["id"]
    invoice = client.get(f"{V}/sobjects/c2g__codaInvoice__c/{invoice_id}").json()
    assert invoice["Name"].startswith("SIN") and invoice["c2g__InvoiceStatus__c"] == "In Progress"
    assert invoice["c2g__InvoiceTotal__c"] == 0
    line = {"c2g__Invoice__c": invoice_id, "c2g__Quantity__c": 3, "c2g__UnitPrice__c": 10.5, "c2g__TaxValue1__c": 6}
    line_id = create(client, "c2g__codaInvoiceLineItem__c", line).json()["id"]
    totals = client.get(f"{V}/sobjects/c2g__codaInvoice__c/{invoice_id}").json()
    assert (totals["c2g__NetTotal__c"], totals["c2g__TaxTotal__c"], totals["c2g__InvoiceTotal__c"]) == (31.5, 6, 37.5)
    client.patch(f"{V}/sobjects/c2g__codaInvoiceLineItem__c/{line_id}", json={"c2g__Quantity__c": 1})
    assert client.get(f"{V}/sobjects/c2g__codaInvoice__c/{invoice_id}").json()["c2g__NetTotal__c"] == 10.5
    assert client.delete(f"{V}/sobjects/c2g__codaInvoice__c/{invoice_id}").status_code == 204
    line_after = client.get(f"{V}/sobjects/c2g__codaInvoiceLineItem__c/{line_id}")
    assert line_after.json()[0]["errorCode"] == "ENTITY_IS_DELETED"  # a master-detail child goes with its parent


def collection(client: httpx.Client, method: str, records: list[dict[str, Any]], all_or_none: bool) -> Any:
    response = client.request(method, f"{V}/composite/sobjects", json={"allOrNone": all_or_none, "records": records})
    assert response.status_code == 200, response.text
    return response.json()


def test_collections_create_partial_success(client: httpx.Client) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "First"},
        {"attributes": {"type": "Account"}, "Industry": "Retail"},
        {"attributes": {"type": "Contact"}, "LastName": "Third"},
    ]
    first, second, third = collection(client, "POST", records, all_or_none=False)
    assert first["success"] and first["id"].startswith("001") and first["errors"] == []
    assert second == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }
    assert third["success"] and third["id"].startswith("003")


def test_collections_all_or_none_rolls_back(emulator: SalesforceEmulator, client: httpx.Client) -> None:
    before = len(emulator.store.records("Account"))
    records = [
        {"attributes": {"type": "Account"}, "Name": "Kept?"},
        {"attributes": {"type": "Account"}, "Bogus__c": 1},
    ]
    first, second = collection(client, "POST", records, all_or_none=True)
    assert first == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "fields": [],
                "message": "Record rolled back because not all records were valid and the request was using "
                "AllOrNone header",
            }
        ],
    }
    assert second["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert len(emulator.store.records("Account")) == before


def test_collections_update_and_delete(client: httpx.Client) -> None:
    created = collection(
        client, "POST", [{"attributes": {"type": "Account"}, "Name": f"Batch {n}"} for n in range(3)], False
    )
    ids = [result["id"] for result in created]
    updates = [
        {"attributes": {"type": "Account"}, "id": ids[0], "Rating": "Hot"},
        {"attributes": {"type": "Account"}, "Rating": "Cold"},
        {"attributes": {"type": "Account"}, "id": "0015g0000ZZZZZZAAA", "Rating": "Cold"},
    ]
    ok, no_id, unknown = collection(client, "PATCH", updates, False)
    assert ok == {"id": ids[0], "success": True, "errors": []}
    assert no_id["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert unknown["errors"][0] == {
        "statusCode": "INVALID_CROSS_REFERENCE_KEY",
        "message": "invalid cross reference id",
        "fields": [],
    }
    assert client.get(f"{V}/sobjects/Account/{ids[0]}").json()["Rating"] == "Hot"

    response = client.delete(f"{V}/composite/sobjects", params={"ids": f"{ids[1]},{ids[1]},bad", "allOrNone": "false"})
    first, again, bad = response.json()
    assert first == {"id": ids[1], "success": True, "errors": []}
    assert again["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert bad["errors"][0] == {"statusCode": "MALFORMED_ID", "message": "malformed id bad", "fields": ["Id"]}

    fetched = client.get(f"{V}/composite/sobjects/Account", params={"ids": f"{ids[0]},{ids[1]}", "fields": "Name"})
    assert [row and row["Name"] for row in fetched.json()] == ["Batch 0", None]


def test_collections_limit_and_malformed_requests(client: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": str(n)} for n in range(201)]
    response = client.post(f"{V}/composite/sobjects", json={"records": records})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]
    untyped = client.post(f"{V}/composite/sobjects", json={"records": [{"Name": "x"}]})
    assert untyped.status_code == 400 and untyped.json()[0]["errorCode"] == "INVALID_TYPE"
