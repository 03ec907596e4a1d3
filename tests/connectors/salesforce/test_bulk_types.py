"""Bulk API 2.0 results decode into exactly the Arrow values of the REST path (issue 12, item 4): a differential test
over every column of objects holding every field type, NULLs, and text with quotes, commas, line breaks, `#N/A`
and unicode, written through the REST API first. The emulator's CSV is checked against Python's csv module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

import federation
from connectors.salesforce.bulk import BulkJobs, BulkPolicy
from connectors.salesforce.bulk_csv import BLOCK_BYTES, CsvDecoder
from connectors.salesforce.connector import FinancialForceConnector
from connectors.salesforce.emulator.bulk_csv import parse_csv, render_csv
from connectors.salesforce.table import SObjectTable
from federation.errors import DataError
from federation.sandbox import Sandbox
from federation.table import ScanRequest

NASTY = [
    'He said "hi", then left',
    "two\nlines",
    "crlf\r\nline",
    '"',
    '""',
    ",",
    "#N/A",
    " padded ",
    "Zürich 株式会社 🚀",
    "tab\there",
    'trailing quote"',
    "null",
]


def decoded(decoder: CsvDecoder, body: bytes) -> pa.RecordBatch:
    """A chunk's batches as one."""
    return pa.Table.from_batches(list(decoder.batches(body)), schema=decoder.schema).combine_chunks().to_batches()[0]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=150, sources=["financialforce"]) as running:
        props = {**running.properties("financialforce"), "scheme": "financialforce"}
        with federation.connect({"fin": props}) as con:
            for n, text in enumerate(NASTY):
                con.execute(
                    "INSERT INTO fin.Account (Name, Description, NumberOfEmployees, AnnualRevenue) VALUES (?, ?, ?, ?)",
                    [text, f"{text}\n{n}", None, None],
                )
                con.execute("INSERT INTO fin.Contact (LastName, Description) VALUES (?, ?)", [text, text])
        yield running


@pytest.fixture(scope="module")
def connector(sandbox: Sandbox) -> Iterator[FinancialForceConnector]:
    opened = FinancialForceConnector({**sandbox.properties("financialforce"), "UseBulkAPI": "false"})
    yield opened
    opened.close()


def by_job(connector: FinancialForceConnector, name: str) -> SObjectTable:
    """The object's table told it holds a million records, so every scan of it goes through a query job."""
    rest = connector.table(name)
    assert isinstance(rest, SObjectTable)
    return SObjectTable(rest.client, rest.describe, rest.page_size, bulk=BulkPolicy(), known_rows=lambda: 10**6)


@pytest.mark.parametrize("name", ["Account", "Contact", "Opportunity"])
def test_a_bulk_scan_returns_exactly_the_rest_scans_values(
    sandbox: Sandbox, connector: FinancialForceConnector, name: str
) -> None:
    rest = connector.table(name)
    columns = tuple(c.name for c in rest.info.columns)
    api = sandbox.server("financialforce")
    api.reset_counts()
    bulk = by_job(connector, name).scan(ScanRequest(columns)).read_all()
    assert api.calls_by_kind.get("bulk_query_create") == 1 and not api.calls_by_kind.get("query")
    expected = rest.scan(ScanRequest(columns)).read_all()
    kinds = {str(c.native_type) for c in rest.info.columns}
    assert bulk.num_rows == expected.num_rows > 100 and bulk.schema == expected.schema
    assert bulk.sort_by("Id").equals(expected.sort_by("Id")), kinds
    nulls = [c for c in columns if 0 < expected.column(c).null_count < expected.num_rows]
    assert nulls  # the comparison covers NULLs beside values


def test_hostile_text_survives_the_csv_round_trip(connector: FinancialForceConnector) -> None:
    table = by_job(connector, "Account")
    names = table.scan(ScanRequest(("Name", "Description"))).read_all().to_pylist()
    found = {row["Name"]: row["Description"] for row in names}
    for n, text in enumerate(NASTY):
        assert found[text] == f"{text}\n{n}"


def test_the_emulator_writes_and_reads_csv_as_the_format_says() -> None:
    rows: list[list[str | None]] = [[text, None, "x"] for text in NASTY]
    body = render_csv(["A", "B", "C"], rows, ",", "\n")
    assert body.startswith(b'"A","B","C"\n') and b'"He said ""hi"", then left"' in body
    header, parsed = parse_csv(body, ",")
    assert header == ["A", "B", "C"] and parsed == [[text, "", "x"] for text in NASTY]


def test_the_decoder_reads_empty_fields_as_null_and_types_each_column(connector: FinancialForceConnector) -> None:
    info = connector.table("Opportunity").info
    columns = [info.column(n) for n in ("Name", "Amount", "Probability", "CloseDate", "IsWon", "CreatedDate")]
    body = (
        b'"Name","Amount","Probability","CloseDate","IsWon","CreatedDate"\n'
        b'"a,b","12.50","0.5","2024-02-29","true","2024-01-02T03:04:05.678Z"\n'
        b'"","","","","false",""\n'
    )
    batch = decoded(CsvDecoder(columns), body)
    values: list[dict[str, Any]] = batch.to_pylist()
    assert values[0]["Name"] == "a,b" and str(values[0]["Amount"]) == "12.50" and values[0]["IsWon"] is True
    assert values[1] == {"Name": None, "Amount": None, "Probability": None, "CloseDate": None, "IsWon": False,
                         "CreatedDate": None}  # fmt: skip
    assert batch.schema == pa.schema([pa.field(c.name, c.type) for c in columns])


def test_a_chunk_without_its_header_row_fails_instead_of_losing_a_record(connector: FinancialForceConnector) -> None:
    info = connector.table("Account").info
    decoder = CsvDecoder([info.column("Id"), info.column("Name")])
    assert decoded(decoder, b'"Id","Name"\n"001000000000001AAA","a"\n').num_rows == 1
    with pytest.raises(DataError, match="header row"):
        decoded(decoder, b'"001000000000001AAA","a"\n"001000000000002AAA","b"\n')


def test_a_chunk_larger_than_a_block_is_read_in_batches_that_split_no_value(connector: FinancialForceConnector) -> None:
    info = connector.table("Account").info
    decoder = CsvDecoder([info.column("Id"), info.column("Name")])
    rows: list[list[str | None]] = [[f"001{n:015d}", NASTY[n % len(NASTY)] * (n % 7 + 1)] for n in range(40_000)]
    body = render_csv(["Id", "Name"], rows, ",", "\n")
    assert len(body) > 2 * BLOCK_BYTES
    batches = list(decoder.batches(body))
    assert len(batches) > 2 and all(b.schema == decoder.schema for b in batches)
    _, expected = parse_csv(body, ",")
    assert [[r["Id"], r["Name"]] for b in batches for r in b.to_pylist()] == [[i, n or None] for i, n in expected]
    assert list(decoder.batches(b"")) == [] and list(decoder.batches(b"\n")) == []


def test_a_results_chunk_is_freed_with_the_chunk_not_by_the_cyclic_collector(
    connector: FinancialForceConnector,
) -> None:
    # A large export keeps memory flat only if each chunk's body goes as soon as it has been read.
    jobs = BulkJobs(connector.client)
    _, job_id = jobs.query("SELECT Id, Name FROM Account")
    chunk = jobs.chunk(job_id)
    body = chunk.take()
    assert len(body) > 0 and sys.getrefcount(body) == 2  # `body` and getrefcount's argument: nothing else holds it
