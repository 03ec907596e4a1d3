"""The Sage Intacct connector: the XML Web Services gateway as tables, one per object.

Login is `getAPISession` with the user's credentials under the sender's (Web Services) credentials; every later
call goes to the endpoint it names with the session id inside the XML body (`client.BodySession`), and a session
the gateway refuses is renewed once and the call re-sent. With `OAuthSettingsLocation` the session is kept in
that token file, so a new connection or process reuses it until it expires. The objects come from `inspect`,
their fields from `lookup`, both cached on disk (`MetadataCacheTTL`), so a new connection costs its login and
nothing else.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.sageintacct import client
from connectors.sageintacct.client import BodySession, GatewayLogin, Sender, function, read_error, results
from connectors.sageintacct.table import MAX_PAGE, ObjectTable
from connectors.sageintacct.types import column, table_name
from connectors.sageintacct.writes import BATCH, FILLED
from federation.catalog import table_key
from federation.connector import CommonSettings, Connector
from federation.errors import ConfigurationError
from federation.http import Operation
from federation.oauth import reveal
from federation.settings import Secret, setting
from federation.table import Aggregate, Deletions, Partitioning, Table, TableInfo
from federation.tokens import TokenStore


@dataclass(frozen=True)
class SageIntacctSettings(CommonSettings):
    user: str | None = setting("User", doc="The Intacct user to sign in as.")
    password: Secret | None = setting("Password", doc="The user's password.")
    company_id: str | None = setting("CompanyId", doc="The company (Company > Setup > Company information).")
    sender_id: str | None = setting("SenderId", doc="The Web Services sender ID (developer license).")
    sender_password: Secret | None = setting("SenderPassword", doc="The Web Services sender password.")
    entity_id: str | None = setting(
        "EntityId", doc="For multi-entity companies: the entity (location id) to sign in to; top level if unset."
    )
    time_zone: str = setting(
        "TimeZone", default="UTC", doc="The company's time zone, in which Intacct's timestamps are written."
    )
    page_size: int = setting("PageSize", default=MAX_PAGE, doc=f"Records per query page (1-{MAX_PAGE}).")
    oauth_settings_location: Path | None = setting(
        "OAuthSettingsLocation",
        doc="A file (mode 0600) to keep the API session in, so new connections and processes reuse it until it "
        "expires instead of logging in again; unset: each connection logs in once.",
    )

    def check(self, source: str) -> None:
        missing = [
            name
            for name, value in (
                ("User", self.user),
                ("Password", self.password),
                ("CompanyId", self.company_id),
                ("SenderId", self.sender_id),
                ("SenderPassword", self.sender_password),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"property {', '.join(missing)} is required", source=source)
        if not 1 <= self.page_size <= MAX_PAGE:
            raise ConfigurationError(f"property PageSize must be between 1 and {MAX_PAGE}", source=source)
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"property TimeZone: no time zone {self.time_zone!r}", source=source) from None

    @property
    def gateway(self) -> str:
        """The gateway URL: `URL` as given, or with the gateway's path when it names only a host."""
        if not self.url:
            return client.PRODUCTION
        return self.url if urlsplit(self.url).path not in ("", "/") else self.url.rstrip("/") + client.GATEWAY_PATH


class SageIntacctConnector(Connector):
    scheme = "sageintacct"
    settings_class = SageIntacctSettings

    def __init__(self, properties: Mapping[str, object]) -> None:
        super().__init__(properties)
        config = self.config
        assert isinstance(config, SageIntacctSettings)
        self.intacct = config
        self.zone = zoneinfo.ZoneInfo(config.time_zone)
        gateway = config.gateway
        http = self.http_client(
            client.check,
            # The gateway counts per company: every connection of this process to it shares one limiter.
            limiter=self.rate_limiter(urlsplit(gateway).netloc, config.company_id or "", default=client.LIMIT),
        )
        self.sender = Sender(config.sender_id or "", reveal(config.sender_password))
        login = {"userid": config.user or "", "companyid": config.company_id or "", "password": reveal(config.password)}
        if config.entity_id:
            login["locationid"] = config.entity_id
        store = TokenStore.at(config.oauth_settings_location) if config.oauth_settings_location else None
        http.auth = BodySession(
            GatewayLogin(http, gateway, self.sender, login, scheme=self.scheme, store=store), skew=60.0
        )
        self.http = http
        self.cache = self.metadata_cache(gateway, config.company_id or "", config.user or "", config.entity_id or "")

    def _call(self, body: str, operation: Operation) -> Any:
        assert self.http is not None
        response = self.http.request(
            "POST",
            "/",
            operation=operation,
            content=self.sender.request([function(body)]),
            headers={"Content-Type": "application/xml"},
        )
        (result,) = results(response)
        if result.findtext("status") != "success":
            raise read_error(result, operation.name)
        return result.find("data")

    def _objects(self) -> dict[str, str]:
        """Table name → object name, from `inspect` (cached)."""
        assert self.cache is not None
        objects = self.cache.get("objects")
        if objects is None:
            data = self._call("<inspect><object>*</object></inspect>", client.INSPECT)
            objects = sorted(t.get("typename", "") for t in data.iter("type") if t.get("typename"))
            self.cache.put("objects", objects)
        return {table_name(o): o for o in objects}

    def table_names(self) -> list[str]:
        return sorted(self._objects())

    def _open_table(self, name: str) -> Table:
        assert self.cache is not None and self.http is not None
        obj = self._objects()[name]
        fields = self.cache.get(table_key(name))
        if fields is None:
            data = self._call(f"<lookup><object>{obj}</object></lookup>", Operation(f"lookup {obj}", idempotent=True))
            fields = [{child.tag: child.text for child in f} for f in data.iterfind("Type/Fields/Field")]
            self.cache.put(table_key(name), fields)
        filled = frozenset(FILLED)
        columns = tuple(column(f, filled=filled) for f in fields)
        names = {c.api_name for c in columns}
        info = TableInfo(
            name=name,
            columns=columns,
            description=obj,
            insertable=True,
            updatable=True,
            deletable=True,
            page_size=self.intacct.page_size,
            # Sage's performance tiers cap each company's concurrent API requests (developer.sage.com, "API
            # transaction volume, concurrency, and scaling"); the lowest tier's cap is 2, which every company has.
            max_concurrency=2,
            records_per_write=BATCH,
            limit_pushdown=True,
            aggregates=frozenset(Aggregate),
            modified_column="Whenmodified" if "WHENMODIFIED" in names else None,
            deletions=Deletions.KEY_SCAN,
            partitioning=Partitioning("key range", "Recordno"),
        )
        return ObjectTable(self.http, self.sender, obj, info, self.intacct.page_size, self.zone)
