"""The Salesforce connector's settings, and secrets kept out of every repr, log line and error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import federation
from connectors.salesforce.connector import PRODUCTION_LOGIN, SANDBOX_LOGIN, FinancialForceConnector
from federation.errors import ConfigurationError
from federation.sandbox import Sandbox


def test_the_login_host_follows_usesandbox_unless_url_is_given() -> None:
    creds = {"User": "u", "Password": "p"}
    assert FinancialForceConnector(creds).config.login_url == PRODUCTION_LOGIN
    assert FinancialForceConnector({**creds, "UseSandbox": "true"}).config.login_url == SANDBOX_LOGIN
    given = FinancialForceConnector({**creds, "UseSandbox": "true", "URL": "https://acme.my.salesforce.com/"})
    assert given.config.login_url == "https://acme.my.salesforce.com"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"User": "u", "Password": "p", "PageSize": "100"}, "PageSize must be between 200 and 2000"),
        ({"User": "u", "Password": "p", "APIVersion": "latest"}, "APIVersion must look like 59.0"),
        ({"User": "u"}, "Password is required"),
        ({}, "User and Password are required"),
        ({"InitiateOAuth": "REFRESH"}, "OAuthClientId is required with InitiateOAuth=REFRESH"),
    ],
)
def test_bad_settings_are_named(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FinancialForceConnector(props)


def test_api_version_is_normalised() -> None:
    assert FinancialForceConnector({"User": "u", "Password": "p", "APIVersion": "v60"}).sf.version == "60.0"


def test_secrets_stay_out_of_reprs_logs_and_errors(
    sf_sandbox: Sandbox, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = ("myPassword", "myToken")
    engine = create_engine(sf_sandbox.url("financialforce"))
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM Account WHERE Industry = 'Banking'")).scalar()
    with federation.connect({"fin": sf_sandbox.url("financialforce")}) as con:
        con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()
        connector = con.federation.sources["fin"]
        session = connector.http.auth.session()
        shown = [repr(engine.url), str(engine.url), repr(connector), repr(connector.config), repr(connector.settings)]
    wrong = {**sf_sandbox.properties("financialforce"), "Password": "myPasswordX", "scheme": "financialforce"}
    with federation.connect({"fin": wrong}) as con, pytest.raises(federation.errors.Error) as caught:
        con.execute("SELECT Id FROM fin.Account LIMIT 1")
    shown.append(str(caught.value))
    shown.extend(record.getMessage() for record in caplog.records)
    for text_shown in shown:
        for secret in (*secrets, session.token):
            assert secret not in text_shown, f"a secret leaked into: {text_shown[:200]}"
