"""Versions, resources, the sObject list, basic info and describe: shapes, flags, and their errors."""

from __future__ import annotations

import httpx
import pytest

from connectors.salesforce.emulator import SalesforceEmulator

from .conftest import V

#: Every key named in reference §4.4, plus the ones the brief asks for.
FIELD_KEYS = {
    "name",
    "label",
    "type",
    "length",
    "precision",
    "scale",
    "digits",
    "nillable",
    "createable",
    "updateable",
    "filterable",
    "sortable",
    "groupable",
    "custom",
    "unique",
    "externalId",
    "calculated",
    "defaultedOnCreate",
    "referenceTo",
    "relationshipName",
    "picklistValues",
    "soapType",
    "caseSensitive",
}


def test_versions_list_50_to_62(anonymous: httpx.Client) -> None:
    versions = anonymous.get("/services/data/").json()
    assert [v["version"] for v in versions] == [f"{n}.0" for n in range(50, 63)]
    assert versions[9] == {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"}


def test_unsupported_version_is_not_found(client: httpx.Client) -> None:
    response = client.get("/services/data/v49.0/sobjects")
    assert response.status_code == 404
    assert response.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_resources_and_limit_header(client: httpx.Client) -> None:
    response = client.get(f"{V}/")
    assert response.json()["query"] == f"{V}/query"
    assert response.json()["sobjects"] == f"{V}/sobjects"
    assert response.headers["sforce-limit-info"].startswith("api-usage=")
    used = int(response.headers["sforce-limit-info"].split("=")[1].split("/")[0])
    after = client.get(f"{V}/limits").headers["sforce-limit-info"]
    assert after == f"api-usage={used + 1}/15000"


def test_sobjects_lists_the_profile_with_flags(client: httpx.Client) -> None:
    body = client.get(f"{V}/sobjects").json()
    assert body["maxBatchSize"] == 200 and body["encoding"] == "UTF-8"
    by_name = {entry["name"]: entry for entry in body["sobjects"]}
    assert {"Account", "Contact", "Opportunity", "User", "c2g__codaInvoice__c", "pse__Timecard_Header__c"} <= set(
        by_name
    )
    account = by_name["Account"]
    assert account["keyPrefix"] == "001" and account["queryable"] and not account["custom"]
    assert account["urls"] == {
        "sobject": f"{V}/sobjects/Account",
        "describe": f"{V}/sobjects/Account/describe",
        "rowTemplate": f"{V}/sobjects/Account/{{ID}}",
    }
    assert not by_name["AccountChangeEvent"]["queryable"]
    transaction = by_name["c2g__codaTransaction__c"]
    assert transaction["custom"] and not transaction["createable"] and not transaction["deletable"]


def test_financialforce_profile_has_no_psa_objects() -> None:
    with SalesforceEmulator("financialforce", records=3) as sf:
        names = {spec.name for spec in sf.store.specs()}
    assert "c2g__codaInvoice__c" in names and not any(name.startswith("pse__") for name in names)


def test_basic_info(client: httpx.Client) -> None:
    body = client.get(f"{V}/sobjects/contact").json()
    assert body["objectDescribe"]["name"] == "Contact"
    assert body["recentItems"] == []


def test_describe_fields_carry_every_key(client: httpx.Client) -> None:
    body = client.get(f"{V}/sobjects/Account/describe").json()
    assert body["name"] == "Account" and body["keyPrefix"] == "001"
    fields = {field["name"]: field for field in body["fields"]}
    for field in fields.values():
        assert set(field) >= FIELD_KEYS, field["name"]
    assert fields["Name"]["nillable"] is False and fields["Name"]["createable"] is True
    assert fields["Industry"]["type"] == "picklist"
    assert {"active": True, "defaultValue": False, "label": "Banking", "validFor": None, "value": "Banking"} in fields[
        "Industry"
    ]["picklistValues"]
    revenue = fields["AnnualRevenue"]
    assert (revenue["type"], revenue["precision"], revenue["scale"], revenue["soapType"]) == (
        "currency",
        18,
        0,
        "xsd:double",
    )
    assert fields["OwnerId"]["referenceTo"] == ["User"] and fields["OwnerId"]["relationshipName"] == "Owner"
    assert fields["Account_Tier__c"]["calculated"] and not fields["Account_Tier__c"]["updateable"]
    assert fields["Id"]["type"] == "id" and fields["Id"]["soapType"] == "tns:ID"
    children = {(c["childSObject"], c["field"]): c for c in body["childRelationships"]}
    assert children[("Contact", "AccountId")]["relationshipName"] == "Contacts"
    assert children[("c2g__codaInvoice__c", "c2g__Account__c")]["relationshipName"] == "c2g__Invoices__r"


def test_describe_types_cover_the_platforms(client: httpx.Client) -> None:
    contact = {f["name"]: f for f in client.get(f"{V}/sobjects/Contact/describe").json()["fields"]}
    assert contact["Preferred_Call_Time__c"]["type"] == "time"
    assert contact["Interests__c"]["type"] == "multipicklist"
    assert contact["Email"]["type"] == "email" and contact["Birthdate"]["type"] == "date"
    line = {f["name"]: f for f in client.get(f"{V}/sobjects/c2g__codaInvoiceLineItem__c/describe").json()["fields"]}
    assert line["c2g__Invoice__c"]["cascadeDelete"] and line["c2g__Invoice__c"]["relationshipOrder"] == 0
    invoice = {f["name"]: f for f in client.get(f"{V}/sobjects/c2g__codaInvoice__c/describe").json()["fields"]}
    assert invoice["Name"]["autoNumber"] and not invoice["Name"]["createable"]


@pytest.mark.parametrize("path", ["/sobjects/Nope/describe", "/sobjects/Nope", "/nothing/here"])
def test_unknown_resources_are_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(V + path)
    assert response.status_code == 404
    assert response.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_wrong_method_is_405(client: httpx.Client) -> None:
    response = client.put(f"{V}/sobjects/Account/001000000000000AAA", json={})
    assert response.status_code == 405
    assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
