"""The Salesforce-platform connector and its two profiles, FinancialForce and Certinia.

Both profiles talk to one org through the same REST API; a profile decides which managed-package namespaces it
lists: `financialforce` the standard objects and the accounting package (`c2g__`), `certinia` those and the PSA
package (`pse__`). Objects without a namespace (standard and the org's own custom objects) appear in both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from connectors.salesforce.auth import SoapLogin, oauth_endpoints
from connectors.salesforce.bulk import BulkPolicy
from connectors.salesforce.client import MAX_BATCH_SIZE, SalesforceClient, check, limit_info
from connectors.salesforce.table import SObjectTable
from federation.auth import Login, SessionAuth
from federation.catalog import table_key
from federation.connector import CommonSettings, Connector
from federation.errors import ConfigurationError
from federation.http import HttpClient
from federation.oauth import OAuthFlow, OAuthPolicy, OAuthSettings, reveal
from federation.ratelimit import RateLimit
from federation.settings import Secret, setting
from federation.table import Table
from federation.tokens import TokenStore

log = logging.getLogger("duckfed.salesforce")

PRODUCTION_LOGIN = "https://login.salesforce.com"
SANDBOX_LOGIN = "https://test.salesforce.com"


@dataclass(frozen=True)
class SalesforceSettings(OAuthSettings, CommonSettings):
    """The connection properties of both profiles."""

    user: str | None = setting("User", doc="The user name to log in with.")
    password: Secret | None = setting("Password", doc="The user's password.")
    security_token: Secret | None = setting(
        "SecurityToken", doc="The user's security token, appended to the password at login."
    )
    use_sandbox: bool = setting("UseSandbox", default=False, doc="Log in through the sandbox login host.")
    api_version: str = setting("APIVersion", default="59.0", doc="The REST API version.")
    page_size: int = setting("PageSize", default=MAX_BATCH_SIZE, doc="Records per query page (200-2000).")
    all_or_none: bool = setting(
        "AllOrNone",
        default=True,
        doc="Write each call of up to 200 records all or nothing, and stop at the first call the API refuses "
        "(false: write every record the API accepts and report the ones it refuses).",
    )
    use_bulk_api: bool = setting(
        "UseBulkAPI",
        default=True,
        doc="Read large scans through Bulk API 2.0 query jobs, and (with AllOrNone=false) write large statements "
        "through ingest jobs, whenever that costs fewer API calls than the REST API.",
    )
    bulk_threshold: int = setting(
        "BulkThreshold", default=10_000, doc="Records a scan or write must reach before Bulk API 2.0 is considered."
    )

    @property
    def login_url(self) -> str:
        return self.url or (SANDBOX_LOGIN if self.use_sandbox else PRODUCTION_LOGIN)

    @property
    def version(self) -> str:
        version = self.api_version.removeprefix("v")
        return version if "." in version else f"{version}.0"

    def check(self, source: str) -> None:
        version = self.api_version.removeprefix("v")
        if not version.replace(".", "", 1).isdigit():
            raise ConfigurationError(f"property APIVersion must look like 59.0, not {version!r}", source=source)
        if self.bulk_threshold < 1:
            raise ConfigurationError("property BulkThreshold must be at least 1", source=source)
        if not 200 <= self.page_size <= MAX_BATCH_SIZE:
            raise ConfigurationError(f"property PageSize must be between 200 and {MAX_BATCH_SIZE}", source=source)
        if self.oauth_client_id or self.oauth_access_token is not None:
            return
        if self.initiate_oauth == "REFRESH" or (self.initiate_oauth != "OFF" and not self.user):
            raise ConfigurationError(
                f"property OAuthClientId is required with InitiateOAuth={self.initiate_oauth} "
                "(or give User, Password and SecurityToken to log in with them)",
                source=source,
            )
        missing = [name for name, value in (("User", self.user), ("Password", self.password)) if not value]
        if missing:
            raise ConfigurationError(
                f"property {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required "
                "(or use OAuth: InitiateOAuth=GETANDREFRESH with OAuthClientId)",
                source=source,
            )

    @property
    def identity(self) -> str:
        """Who the metadata belongs to, for the cache namespace: the user, or the OAuth client."""
        return self.user or self.oauth_client_id or "oauth"


class SalesforceConnector(Connector):
    """Tables for every queryable object of the profile's namespaces."""

    settings_class = SalesforceSettings
    #: Managed-package namespaces this profile lists, besides objects without a namespace.
    namespaces: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, properties: Mapping[str, object]) -> None:
        super().__init__(properties)
        config = self.config
        assert isinstance(config, SalesforceSettings)
        self.sf = config
        # The daily allocation is the org's, reported on every response (`limit_info`); no per-second limit is
        # published for the REST API.
        limiter = self.rate_limiter(urlsplit(config.login_url).netloc, config.identity, default=RateLimit())
        http = self.http_client(check, limiter=limiter, quota_reader=limit_info)
        http.auth = SessionAuth(self._login(http))
        self.http = http
        self.client = SalesforceClient(http, config.version)
        self.cache = self.metadata_cache(config.login_url, config.identity, config.version)

    def _login(self, http: HttpClient) -> Login:
        """SOAP login with User/Password/SecurityToken unless an OAuth client or token is given; the session or
        tokens are kept in OAuthSettingsLocation when there is one."""
        config = self.sf
        password = reveal(config.password) + reveal(config.security_token)
        if config.oauth_client_id or config.oauth_access_token is not None:
            with_password = (config.user or "", password) if config.user and config.password else None
            log.info(
                "%s: signing in with OAuth client %s%s",
                self.scheme,
                config.oauth_client_id or "(given access token)",
                f" by the password grant for {config.user}" if with_password else "",
            )
            return OAuthFlow(
                http=http,
                source=self.scheme,
                endpoints=oauth_endpoints(config.login_url),
                settings=config,
                policy=OAuthPolicy(keep=("instance_url",)),
                password=with_password,
                endpoint_of=lambda token: str(token.get("instance_url") or config.login_url).rstrip("/"),
            )
        keep = config.oauth_settings_location is not None or config.initiate_oauth != "OFF"
        log.info(
            "%s: logging in as %s with User, Password and SecurityToken (SOAP)%s",
            self.scheme,
            config.user,
            "; the session is kept in OAuthSettingsLocation" if keep else "",
        )
        return SoapLogin(
            http,
            scheme=self.scheme,
            login_url=config.login_url,
            api_version=config.version,
            username=config.user or "",
            password=password,
            store=TokenStore.at(config.token_file(self.scheme)) if keep else None,
        )

    def _listed(self, name: str) -> bool:
        head, sep, rest = name.partition("__")
        has_namespace = bool(sep) and "__" in rest
        return not has_namespace or head in self.namespaces

    def table_names(self) -> list[str]:
        assert self.cache is not None
        objects = self.cache.get("sobjects")
        if objects is None:
            objects = [{"name": o["name"], "queryable": o.get("queryable", False)} for o in self.client.sobjects()]
            self.cache.put("sobjects", objects)
        return [o["name"] for o in objects if o["queryable"] and self._listed(o["name"])]

    def _open_table(self, name: str) -> Table:
        assert self.cache is not None
        describe = self.cache.get(table_key(name))
        if describe is None:
            describe = self.client.describe(name)
            self.cache.put(table_key(name), describe)
        return SObjectTable(
            self.client,
            describe,
            self.sf.page_size,
            all_or_none=self.sf.all_or_none,
            bulk=BulkPolicy(self.sf.use_bulk_api, self.sf.bulk_threshold),
            known_rows=lambda: self.row_count(name),
        )


class FinancialForceConnector(SalesforceConnector):
    """FinancialForce: standard objects and the accounting package (`c2g__`)."""

    scheme = "financialforce"
    namespaces = frozenset({"c2g"})


class CertiniaConnector(SalesforceConnector):
    """Certinia: standard objects, the accounting package (`c2g__`) and PSA (`pse__`)."""

    scheme = "certinia"
    namespaces = frozenset({"c2g", "pse"})
