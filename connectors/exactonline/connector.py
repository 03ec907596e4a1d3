"""The Exact Online connector: `exactonline:///?Region=…&Division=…&InitiateOAuth=GETANDREFRESH&…`.

Region picks the host (`start.exactonline.{nl,be,de,co.uk,com,es,fr}`; `URL` overrides it), Division the
administration (default: the user's current one, from `current/Me`, which costs no quota and is cached on
disk). OAuth is the authorization-code flow through the kit's `OAuthFlow`: 10-minute tokens renewed 25 s before
they expire — Exact refuses a new token until 570 s of the 600 have passed, so the skew must stay under 30 s —
and single-use refresh tokens shared safely by pooled connections through the token store. Every call waits for
the process-wide limiter of this app and division (60 a clock minute, 5,000 a day), which the API's
`X-RateLimit-*` headers keep in step with calls made elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from connectors.exactonline import client
from connectors.exactonline.aggregates import AGGREGATES
from connectors.exactonline.entities import BY_NAME, ENTITIES
from connectors.exactonline.table import EntityTable
from connectors.exactonline.types import column
from federation.auth import SessionAuth
from federation.connector import CommonSettings, Connector
from federation.errors import ConfigurationError
from federation.oauth import OAuthEndpoints, OAuthFlow, OAuthPolicy, OAuthSettings
from federation.settings import setting
from federation.table import Deletions, Table, TableInfo

#: Region names as the vendors' connectors take them (case-insensitive) → the host's suffix.
REGIONS = {
    "netherlands": "nl",
    "the netherlands": "nl",
    "belgium": "be",
    "germany": "de",
    "united kingdom": "co.uk",
    "united states": "com",
    "spain": "es",
    "france": "fr",
}
#: Token renewal before expiry: under the 30 s Exact leaves between 570 s and 600 s.
REFRESH_SKEW = 25.0
#: Guid keys that fit one lookup under the 6,000-character URL cap (`ID eq guid'…' or `, URL-encoded).
KEYS_PER_LOOKUP = 80


def _unquoted(text: str) -> str:
    """A value as written in a connection string, without the quotes users may put around it."""
    text = text.strip()
    return text[1:-1].strip() if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


@dataclass(frozen=True)
class ExactOnlineSettings(OAuthSettings, CommonSettings):
    region: str = setting(
        "Region",
        default="Netherlands",
        doc="The region of the Exact Online account: Netherlands, Belgium, Germany, United Kingdom, "
        "United States, Spain or France (it picks the host; URL overrides it).",
    )
    division: str | None = setting(
        "Division", doc="The division (administration) code; default: the user's current division."
    )
    use_bulk: bool = setting(
        "UseBulkEndpoints",
        default=True,
        doc="Scan through the bulk endpoints (1,000 records a call) where the entity has one; false: the "
        "60-record endpoints.",
    )

    def check(self, source: str) -> None:
        if _unquoted(self.region).lower() not in REGIONS:
            names = "Netherlands, Belgium, Germany, United Kingdom, United States, Spain, France"
            raise ConfigurationError(f"property Region must be one of {names}", source=source)
        if self.division is not None and not _unquoted(self.division).isdigit():
            raise ConfigurationError("property Division must be a division code (a number)", source=source)
        if self.initiate_oauth == "OFF" and self.oauth_access_token is None:
            raise ConfigurationError(
                "give InitiateOAuth=GETANDREFRESH with OAuthClientId and OAuthClientSecret, or OAuthAccessToken",
                source=source,
            )

    @property
    def host(self) -> str:
        return f"https://start.exactonline.{REGIONS[_unquoted(self.region).lower()]}"

    @property
    def division_code(self) -> int | None:
        return int(_unquoted(self.division)) if self.division is not None else None


class ExactOnlineConnector(Connector):
    scheme = "exactonline"
    settings_class = ExactOnlineSettings

    def __init__(self, properties: Mapping[str, object]) -> None:
        super().__init__(properties)
        config = self.config
        assert isinstance(config, ExactOnlineSettings)
        self.exact = config
        self.base = config.url or config.host
        self.quota = client.QuotaWatch()
        http = self.http_client(
            client.check,
            headers={"Accept": "application/json"},
            quota_reader=self.quota,
        )
        base = self.base
        flow = OAuthFlow(
            http=http,
            source=self.scheme,
            endpoints=OAuthEndpoints(f"{base}/api/oauth2/auth", f"{base}/api/oauth2/token"),
            settings=config,
            policy=OAuthPolicy(refresh_skew=REFRESH_SKEW),
            endpoint_of=lambda token: base,
        )
        http.auth = SessionAuth(flow, skew=REFRESH_SKEW)
        self.http = http
        self.cache = self.metadata_cache(base, config.oauth_client_id or "token")
        self._division: int | None = config.division_code
        self._division_lock = threading.Lock()
        if self._division is not None:
            self._limit(self._division)

    def _limit(self, division: int) -> None:
        """Meter calls under the limiter Exact counts them by: this app in this division."""
        assert self.http is not None
        app = self.exact.oauth_client_id or "token"
        self.http.limiter = self.rate_limiter(urlsplit(self.base).netloc, app, str(division), default=client.LIMIT)

    def division(self) -> int:
        """The division calls go to: the Division property, else the user's current division (cached)."""
        with self._division_lock:
            if self._division is None:
                assert self.cache is not None and self.http is not None
                cached = self.cache.get("current-division")
                if not isinstance(cached, int):
                    response = self.http.request(
                        "GET",
                        "/api/v1/current/Me",
                        operation=client.CURRENT_DIVISION,
                        params={"$select": "CurrentDivision"},
                    )
                    cached = int(orjson.loads(response.content)["d"]["results"][0]["CurrentDivision"])
                    self.cache.put("current-division", cached)
                self._division = cached
                self._limit(cached)
            return self._division

    def table_names(self) -> list[str]:
        return [entity.name for entity in ENTITIES]

    def _open_table(self, name: str) -> Table:
        assert self.http is not None
        entity = BY_NAME[name]
        info = TableInfo(
            name=entity.name,
            columns=tuple(column(p, entity) for p in entity.properties),
            description=f"Exact Online {entity.path}",
            insertable=entity.writable,
            updatable=entity.writable,
            deletable=entity.writable,
            page_size=1000 if entity.bulk and self.exact.use_bulk else 60,
            keys_per_lookup=KEYS_PER_LOOKUP,
            limit_pushdown=True,
            aggregates=AGGREGATES,
            modified_column="Modified" if entity.property("Modified") else None,
            # The division's deleted-records log lists the entity types Exact numbers (`deleted.py`).
            deletions=Deletions.FEED if entity.deleted_type is not None else Deletions.KEY_SCAN,
        )
        return EntityTable(
            self.http,
            entity,
            info,
            lambda: f"{self.base}/api/v1/{self.division()}",
            self.quota,
            bulk=self.exact.use_bulk,
        )
