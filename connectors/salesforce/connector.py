"""The Salesforce-platform connector and its two profiles, FinancialForce and Certinia.

Both profiles talk to one org through the same REST API; a profile decides which managed-package namespaces it
lists: `financialforce` the standard objects and the accounting package (`c2g__`), `certinia` those and the PSA
package (`pse__`). Objects without a namespace (standard and the org's own custom objects) appear in both.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from connectors.salesforce.auth import OAuthLogin, SalesforceAuth, SoapLogin, oauth_endpoints
from connectors.salesforce.client import MAX_BATCH_SIZE, SalesforceClient, classify
from connectors.salesforce.table import SObjectTable
from federation.catalog import MetadataCache, namespace
from federation.connector import Connector
from federation.errors import ConfigurationError
from federation.http import HttpClient, RetryPolicy
from federation.oauth import OAuthFlow, TokenStore
from federation.settings import Kind, Property, Secret
from federation.table import Table

PRODUCTION_LOGIN = "https://login.salesforce.com"
SANDBOX_LOGIN = "https://test.salesforce.com"
DEFAULT_CALLBACK = "http://localhost:33333"

PROPERTIES: tuple[Property, ...] = (
    Property("User", doc="The user name to log in with."),
    Property("Password", Kind.SECRET, doc="The user's password."),
    Property("SecurityToken", Kind.SECRET, doc="The user's security token, appended to the password at login."),
    Property("UseSandbox", Kind.BOOLEAN, default=False, doc="Log in through the sandbox login host."),
    Property(
        "InitiateOAuth",
        Kind.CHOICE,
        default="OFF",
        choices=("OFF", "GETANDREFRESH", "REFRESH"),
        doc="How OAuth tokens are obtained: OFF (use OAuthAccessToken), REFRESH, or GETANDREFRESH.",
    ),
    Property("OAuthClientId", doc="The connected app's consumer key."),
    Property("OAuthClientSecret", Kind.SECRET, doc="The connected app's consumer secret."),
    Property("CallbackURL", Kind.URL, default=DEFAULT_CALLBACK, doc="The loopback redirect URL of the OAuth app."),
    Property("OAuthAccessToken", Kind.SECRET, doc="An access token to use as is."),
    Property("OAuthRefreshToken", Kind.SECRET, doc="A refresh token to obtain access tokens with."),
    Property("OAuthSettingsLocation", Kind.PATH, doc="The token file (mode 0600), kept fresh after refreshes."),
    Property("APIVersion", default="59.0", doc="The REST API version."),
    Property("PageSize", Kind.POSITIVE_INT, default=MAX_BATCH_SIZE, doc="Records per query page (200-2000)."),
    Property(
        "AllOrNone",
        Kind.BOOLEAN,
        default=True,
        doc="Write each call of up to 200 records all or nothing, and stop at the first call the API refuses "
        "(false: write every record the API accepts and report the ones it refuses).",
    ),
)


@dataclass(frozen=True)
class SalesforceSettings:
    """The validated settings of one connection."""

    login_url: str
    user: str | None
    password: Secret | None
    security_token: Secret | None
    initiate_oauth: str
    client_id: str | None
    client_secret: Secret | None
    callback_url: str
    access_token: Secret | None
    refresh_token: Secret | None
    token_file: Path | None
    api_version: str
    page_size: int
    timeout: float
    max_retries: int
    cache_dir: Path | None
    cache_ttl: float
    all_or_none: bool = True

    @property
    def uses_oauth(self) -> bool:
        return self.initiate_oauth != "OFF" or self.access_token is not None

    @classmethod
    def parse(cls, values: Mapping[str, Any], scheme: str) -> SalesforceSettings:
        login = values["URL"] or (SANDBOX_LOGIN if values["UseSandbox"] else PRODUCTION_LOGIN)
        version = str(values["APIVersion"]).removeprefix("v")
        if not version.replace(".", "", 1).isdigit():
            raise ConfigurationError(f"property APIVersion must look like 59.0, not {version!r}", source=scheme)
        if not 200 <= values["PageSize"] <= MAX_BATCH_SIZE:
            raise ConfigurationError(f"property PageSize must be between 200 and {MAX_BATCH_SIZE}", source=scheme)
        settings = cls(
            login_url=login,
            user=values["User"],
            password=values["Password"],
            security_token=values["SecurityToken"],
            initiate_oauth=values["InitiateOAuth"],
            client_id=values["OAuthClientId"],
            client_secret=values["OAuthClientSecret"],
            callback_url=values["CallbackURL"],
            access_token=values["OAuthAccessToken"],
            refresh_token=values["OAuthRefreshToken"],
            token_file=values["OAuthSettingsLocation"],
            api_version=version if "." in version else f"{version}.0",
            page_size=values["PageSize"],
            timeout=values["Timeout"],
            max_retries=values["MaxRetries"],
            cache_dir=values["MetadataCacheDir"],
            cache_ttl=values["MetadataCacheTTL"],
            all_or_none=values["AllOrNone"],
        )
        settings.check(scheme)
        return settings

    def check(self, scheme: str) -> None:
        if self.uses_oauth:
            if self.initiate_oauth != "OFF" and not self.client_id:
                raise ConfigurationError(
                    f"property OAuthClientId is required with InitiateOAuth={self.initiate_oauth}", source=scheme
                )
            return
        missing = [name for name, value in (("User", self.user), ("Password", self.password)) if not value]
        if missing:
            raise ConfigurationError(
                f"property {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required "
                "(or use OAuth: InitiateOAuth=GETANDREFRESH with OAuthClientId)",
                source=scheme,
            )

    @property
    def identity(self) -> str:
        """Who the metadata belongs to, for the cache namespace: the user, or the OAuth client."""
        return self.user or self.client_id or "oauth"


def _reveal(secret: Secret | None) -> str:
    return secret.reveal() if secret is not None else ""


class SalesforceConnector(Connector):
    """Tables for every queryable object of the profile's namespaces."""

    properties: ClassVar[tuple[Property, ...]] = PROPERTIES
    #: Managed-package namespaces this profile lists, besides objects without a namespace.
    namespaces: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, properties: Mapping[str, object]) -> None:
        super().__init__(properties)
        self.config = SalesforceSettings.parse(self.settings, self.scheme)
        http = HttpClient(
            source=self.scheme,
            classify=classify,
            timeout=self.config.timeout,
            retry=RetryPolicy(attempts=self.config.max_retries),
        )
        auth = SalesforceAuth(self._login_method(http))
        http.auth = auth
        self.client = SalesforceClient(http, auth, self.config.api_version)
        self.cache = MetadataCache(
            self.config.cache_dir,
            namespace(self.scheme, self.config.login_url, self.config.identity, self.config.api_version),
            self.config.cache_ttl,
        )
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()

    def _login_method(self, http: HttpClient) -> SoapLogin | OAuthLogin:
        config = self.config
        if not config.uses_oauth:
            password = _reveal(config.password) + _reveal(config.security_token)
            return SoapLogin(http, config.login_url, config.api_version, config.user or "", password)
        store_path = config.token_file or Path.home() / ".duckfed" / f"{self.scheme}-oauth.json"
        flow = OAuthFlow(
            http=http,
            source=self.scheme,
            endpoints=oauth_endpoints(config.login_url),
            client_id=config.client_id or "",
            client_secret=_reveal(config.client_secret) or None,
            callback_url=config.callback_url,
            store=TokenStore(store_path) if config.initiate_oauth != "OFF" else None,
            initiate=config.initiate_oauth,
            access_token=_reveal(config.access_token) or None,
            refresh_token=_reveal(config.refresh_token) or None,
        )
        return OAuthLogin(flow, config.login_url)

    def _listed(self, name: str) -> bool:
        head, sep, rest = name.partition("__")
        has_namespace = bool(sep) and "__" in rest
        return not has_namespace or head in self.namespaces

    def table_names(self) -> list[str]:
        objects = self.cache.get("sobjects")
        if objects is None:
            objects = [{"name": o["name"], "queryable": o.get("queryable", False)} for o in self.client.sobjects()]
            self.cache.put("sobjects", objects)
        return [o["name"] for o in objects if o["queryable"] and self._listed(o["name"])]

    def _open_table(self, name: str) -> Table:
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                describe = self.cache.get(f"describe-{name}")
                if describe is None:
                    describe = self.client.describe(name)
                    self.cache.put(f"describe-{name}", describe)
                table = SObjectTable(self.client, describe, self.config.page_size, all_or_none=self.config.all_or_none)
                self._tables[name] = table
        return table

    def close(self) -> None:
        self.client.close()


class FinancialForceConnector(SalesforceConnector):
    """FinancialForce: standard objects and the accounting package (`c2g__`)."""

    scheme = "financialforce"
    namespaces = frozenset({"c2g"})


class CertiniaConnector(SalesforceConnector):
    """Certinia: standard objects, the accounting package (`c2g__`) and PSA (`pse__`)."""

    scheme = "certinia"
    namespaces = frozenset({"c2g", "pse"})
