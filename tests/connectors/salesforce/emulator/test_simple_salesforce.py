"""simple-salesforce, unmodified, against the emulator: login, query, describe and CRUD.

It builds ``https://login.salesforce.com`` and ``https://{instance}`` URLs itself; its documented ``session=``
argument takes the requests session of `federation.emulation.loopback`, whose transport maps those hosts onto the
emulator's loopback port.
"""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceMalformedRequest

from connectors.salesforce.emulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SECURITY_TOKEN,
    USERNAME,
    SalesforceEmulator,
)
from federation.emulation.loopback import LoopbackAdapter, loopback_session

from .conftest import RECORDS


@pytest.fixture(scope="module")
def sf(emulator: SalesforceEmulator) -> Salesforce:
    return Salesforce(
        username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN, session=loopback_session(emulator.url)
    )


def test_soap_login_gives_the_instance_on_the_login_host(emulator: SalesforceEmulator) -> None:
    session_id, instance = SalesforceLogin(
        username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN, session=loopback_session(emulator.url)
    )
    assert session_id.startswith("00D") and instance == "login.salesforce.com"
    with pytest.raises(SalesforceAuthenticationFailed, match="INVALID_LOGIN"):
        SalesforceLogin(username=USERNAME, password="no", security_token="no", session=loopback_session(emulator.url))


def test_oauth_password_login(emulator: SalesforceEmulator) -> None:
    sf = Salesforce(
        username=USERNAME,
        password=PASSWORD + SECURITY_TOKEN,
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        session=loopback_session(emulator.url),
        domain="test",
    )
    assert sf.sf_instance == "test.salesforce.com"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] >= RECORDS


def test_query_and_query_all(sf: Salesforce) -> None:
    page = sf.query("SELECT Id, Name, Account.Name FROM Contact")
    assert page["totalSize"] >= RECORDS and page["done"]
    everything = sf.query_all("SELECT Id FROM Opportunity")
    assert len(everything["records"]) == everything["totalSize"] >= RECORDS
    assert sf.api_usage["api-usage"].total == 15000


def test_query_all_pages_through_next_records_url(sf: Salesforce) -> None:
    records = list(sf.query_all_iter("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"}))
    assert len(records) == len({record["Id"] for record in records}) >= RECORDS


def test_describe(sf: Salesforce) -> None:
    names = {entry["name"] for entry in sf.describe()["sobjects"]}
    assert {"Account", "pse__Proj__c"} <= names
    fields = {field["name"] for field in sf.Account.describe()["fields"]}
    assert {"Name", "Industry", "AnnualRevenue", "OwnerId"} <= fields


def test_create_update_delete(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Simple & Salesforce", "Industry": "Media"})
    assert created["success"]
    record_id = created["id"]
    assert sf.Account.update(record_id, {"Rating": "Hot"}) == 204
    assert sf.Account.get(record_id)["Rating"] == "Hot"
    assert sf.Account.delete(record_id) == 204
    assert sf.query_all(f"SELECT Id FROM Account WHERE Id = '{record_id}'", include_deleted=True)["totalSize"] == 1
    with pytest.raises(SalesforceMalformedRequest, match="REQUIRED_FIELD_MISSING"):
        sf.Account.create({"Industry": "Media"})


def test_an_expired_session_is_renewed_by_the_client(emulator: SalesforceEmulator, sf: Salesforce) -> None:
    emulator.expire_sessions()
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 25


def test_the_loopback_transport_sends_nowhere_else() -> None:
    with pytest.raises(ValueError, match=r"only sends to 127\.0\.0\.1"):
        LoopbackAdapter("http://example.com:80")
