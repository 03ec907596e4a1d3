"""The template API's aggregate endpoint as documented (case-sensitive groups, a null group, exact sums as
strings, at most 1,000 groups) and the connector's use of it: `Table.aggregate` and the requests EXPLAIN shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from connectors.template.emulator.emulator import PASSWORD, USERNAME
from federation.table import Aggregate, AggregateCall, AggregateRequest, ScanRequest, SortKey


@pytest.fixture(scope="module")
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=30) as running:
        for city in ("lyon", "LYON"):
            running.store.create("contacts", {"name": "x", "city": city, "score": "0.10", "active": False})
        yield running


def aggregate(emulator: TemplateEmulator, **params: str) -> httpx.Response:
    issued = httpx.post(
        f"{emulator.url}/oauth/token",
        data={
            "grant_type": "password",
            "username": USERNAME,
            "password": PASSWORD,
            "client_id": emulator.credentials["OAuthClientId"],
            "client_secret": emulator.credentials["OAuthClientSecret"],
        },
    ).json()
    headers = {"Authorization": f"Bearer {issued['access_token']}"}
    return httpx.get(f"{emulator.url}/api/v1/tables/contacts/aggregate?{urlencode(params)}", headers=headers)


def test_the_endpoint_groups_by_code_point_and_sums_exactly(emulator: TemplateEmulator) -> None:
    reply = aggregate(emulator, group="city", measures="count,count:score,sum:score,max:name")
    assert reply.status_code == 200
    body = reply.json()
    groups = {g["city"]: g for g in body["groups"]}
    assert body["more"] is False
    assert groups["lyon"]["count"] == groups["LYON"]["count"] == 1
    assert groups[None]["count"] == 6  # every fifth generated contact has no city
    assert all(isinstance(g["sum:score"], str | None) for g in groups.values())
    where = json.dumps({"field": "company_id", "op": "eq", "value": -1})
    assert aggregate(emulator, measures="count,sum:score", where=where).json()["groups"] == [
        {"count": 0, "sum:score": None}
    ]
    assert aggregate(emulator, measures="sum:rating").status_code == 400  # float sums aren't offered


def test_the_connector_reads_groups_and_names_its_requests(emulator: TemplateEmulator, tmp_path: Path) -> None:
    props = {**emulator.credentials, "URL": emulator.url, "scheme": "template", "MetadataCacheDir": str(tmp_path)}
    with federation.connect({"src": props}) as con:
        table = con.federation.sources["src"].table("contacts")
        request = AggregateRequest(("active",), (AggregateCall(Aggregate.COUNT), AggregateCall(Aggregate.SUM, "score")))
        reader = table.aggregate(request)
        assert reader is not None
        groups = {row["active"]: row for row in reader.read_all().to_pylist()}
        total = con.execute("SELECT sum(score) FROM src.contacts WHERE NOT active").fetchall()[0][0]
        assert groups[False]["sum(score)"] == total and isinstance(total, Decimal)
        scan = ScanRequest(("id",), None, limit=5, order_by=(SortKey("score", descending=True),))
        assert table.describe_request(scan) == (
            "GET /api/v1/tables/contacts/records?fields=id&order=-score&limit=5&offset=0"
        )
        assert table.describe_request(request) == (
            "GET /api/v1/tables/contacts/aggregate?group=active&measures=count,sum:score"
        )
