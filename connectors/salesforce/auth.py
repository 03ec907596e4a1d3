"""Authentication to the Salesforce platform: SOAP login with user, password and security token, or OAuth.

Both give a session id (sent as a Bearer token) and the instance URL that REST calls go to; `SessionAuth`
obtains it lazily on the first API call and renews it when the API answers INVALID_SESSION_ID. A SOAP session is
kept in `OAuthSettingsLocation` when that is given (as the vendors' connectors do), so a new process reuses it
until it expires instead of logging in again.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

import httpx

from federation.auth import Session
from federation.errors import AuthenticationError, DatabaseError, Error, TransientError
from federation.http import HttpClient, Operation
from federation.oauth import OAuthEndpoints
from federation.tokens import StoredLogin, TokenStore, token_key

_SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:urn="urn:partner.soap.sforce.com">'
    "<soapenv:Body><urn:login><urn:username>{username}</urn:username>"
    "<urn:password>{password}</urn:password></urn:login></soapenv:Body></soapenv:Envelope>"
)
#: A login creates nothing, so re-sending one whose response was lost is safe.
LOGIN = Operation("login", idempotent=True, authenticated=False)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ElementTree.Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name:
            return element.text
    return None


def check_login(response: httpx.Response) -> Error | None:
    """A SOAP login failure: a fault is the API refusing the credentials, anything else is the transport's."""
    if response.is_success:
        return None
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        root = None
    if root is not None and (fault := _find(root, "faultstring")) is not None:
        code = _find(root, "exceptionCode") or _find(root, "faultcode")
        return AuthenticationError(fault, api_code=code)
    if response.status_code >= 500 or response.status_code == 429:
        return TransientError(f"login failed with HTTP {response.status_code}")
    return DatabaseError(f"login failed with HTTP {response.status_code}")


def instance_of(server_url: str) -> str:
    """The REST instance for the SOAP endpoint a login names: the platform's clients drop "-api" from its host."""
    parts = httpx.URL(server_url)
    host = parts.host.replace("-api", "")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


class SoapLogin(StoredLogin):
    """Sessions from the partner SOAP API's login call, as the platform's own clients get them."""

    def __init__(
        self,
        http: HttpClient,
        *,
        scheme: str,
        login_url: str,
        api_version: str,
        username: str,
        password: str,
        store: TokenStore | None,
    ) -> None:
        super().__init__(store, token_key(scheme, login_url, username), skew=60.0)
        self._http = http
        self._url = f"{login_url}/services/Soap/u/{api_version}"
        self._username = username
        self._password = password

    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        body = _SOAP_ENVELOPE.format(username=escape(self._username), password=escape(self._password))
        response = self._http.request(
            "POST",
            self._url,
            operation=LOGIN,
            check=check_login,
            content=body.encode(),
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        )
        root = ElementTree.fromstring(response.content)
        token, server_url = _find(root, "sessionId"), _find(root, "serverUrl")
        if not token or not server_url:
            raise AuthenticationError("the login response had no session", operation="login")
        valid = _find(root, "sessionSecondsValid")
        issued: dict[str, Any] = {"access_token": token, "instance_url": instance_of(server_url)}
        if valid and valid.isdigit():
            issued["expires_in"] = int(valid)
        return issued

    def session(self, token: Mapping[str, Any]) -> Session:
        expires_at = token.get("expires_at")
        return Session(
            str(token["access_token"]), str(token["instance_url"]), float(expires_at) if expires_at else None
        )


def oauth_endpoints(login_url: str) -> OAuthEndpoints:
    return OAuthEndpoints(f"{login_url}/services/oauth2/authorize", f"{login_url}/services/oauth2/token")
