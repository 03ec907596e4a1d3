"""Connection properties: matching, typing, validation and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.errors import ConfigurationError
from federation.settings import Kind, Property, Secret, parse_properties, redacted

PROPS = (
    Property("User", required=True),
    Property("Password", Kind.SECRET),
    Property("SecurityToken", Kind.SECRET),
    Property("UseSandbox", Kind.BOOLEAN, default=False),
    Property("PageSize", Kind.POSITIVE_INT, default=2000),
    Property("URL", Kind.URL),
    Property("InitiateOAuth", Kind.CHOICE, default="OFF", choices=("OFF", "GETANDREFRESH", "REFRESH")),
    Property("OAuthSettingsLocation", Kind.PATH),
)


def test_names_match_case_insensitively_and_ignore_spaces() -> None:
    values = parse_properties(
        PROPS, {"user": "u", "PASSWORD": "p", "Security Token": "t", "use sandbox": "TRUE"}, source="x"
    )
    assert values["User"] == "u"
    assert isinstance(values["Password"], Secret) and values["Password"].reveal() == "p"
    assert values["SecurityToken"] == Secret("t")
    assert values["UseSandbox"] is True
    assert values["PageSize"] == 2000
    assert values["InitiateOAuth"] == "OFF"


def test_values_are_typed() -> None:
    values = parse_properties(
        PROPS,
        {
            "User": "u",
            "PageSize": "500",
            "URL": "http://127.0.0.1:8080/",
            "initiateoauth": "getandrefresh",
            "OAuthSettingsLocation": "~/tokens.json",
        },
        source="x",
    )
    assert values["PageSize"] == 500
    assert values["URL"] == "http://127.0.0.1:8080"
    assert values["InitiateOAuth"] == "GETANDREFRESH"
    assert values["OAuthSettingsLocation"] == Path.home() / "tokens.json"


def test_unknown_property_suggests_the_closest() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown connection property 'Pasword'.*did you mean Password\?"):
        parse_properties(PROPS, {"User": "u", "Pasword": "p"}, source="financialforce")


def test_missing_required_property_is_named() -> None:
    with pytest.raises(ConfigurationError, match="connection property User is required"):
        parse_properties(PROPS, {}, source="x")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PageSize", "lots", "property PageSize has an invalid value 'lots'"),
        ("PageSize", "-3", "property PageSize has an invalid value '-3'"),
        ("UseSandbox", "maybe", "property UseSandbox has an invalid value 'maybe': expected true or false"),
        ("URL", "ftp://x", "property URL has an invalid value 'ftp://x'"),
        ("InitiateOAuth", "ALWAYS", "property InitiateOAuth must be one of OFF, GETANDREFRESH, REFRESH"),
    ],
)
def test_malformed_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_properties(PROPS, {"User": "u", name: value}, source="x")
    assert message in str(caught.value)


def test_the_same_property_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="SecurityToken is given twice"):
        parse_properties(PROPS, {"User": "u", "SecurityToken": "a", "security token": "b"}, source="x")


def test_secrets_never_show() -> None:
    values = parse_properties(PROPS, {"User": "u", "Password": "hunter2"}, source="x")
    assert "hunter2" not in repr(values) and "hunter2" not in str(values["Password"])
    assert redacted(PROPS, {"User": "u", "Password": "hunter2", "security token": "t"}) == {
        "User": "u",
        "Password": "***",
        "security token": "***",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com", "plain http:// sends credentials in clear"),
        ("http://10.0.0.5:8080", "plain http:// sends credentials in clear"),
        ("http://127.0.0.1:1 Token=x", "a URL has no spaces"),
        ("http://127.0.0.1:port", "the port is not a number"),
        ("ftp://example.com", "expected an http:// or https:// URL"),
    ],
)
def test_urls_that_would_leak_or_break_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_properties(PROPS, {"User": "u", "URL": url}, source="x")


@pytest.mark.parametrize(
    "url", ["https://login.salesforce.com", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"]
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    assert parse_properties(PROPS, {"User": "u", "URL": url}, source="x")["URL"] == url


def test_misspelt_secrets_are_masked_too() -> None:
    shown = redacted(PROPS, {"User": "u", "Pasword": "hunter2", "SecurityTokn": "tok", "PageSize": "500"})
    assert shown == {"User": "u", "Pasword": "***", "SecurityTokn": "***", "PageSize": "500"}


def test_settings_declared_as_a_dataclass() -> None:
    from dataclasses import dataclass

    from federation.connector import CommonSettings
    from federation.settings import Kind, setting

    @dataclass(frozen=True)
    class Declared(CommonSettings):
        region: str = setting("Region", kind=Kind.CHOICE, default="Netherlands", choices=("Netherlands", "Belgium"))
        token: Secret | None = setting("Token", doc="A token.")
        pages: int = setting("PageSize", default=60, doc="Rows per page.")

    kinds = {p.name: p.kind for p in Declared.properties()}
    assert (
        kinds["Token"] is Kind.SECRET and kinds["PageSize"] is Kind.POSITIVE_INT and kinds["Pushdown"] is Kind.BOOLEAN
    )
    made = Declared.parse({"region": "belgium", "Token": "hunter2", "Page Size": "30"}, source="x")
    assert (made.region, made.token, made.pages, made.pushdown) == ("Belgium", Secret("hunter2"), 30, True)
    assert "hunter2" not in repr(made)
    with pytest.raises(ConfigurationError, match="Region must be one of Netherlands, Belgium"):
        Declared.parse({"Region": "Mars"}, source="x")
