"""The widely used open-source Python SDK for Intacct's XML API (`sageintacctsdk`, fylein), unmodified, against
the emulator: its login, `query` with offset paging and `count`, readByQuery, create, update and delete.

The SDK posts with `requests.post` to the production host it hard-codes, so the only change is the transport:
every `requests` session it opens is served by the emulator on 127.0.0.1 (`federation.emulation.loopback`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests.sessions

from connectors.sageintacct.emulator import COMPANY, PASSWORD, SENDER_ID, SENDER_PASSWORD, USER, IntacctEmulator
from federation.emulation.loopback import loopback_session

sageintacctsdk = pytest.importorskip("sageintacctsdk")


@pytest.fixture(scope="module")
def emulator() -> Iterator[IntacctEmulator]:
    with IntacctEmulator(records=4321) as running:
        yield running


@pytest.fixture()
def sdk(emulator: IntacctEmulator, monkeypatch: pytest.MonkeyPatch) -> object:
    # Transport only: `requests.post` opens a session per call, and each one now reaches the emulator.
    monkeypatch.setattr(requests.sessions, "Session", lambda: loopback_session(emulator.url))
    return sageintacctsdk.SageIntacctSDK(
        sender_id=SENDER_ID,
        sender_password=SENDER_PASSWORD,
        user_id=USER,
        company_id=COMPANY,
        user_password=PASSWORD,
    )


def test_login_count_and_offset_paging(sdk: object, emulator: IntacctEmulator) -> None:
    emulator.reset_counts()
    customers = sdk.customers  # type: ignore[attr-defined]
    assert customers.count() == sum(r["STATUS"] == "active" for r in emulator.company.tables["CUSTOMER"].values())
    rows = customers.get_all(fields=["RECORDNO", "CUSTOMERID", "NAME"])
    assert len(rows) == 4321 and len({r["RECORDNO"] for r in rows}) == 4321
    assert {"RECORDNO": "7", "CUSTOMERID": "12345", "NAME": "Textiles 7"} in rows
    # Its count, then three pages of 2000 by offset.
    assert emulator.calls_by_kind["query"] == 2 + 3


def test_filtered_query_and_read_by_query(sdk: object) -> None:
    customers = sdk.customers  # type: ignore[attr-defined]
    found = customers.get_by_query(fields=["CUSTOMERID", "NAME"], and_filter=[("equalto", "CUSTOMERID", "12345")])
    assert found == [{"CUSTOMERID": "12345", "NAME": "Textiles 7"}]
    legacy = customers.get(field="CUSTOMERID", value="12345")
    assert legacy["customer"]["DISPLAYCONTACT"]["PRINTAS"] == "Textiles 7"


def test_create_update_delete(sdk: object, emulator: IntacctEmulator) -> None:
    customers = sdk.customers  # type: ignore[attr-defined]
    created = customers.post({"CUSTOMERID": "SDK-1", "NAME": "From the SDK", "DISPLAYCONTACT": {"PRINTAS": "SDK"}})
    key = created["data"]["customer"]["RECORDNO"]
    assert emulator.company.tables["CUSTOMER"][int(key)]["NAME"] == "From the SDK"
    customers.update({"RECORDNO": key, "NAME": "Renamed by the SDK"})
    assert emulator.company.tables["CUSTOMER"][int(key)]["NAME"] == "Renamed by the SDK"
    assert customers.delete(key)["status"] == "success"
    assert int(key) not in emulator.company.tables["CUSTOMER"]
    with pytest.raises(sageintacctsdk.exceptions.WrongParamsError) as refused:
        customers.post({"CUSTOMERID": "12345", "NAME": "Duplicate", "DISPLAYCONTACT": {"PRINTAS": "Duplicate"}})
    assert refused.value.response["error"][0]["errorno"] == "BL34000061"
