"""The connector against its emulator: settings as users write them, the current division read once, the URL
cap, the quotas (headers fed into the limiter, the daily quota failing fast), token renewal, and errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import federation
from connectors.exactonline.connector import ExactOnlineSettings
from federation.connection import Connection
from federation.emulation.quotas import Quota
from federation.errors import ConfigurationError, QuotaExhausted, WriteError
from federation.sandbox import Sandbox


@pytest.fixture()
def api(sandbox: Sandbox) -> Iterator[object]:
    server = sandbox.server("exactonline")
    server.reset_counts()
    yield server
    server.set_quotas([])


def connect(sandbox: Sandbox, **extra: str) -> Connection:
    return federation.connect({"exact": {**sandbox.properties("exactonline"), **extra, "scheme": "exactonline"}})


@pytest.mark.parametrize(
    ("region", "host"),
    [("'United States'", "https://start.exactonline.com"), ("united kingdom", "https://start.exactonline.co.uk")],
)
def test_region_picks_the_host_quoted_or_not(region: str, host: str) -> None:
    config = ExactOnlineSettings.parse(
        {"Region": region, "Division": "'5512'", "OAuthAccessToken": "given"}, source="exactonline"
    )
    assert config.host == host and config.division_code == 5512
    with pytest.raises(ConfigurationError, match="Region must be one of"):
        ExactOnlineSettings.parse({"Region": "Mars", "OAuthAccessToken": "given"}, source="exactonline")


def test_the_current_division_is_read_once_and_cached(sandbox: Sandbox, api: object) -> None:
    properties = {k: v for k, v in sandbox.properties("exactonline").items() if k != "Division"}
    for _ in range(2):
        con = federation.connect({"exact": {**properties, "scheme": "exactonline"}})
        assert con.execute('SELECT count(*) FROM exact.Divisions WHERE "Current"').fetchall() == [(1,)]
        con.close()
    assert api.calls_by_kind["me"] == 1  # type: ignore[attr-defined]


def test_a_long_key_list_is_split_under_the_url_cap(sandbox: Sandbox, api: object) -> None:
    con = connect(sandbox)
    keys = [r[0] for r in con.execute("SELECT ID FROM exact.Accounts ORDER BY ID LIMIT 120").fetchall()]
    wanted = keys + [str(uuid.UUID(int=n)) for n in range(1, 81)]
    api.reset_counts()  # type: ignore[attr-defined]
    marks = ", ".join("?" for _ in wanted)
    got = con.execute(f"SELECT ID FROM exact.Accounts WHERE ID IN ({marks})", wanted).fetchall()
    assert sorted(r[0] for r in got) == sorted(keys)
    assert api.calls_by_kind["bulk"] >= 2  # type: ignore[attr-defined]  # one call would pass the cap


def test_the_daily_quota_in_the_headers_stops_calls_before_a_429(sandbox: Sandbox, api: object) -> None:
    con = connect(sandbox, RateLimit="1000/minute aligned")
    con.execute("SELECT ID FROM exact.Accounts LIMIT 1").fetchall()  # logged in before the quota starts
    api.set_quotas([Quota("daily", 3, 86_400.0, aligned=True)])  # type: ignore[attr-defined]
    for _ in range(3):
        con.execute("SELECT ID FROM exact.Accounts LIMIT 1").fetchall()
    with pytest.raises(QuotaExhausted, match="resets at"):
        con.execute("SELECT ID FROM exact.Accounts LIMIT 1").fetchall()
    assert api.rejected == 0  # type: ignore[attr-defined]


def test_a_scan_the_days_quota_cant_cover_fails_after_one_page(sandbox: Sandbox, api: object) -> None:
    # A limiter of its own (another RateLimit): the previous test left its account's day used up.
    con = connect(sandbox, UseBulkEndpoints="false", RateLimit="999/minute aligned")
    con.execute("SELECT ID FROM exact.Accounts LIMIT 1").fetchall()
    api.set_quotas([Quota("daily", 2, 86_400.0, aligned=True)])  # type: ignore[attr-defined]
    api.reset_counts()  # type: ignore[attr-defined]
    with pytest.raises(QuotaExhausted, match="needs 2 more calls and only 1 are left"):
        con.execute("SELECT * FROM exact.Accounts").fetchall()  # 150 accounts: 3 pages of 60
    assert api.calls_by_kind["list"] == 1  # type: ignore[attr-defined]


def test_an_expired_token_is_refreshed_once(sandbox: Sandbox, api: object) -> None:
    con = connect(sandbox)
    con.execute("SELECT ID FROM exact.Accounts LIMIT 1").fetchall()
    api.clock.advance(601)  # type: ignore[attr-defined]
    api.reset_counts()  # type: ignore[attr-defined]
    assert len(con.execute("SELECT ID FROM exact.Accounts LIMIT 1").fetchall()) == 1
    assert dict(api.calls_by_kind) == {"bulk": 2, "token": 1}  # type: ignore[attr-defined]


def test_the_apis_error_message_reaches_the_user_verbatim(sandbox: Sandbox) -> None:
    con = connect(sandbox)
    with pytest.raises(WriteError, match="the API said: Mandatory: Name"):
        con.execute("INSERT INTO exact.Accounts (Name, Email) VALUES ('', 'nobody@example.com')")
