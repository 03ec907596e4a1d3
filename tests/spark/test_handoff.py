"""The driver-to-executor hand-off (`federation.handoff`) and what Spark ships to executors, without a Spark
session: a connector built from an access grant calls the API with the driver's token and never signs in, a
token that expired or was refused fails with an error saying so, and no secret travels with a reader's
partitions."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.template.emulator import CLIENT_SECRET
from federation.errors import AuthenticationError, ConfigurationError, NotSupportedError
from federation.handoff import max_parts, rate_limit_text, share
from federation.ratelimit import RateLimit, Window, parse_rate_limit
from federation.registry import open_source
from federation.sandbox import Sandbox
from federation.table import ScanRequest


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=300, sources=["template", "sageintacct"]) as running:
        yield running


def _scan_rows(connector: object) -> int:
    table = connector.table("contacts")  # type: ignore[attr-defined]
    return table.scan(ScanRequest(("id",))).read_all().num_rows  # type: ignore[no-any-return]


def test_a_connector_from_a_grant_calls_with_the_drivers_token_and_never_signs_in(sandbox: Sandbox) -> None:
    driver = open_source(sandbox.url("template"))
    grant = driver.export_access(workers=2)
    server = sandbox.server("template")
    server.reset_counts()
    worker = type(driver).from_access(grant)
    try:
        assert _scan_rows(worker) == 300
    finally:
        worker.close()
        driver.close()
    assert server.calls_by_kind.get("token", 0) == 0
    # Each of two workers gets half of the template API's 10 calls a second.
    assert grant.rate_limit == "5/1s"
    assert "OAuthClientSecret" not in grant.properties and "InitiateOAuth" not in grant.properties


def test_an_expired_handed_token_fails_clearly_without_a_token_call(sandbox: Sandbox) -> None:
    driver = open_source(sandbox.url("template"))
    grant = driver.export_access()
    driver.close()
    expired = dataclasses.replace(grant, session=dataclasses.replace(grant.session, expires_at=time.time() - 5))
    server = sandbox.server("template")
    server.reset_counts()
    worker = type(driver).from_access(expired)
    try:
        with pytest.raises(AuthenticationError, match=r"handed over by the driver expired at .* never refreshes"):
            _scan_rows(worker)
    finally:
        worker.close()
    assert server.calls == 0  # not even the refused call: the expiry is known before sending


def test_a_refused_handed_token_fails_clearly_without_a_token_call(sandbox: Sandbox) -> None:
    driver = open_source(sandbox.url("template"))
    grant = driver.export_access()
    driver.close()
    server = sandbox.server("template")
    server.expire_sessions()
    server.reset_counts()
    worker = type(driver).from_access(grant)
    try:
        with pytest.raises(AuthenticationError, match="refused the access token handed over by the driver"):
            _scan_rows(worker)
    finally:
        worker.close()
    assert server.calls_by_kind.get("token", 0) == 0


def test_a_source_whose_sign_in_is_not_oauth_is_refused_by_name(sandbox: Sandbox) -> None:
    driver = open_source(sandbox.url("sageintacct"))
    try:
        with pytest.raises(NotSupportedError, match=r"sageintacct.*can't hand an access token"):
            driver.export_access()
    finally:
        driver.close()


def test_a_grant_opens_only_its_own_source(sandbox: Sandbox) -> None:
    driver = open_source(sandbox.url("template"))
    grant = driver.export_access()
    driver.close()
    with pytest.raises(ConfigurationError, match="grant for 'template'"):
        open_source(sandbox.url("sageintacct")).from_access(grant)


def test_shares_of_a_rate_limit_add_up_to_at_most_the_limit() -> None:
    limit = RateLimit((Window(10, 1.0), Window(60, 60.0, aligned=True, name="minutely")), daily=5000)
    assert max_parts(limit) == 10
    parts = share(limit, 4)
    assert [w.calls * 4 <= o.calls for w, o in zip(parts.windows, limit.windows, strict=True)] == [True, True]
    assert parse_rate_limit(rate_limit_text(parts)) == parts
    assert parts.daily == 1250


def test_the_reader_ships_no_secret_to_executors(sandbox: Sandbox, tmp_path: Path) -> None:
    from pyspark.sql.types import StructType

    from federation.spark.options import read_options
    from federation.spark.reader import DuckfedReader

    connector = open_source(sandbox.url("template"))
    schema = StructType.fromJson(
        {"type": "struct", "fields": [{"name": "id", "type": "long", "nullable": False, "metadata": {}}]}
    )
    connector.close()
    reader = DuckfedReader(
        read_options({"url": sandbox.url("template"), "table": "contacts", "partitions": "3"}), schema
    )
    shipped = pickle.dumps(reader)
    partitions = reader.partitions()
    shipped += b"".join(pickle.dumps(p) for p in partitions)
    tokens = Path(sandbox.properties("template")["OAuthSettingsLocation"]).read_text()
    refresh = tokens.split('"refresh_token":"')[1].split('"')[0]
    assert len(partitions) == 3
    assert CLIENT_SECRET.encode() not in shipped and refresh.encode() not in shipped
    assert b"OAuthSettingsLocation" not in shipped


def test_importing_federation_never_imports_pyspark() -> None:
    code = "import sys, federation, federation.connection, federation.handoff; print('pyspark' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"
