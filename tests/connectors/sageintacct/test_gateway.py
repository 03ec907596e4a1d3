"""The connector and the emulated gateway end to end, through DuckDB: call accounting, sessions, the three error
levels, per-row write results, time zones; and the gateway's own protocol where no connector call reaches it
(transactions, readByQuery/readMore, aggregates)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator

import httpx
import pytest

from connectors.sageintacct.client import errors_of
from connectors.sageintacct.emulator import IntacctEmulator
from federation.connection import Connection, connect
from federation.errors import AuthenticationError, IntegrityError, UnknownTableError, WriteError
from federation.sandbox import Sandbox

RECORDS = 4500
LOGIN = (
    "<control><senderid>Test</senderid><password>abcde123</password><controlid>t</controlid>"
    "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
)
AUTH = (
    "<authentication><login><userid>myusername</userid><companyid>TestCompany</companyid>"
    "<password>mypassword</password></login></authentication>"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=["sageintacct"]) as running:
        yield running


@pytest.fixture()
def api(sandbox: Sandbox) -> IntacctEmulator:
    server = sandbox.server("sageintacct")
    assert isinstance(server, IntacctEmulator)
    server.reset_counts()
    return server


def open_(sandbox: Sandbox, **extra: str) -> Connection:
    return connect({"sage": {**sandbox.properties("sageintacct"), **extra, "scheme": "sageintacct"}})


def post(api: IntacctEmulator, functions: str, transaction: str = "false") -> ElementTree.Element:
    operation = f'<operation transaction="{transaction}">{AUTH}<content>{functions}</content></operation>'
    body = f"<request>{LOGIN}{operation}</request>"
    return ElementTree.fromstring(httpx.post(f"{api.url}/ia/xml/xmlgw.phtml", content=body).content)


def test_a_scan_costs_one_call_per_2000_records_plus_the_login(sandbox: Sandbox, api: IntacctEmulator) -> None:
    open_(sandbox).execute("SELECT 1 FROM sage.Customer LIMIT 1").fetchall()  # metadata into the cache
    api.reset_counts()
    with open_(sandbox) as con:
        assert con.execute("SELECT count(*), count(DISTINCT Recordno) FROM sage.Customer").fetchone() == (RECORDS,) * 2
        assert dict(api.calls_by_kind) == {"getAPISession": 1, "query": math.ceil(RECORDS / 2000)}
        api.reset_counts()
        assert len(con.execute("SELECT * FROM sage.Customer LIMIT 10").fetchall()) == 10
        assert dict(api.calls_by_kind) == {"query": 1}


def test_an_expired_session_costs_one_login_and_the_endpoint_it_names(sandbox: Sandbox, api: IntacctEmulator) -> None:
    with open_(sandbox) as con:
        con.execute("SELECT Name FROM sage.Customer WHERE Customerid = '12345'").fetchall()
        api.expire_sessions()
        api.reset_counts()
        assert con.execute("SELECT Name FROM sage.Customer WHERE Customerid = '12345'").fetchall() == [("Textiles 7",)]
        assert dict(api.calls_by_kind) == {"query": 2, "getAPISession": 1}


def test_bad_credentials_and_unknown_objects_are_typed_errors(sandbox: Sandbox, api: IntacctEmulator) -> None:
    with pytest.raises(AuthenticationError, match="XL03000006"), open_(sandbox, Password="wrong") as con:
        con.execute("SELECT 1 FROM sage.Customer LIMIT 1").fetchall()
    with pytest.raises(AuthenticationError, match="XL03000005"), open_(sandbox, SenderPassword="wrong") as con:
        con.execute("SELECT 1 FROM sage.Customer LIMIT 1").fetchall()
    with pytest.raises(UnknownTableError), open_(sandbox) as con:
        con.federation.sources["sage"].table("NoSuchObject")


def test_the_documented_error_list_is_read_most_specific_first_with_support_ids_decoded() -> None:
    result = ElementTree.fromstring(
        "<result><status>failure</status><errormessage>"
        "<error><errorno>BL01001973</errorno><description>Duplicate account number</description>"
        "<description2>The account number &#039;5000.11&#039; already exists [Support ID: EsppO%7EZEcj0DEGV]"
        "</description2><correction>Enter unique account number</correction></error>"
        "<error><errorno>BL01001973</errorno><description></description>"
        "<description2>Could not create GL Account record.</description2><correction></correction></error>"
        "</errormessage></result>"
    )
    first, second = errors_of(result)
    assert first.errorno == "BL01001973" and "[Support ID: EsppO~ZEcj0DEGV]" in first.message
    assert first.message.endswith("(Enter unique account number)") and second.message.startswith("Could not create")


def test_writes_report_each_refused_row_with_the_apis_errorno(sandbox: Sandbox, api: IntacctEmulator) -> None:
    with open_(sandbox) as con:
        with pytest.raises(WriteError) as caught:
            con.execute(
                "INSERT INTO sage.Customer (Customerid, Name) VALUES ('W-1', 'one'), ('12345', 'dup'), ('W-2', 'two')"
            )
        error = caught.value
        assert error.written == 2 and len(error.keys) == 2
        assert [(f.position, f.code) for f in error.failures] == [(1, "BL34000061")]
        assert api.calls_by_kind["create"] == 1  # three rows, one request
        api.reset_counts()
        with pytest.raises(IntegrityError, match="Name"):
            con.execute("INSERT INTO sage.Customer (Customerid) VALUES ('W-3')")
        assert not api.calls_by_kind["create"]


def test_timestamps_are_read_and_filtered_in_the_companys_time_zone(sandbox: Sandbox) -> None:
    sql = "SELECT CAST(Whencreated AS VARCHAR) FROM sage.Customer WHERE Recordno = 7"
    with open_(sandbox) as utc, open_(sandbox, TimeZone="America/New_York") as eastern:
        assert utc.execute(sql).fetchall() == [("2024-01-01 12:19:07+00",)]
        assert eastern.execute(sql).fetchall() == [("2024-01-01 17:19:07+00",)]
        where = "SELECT Recordno FROM sage.Customer WHERE Whencreated = TIMESTAMPTZ '2024-01-01 17:19:07+00'"
        assert eastern.execute(where).fetchall() == [(7,)]


def test_a_failed_function_in_a_transaction_rolls_back_the_others(api: IntacctEmulator) -> None:
    before = len(api.company.tables["CUSTOMER"])
    good = (
        "<create><CUSTOMER><CUSTOMERID>TX-1</CUSTOMERID><NAME>tx</NAME><DISPLAYCONTACT><PRINTAS>tx</PRINTAS>"
        "</DISPLAYCONTACT></CUSTOMER></create>"
    )
    bad = "<create><CUSTOMER><CUSTOMERID>TX-2</CUSTOMERID></CUSTOMER></create>"
    root = post(api, f'<function controlid="a">{good}</function><function controlid="b">{bad}</function>', "true")
    assert [r.findtext("status") for r in root.iter("result")] == ["aborted", "failure"]
    assert root.findtext(".//result/errormessage/error/errorno") == "XL03000009"
    assert len(api.company.tables["CUSTOMER"]) == before


def test_read_by_query_pages_with_read_more_until_the_result_expires(api: IntacctEmulator) -> None:
    query = (
        "<readByQuery><object>CUSTOMER</object><fields>RECORDNO,NAME</fields>"
        "<query>RECORDNO &lt;= 250 AND NAME like 'Textiles%'</query><pagesize>5</pagesize></readByQuery>"
    )
    data = post(api, f'<function controlid="q">{query}</function>').find(".//data")
    assert data is not None and data.get("listtype") == "customer"
    total, result_id = int(data.get("totalcount") or 0), data.get("resultId")
    assert total > 5 and len(data) == 5
    more = post(api, f'<function controlid="m"><readMore><resultId>{result_id}</resultId></readMore></function>')
    assert int(more.find(".//data").get("numremaining") or 0) == max(total - 10, 0)  # type: ignore[union-attr]
    api.clock.advance(3600)
    expired = post(api, f'<function controlid="m"><readMore><resultId>{result_id}</resultId></readMore></function>')
    assert expired.findtext(".//result/status") == "failure"


def test_query_aggregates_group_by_the_other_fields(api: IntacctEmulator) -> None:
    query = (
        "<query><object>ARINVOICE</object><select><field>STATE</field><count>RECORDNO</count>"
        "<sum>TOTALDUE</sum></select><orderby><order><field>STATE</field><ascending/></order></orderby></query>"
    )
    rows = post(api, f'<function controlid="q">{query}</function>').findall(".//data/ARINVOICE")
    invoices = api.company.tables["ARINVOICE"].values()
    assert [r.findtext("STATE") for r in rows] == sorted({i["STATE"] for i in invoices})
    assert sum(int(r.findtext("COUNT.RECORDNO") or 0) for r in rows) == len(invoices)
    assert sum(float(r.findtext("SUM.TOTALDUE") or 0) for r in rows) == pytest.approx(
        float(sum(i["TOTALDUE"] for i in invoices))
    )
