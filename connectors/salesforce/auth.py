"""Authentication to the Salesforce platform: SOAP login with user, password and security token, or OAuth.

Both give a session id (used as a Bearer token) and the instance URL that REST calls go to. The session is
obtained lazily on the first API call and renewed when the API answers INVALID_SESSION_ID.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

import httpx

from federation.errors import AuthenticationError, DatabaseError, Error, TransientError
from federation.http import HttpClient
from federation.oauth import OAuthEndpoints, OAuthFlow

_SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:urn="urn:partner.soap.sforce.com">'
    "<soapenv:Body><urn:login><urn:username>{username}</urn:username>"
    "<urn:password>{password}</urn:password></urn:login></soapenv:Body></soapenv:Envelope>"
)


@dataclass(frozen=True)
class Session:
    token: str
    instance_url: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ElementTree.Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name:
            return element.text
    return None


def classify_login(response: httpx.Response) -> Error:
    """A SOAP login failure: a fault is the API refusing the credentials, anything else is the transport's."""
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


class SoapLogin:
    """A session from the partner SOAP API's login call, as the platform's own clients do."""

    def __init__(self, http: HttpClient, login_url: str, api_version: str, username: str, password: str) -> None:
        self._http = http
        self._url = f"{login_url}/services/Soap/u/{api_version}"
        self._username = username
        self._password = password

    def login(self) -> Session:
        body = _SOAP_ENVELOPE.format(username=escape(self._username), password=escape(self._password))
        response = self._http.request(
            "POST",
            self._url,
            operation="login",
            authenticated=False,
            idempotent=True,  # a login creates nothing: re-sending it is safe
            classify=classify_login,
            content=body.encode(),
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        )
        root = ElementTree.fromstring(response.content)
        token, server_url = _find(root, "sessionId"), _find(root, "serverUrl")
        if not token or not server_url:
            raise AuthenticationError("the login response had no session", operation="login")
        parts = httpx.URL(server_url)
        # The platform's clients drop "-api" from the host the SOAP endpoint names.
        host = parts.host.replace("-api", "")
        port = f":{parts.port}" if parts.port else ""
        return Session(token, f"{parts.scheme}://{host}{port}")


class OAuthLogin:
    """A session from an OAuth access token, refreshed or re-authorized per `InitiateOAuth`."""

    def __init__(self, flow: OAuthFlow, fallback_instance: str) -> None:
        self._flow = flow
        self._fallback = fallback_instance

    def _session(self, token: Mapping[str, object]) -> Session:
        instance = str(token.get("instance_url") or self._fallback).rstrip("/")
        return Session(str(token["access_token"]), instance)

    def login(self) -> Session:
        return self._session(self._flow.current())

    def relogin(self) -> Session:
        return self._session(self._flow.renew())


def oauth_endpoints(login_url: str) -> OAuthEndpoints:
    return OAuthEndpoints(f"{login_url}/services/oauth2/authorize", f"{login_url}/services/oauth2/token")


class SalesforceAuth:
    """The `Authenticator` for the HTTP client: a lazily obtained session, renewed once per refusal."""

    def __init__(self, method: SoapLogin | OAuthLogin) -> None:
        self._method = method
        self._session: Session | None = None
        self._lock = threading.Lock()

    def session(self) -> Session:
        with self._lock:
            if self._session is None:
                self._session = self._method.login()
            return self._session

    def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.session().token}"}

    def renew(self) -> None:
        with self._lock:
            method = self._method
            self._session = method.relogin() if isinstance(method, OAuthLogin) else method.login()
