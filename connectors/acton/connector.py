"""The Act-On connector: settings, OAuth with tokens kept across processes, the rate limiter, and the tables.

Authentication is OAuth through the kit (`OAuthFlow`): the password grant when User and Password are given,
else the authorization-code grant (InitiateOAuth=GETANDREFRESH). Act-On answers at most 5 password or code grants
an hour, issues single-use refresh tokens and one-hour access tokens, so tokens live in OAuthSettingsLocation
(the kit's locked `TokenStore`): every connection and process of the same user reuses and rotates one token
instead of logging in again. Act-On apps are registered with the redirect URL `http://localhost:80`, which is
CallbackURL's default here; listening on port 80 needs administrator rights, which the error says.

Every call waits for the account's process-wide limiter: 5 calls in any sliding second and 30,000 a day
(Act-On's published limits), so normal use never meets a 429.

Tables: Images, Media, Lists, Messages, and one `List_<Name>` per contact list (its name with every character
other than a letter, digit or underscore replaced by `_`), whose columns are the list's own headings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from connectors.acton import client
from connectors.acton.assets import ImagesTable, MediaTable, images_info, media_info
from connectors.acton.lists import (
    LIST_COLUMNS,
    MESSAGE_COLUMNS,
    ListsTable,
    MessagesTable,
    RecordsTable,
    record_columns,
)
from connectors.acton.paging import MAX_COUNT
from connectors.acton.query import path_segment
from federation.auth import SessionAuth
from federation.catalog import table_key
from federation.connector import CommonSettings, Connector
from federation.errors import ConfigurationError
from federation.oauth import OAuthEndpoints, OAuthFlow, OAuthPolicy, OAuthSettings, reveal
from federation.settings import Kind, Secret, setting
from federation.table import Aggregate, Deletions, Partitioning, Table, TableInfo

#: Pages fetched at once. Act-On publishes no concurrency cap, only 5 calls a second (developer.act-on.com,
#: overview), which the account's rate limiter keeps: more calls in flight than that would only wait.
CONCURRENCY = 4
#: The offset-paged tables count their rows from a page's `totalCount` (`lists.PagedTable.aggregate`).
COUNTED = frozenset({Aggregate.COUNT})


PRODUCTION = "https://api.actonsoftware.com"
EU = "https://api-eu.actonsoftware.com"
#: Act-On's default redirect URL for registered apps (developer.act-on.com/provision).
ACTON_CALLBACK = "http://localhost:80"
STATIC_TABLES = ("Images", "Lists", "Media", "Messages")


@dataclass(frozen=True)
class ActOnSettings(OAuthSettings, CommonSettings):
    user: str | None = setting("User", doc="With Password: sign in by the OAuth password grant instead of consent.")
    password: Secret | None = setting("Password", doc="The Act-On user's password (password grant).")
    region: str = setting(
        "Region",
        kind=Kind.CHOICE,
        default="Default",
        choices=("Default", "EU"),
        doc="Act-On's API host when URL is not given: Default (api.actonsoftware.com) or EU "
        "(api-eu.actonsoftware.com).",
    )
    page_size: int = setting("PageSize", default=MAX_COUNT, doc=f"Records per page (1-{MAX_COUNT}).")
    callback_url: str = setting(
        "CallbackURL",
        kind=Kind.URL,
        default=ACTON_CALLBACK,
        doc="The OAuth app's redirect URL; duckfed listens on its host and port for the authorization code "
        "(Act-On's default, port 80, needs administrator rights: register another one to avoid that).",
    )

    def check(self, source: str) -> None:
        if not 1 <= self.page_size <= MAX_COUNT:
            raise ConfigurationError(f"property PageSize must be between 1 and {MAX_COUNT}", source=source)
        if bool(self.user) != bool(self.password):
            raise ConfigurationError("give User and Password together (the password grant)", source=source)
        if self.initiate_oauth == "OFF" and self.oauth_access_token is None:
            raise ConfigurationError(
                "give InitiateOAuth=GETANDREFRESH with OAuthClientId and OAuthClientSecret, or OAuthAccessToken",
                source=source,
            )


def table_name(list_name: str) -> str:
    return "List_" + re.sub(r"\W", "_", list_name, flags=re.ASCII)


class ActOnConnector(Connector):
    scheme = "acton"
    settings_class = ActOnSettings

    def __init__(self, properties: Mapping[str, object]) -> None:
        super().__init__(properties)
        config = self.config
        assert isinstance(config, ActOnSettings)
        self.acton = config
        base = config.url or (EU if config.region == "EU" else PRODUCTION)
        account = config.user or config.oauth_client_id or "token"
        http = self.http_client(
            client.check,
            # Act-On counts calls per account, and the user names the account: one limiter per host and user.
            limiter=self.rate_limiter(urlsplit(base).netloc, account, default=client.LIMIT),
        )
        password = (config.user, reveal(config.password)) if config.user and config.password else None
        flow = OAuthFlow(
            http=http,
            source=self.scheme,
            endpoints=OAuthEndpoints(f"{base}/authorize", f"{base}/token"),
            settings=config,
            policy=OAuthPolicy(refresh_skew=60.0, scope="PRODUCTION"),
            password=password,
            endpoint_of=lambda token: base,
        )
        http.auth = SessionAuth(flow, skew=60.0)
        self.http = http
        self.cache = self.metadata_cache(base, account)

    def _get(self, path: str, **params: str) -> Any:
        assert self.http is not None
        operation = client.LIST_LISTS if "listingtype" in params else client.DESCRIBE_LIST
        return orjson.loads(self.http.request("GET", path, operation=operation, params=params).content)

    def _contact_lists(self) -> dict[str, str]:
        """Table name → list id for every contact list (cached)."""
        assert self.cache is not None
        found = self.cache.get("lists")
        if found is None:
            found, offset = {}, 0
            while True:
                body = self._get("/api/1/list", listingtype="contact_list", offset=str(offset), count=str(MAX_COUNT))
                for entry in body.get("result", []):
                    name = table_name(str(entry["name"]))
                    found[name if name not in found else f"{name}_{entry['id']}"] = str(entry["id"])
                offset += len(body.get("result", []))
                if not body.get("result") or offset >= int(body["totalCount"]):
                    break
            self.cache.put("lists", found)
        return dict(found)

    def table_names(self) -> list[str]:
        return [*STATIC_TABLES, *sorted(self._contact_lists())]

    def _open_table(self, name: str) -> Table:
        assert self.http is not None
        page = self.acton.page_size
        if name == "Images":
            return ImagesTable(self.http, images_info())
        if name == "Media":
            return MediaTable(self.http, media_info())
        if name == "Messages":
            info = TableInfo(
                "Messages",
                MESSAGE_COLUMNS,
                "Messages by type.",
                page_size=page,
                max_concurrency=CONCURRENCY,
                limit_pushdown=True,
                aggregates=COUNTED,
            )
            return MessagesTable(self.http, info, page)
        if name == "Lists":
            info = TableInfo(
                "Lists",
                LIST_COLUMNS,
                "The account's contact lists.",
                insertable=True,
                page_size=page,
                max_concurrency=CONCURRENCY,
                limit_pushdown=True,
                aggregates=COUNTED,
            )
            return ListsTable(self.http, info, page, lambda: self.forget_metadata())
        list_id = self._contact_lists()[name]
        headers = self._headers(name, list_id)
        info = TableInfo(
            name=name,
            columns=record_columns(headers),
            description=f"The records of the contact list {list_id}.",
            insertable=True,
            updatable=True,
            deletable=True,
            page_size=page,
            max_concurrency=CONCURRENCY,
            limit_pushdown=True,
            aggregates=COUNTED,
            modified_column="Modified",
            deletions=Deletions.KEY_SCAN,
            partitioning=Partitioning("offset"),
        )
        return RecordsTable(self.http, info, page, list_id, headers)

    def _headers(self, name: str, list_id: str) -> list[str]:
        """The list's column headings, from one record's download (cached)."""
        assert self.cache is not None
        headers = self.cache.get(table_key(name))
        if headers is None:
            body = self._get(f"/api/1/list/{path_segment(list_id)}", offset="0", count="1")
            headers = [h for h in body.get("headers", []) if h != "_contact_id_"]
            self.cache.put(table_key(name), headers)
        return list(headers)
