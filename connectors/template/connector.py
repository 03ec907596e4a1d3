"""The template connector: a plain JSON REST API with bearer OAuth, as the example every connector can copy.

It shows each part of the kit once: settings declared as a dataclass (`CommonSettings` + `OAuthSettings` + its
own), an `HttpClient` with the API's response check and the process-wide rate limiter, OAuth through
`OAuthFlow` and `SessionAuth`, metadata cached on disk, and tables whose capabilities are data
(`connectors/template/table.py`). See docs/writing-a-connector.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from connectors.template import client
from connectors.template.table import MAX_PAGE, RecordsTable
from connectors.template.types import column
from federation.auth import SessionAuth
from federation.catalog import table_key
from federation.connector import CommonSettings, Connector
from federation.errors import ConfigurationError
from federation.http import Operation
from federation.oauth import OAuthEndpoints, OAuthFlow, OAuthPolicy, OAuthSettings, reveal
from federation.settings import Secret, setting
from federation.table import Aggregate, Deletions, Ordering, Partitioning, Table, TableInfo

PRODUCTION = "https://api.template.example"


@dataclass(frozen=True)
class TemplateSettings(OAuthSettings, CommonSettings):
    user: str | None = setting("User", doc="With Password: sign in by the OAuth password grant instead of consent.")
    password: Secret | None = setting("Password", doc="The user's password (password grant).")
    page_size: int = setting("PageSize", default=MAX_PAGE, doc=f"Records per page (1-{MAX_PAGE}).")

    def check(self, source: str) -> None:
        if not 1 <= self.page_size <= MAX_PAGE:
            raise ConfigurationError(f"property PageSize must be between 1 and {MAX_PAGE}", source=source)
        if self.initiate_oauth == "OFF" and self.oauth_access_token is None:
            raise ConfigurationError(
                "give InitiateOAuth=GETANDREFRESH with OAuthClientId (and OAuthClientSecret), or OAuthAccessToken",
                source=source,
            )


class TemplateConnector(Connector):
    scheme = "template"
    settings_class = TemplateSettings

    def __init__(self, properties: Mapping[str, object]) -> None:
        super().__init__(properties)
        config = self.config
        assert isinstance(config, TemplateSettings)
        self.template = config
        base = config.url or PRODUCTION
        http = self.http_client(
            client.check,
            # The API counts calls per client: every connection of this process with the same client shares one.
            limiter=self.rate_limiter(urlsplit(base).netloc, config.oauth_client_id or "token", default=client.LIMIT),
        )
        password = (config.user, reveal(config.password)) if config.user and config.password else None
        flow = OAuthFlow(
            http=http,
            source=self.scheme,
            endpoints=OAuthEndpoints(f"{base}/oauth/authorize", f"{base}/oauth/token"),
            settings=config,
            policy=OAuthPolicy(refresh_skew=30.0),
            password=password,
            endpoint_of=lambda token: base,
        )
        http.auth = SessionAuth(flow, skew=30.0)
        self.http = http
        self.cache = self.metadata_cache(base, config.oauth_client_id or "token")

    def _get(self, path: str, operation: Operation) -> object:
        assert self.http is not None
        return orjson.loads(self.http.request("GET", path, operation=operation).content)

    def table_names(self) -> list[str]:
        assert self.cache is not None
        names = self.cache.get("tables")
        if names is None:
            body = self._get("/api/v1/tables", client.LIST_TABLES)
            assert isinstance(body, dict)
            names = [t["name"] for t in body["tables"]]
            self.cache.put("tables", names)
        return list(names)

    def _open_table(self, name: str) -> Table:
        assert self.cache is not None and self.http is not None
        described = self.cache.get(table_key(name))
        if described is None:
            described = self._get(f"/api/v1/tables/{name}", client.describe_operation(name))
            self.cache.put(table_key(name), described)
        assert isinstance(described, dict)
        columns = tuple(column(f) for f in described["fields"])
        info = TableInfo(
            name=described["name"],
            columns=columns,
            description=str(described.get("label", "")),
            insertable=True,
            updatable=True,
            deletable=True,
            page_size=self.template.page_size,
            limit_pushdown=True,
            ordering=Ordering(),  # nulls first ascending, text by code point: DuckDB's own order
            # The aggregate endpoint groups text by code point and sums integers and decimals exactly.
            aggregates=frozenset(Aggregate),
            modified_column="updated_at",
            deletions=Deletions.KEY_SCAN,  # the API lists no deleted records
            partitioning=Partitioning("key range", "id"),
        )
        return RecordsTable(self.http, info, self.template.page_size)
