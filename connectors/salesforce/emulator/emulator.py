"""`SalesforceEmulator`: a Salesforce-platform org on loopback, serving the FinancialForce or Certinia profile.

It is a kit `Emulator` (federation/emulation): the kit runs the server, counts, delays, injects faults and
enforces quotas; this class names each request's kind (`routing`), serves SOAP login, the OAuth endpoints (the
kit's OAuth server with the platform's tokens, `auth`) and the REST API (`rest`), and renders the platform's
error bodies. See the package docstring for the public surface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar
from urllib.parse import urlencode

from federation.emulation.clock import Clock
from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.faults import Fault
from federation.emulation.quotas import Quota, Rejection
from federation.emulation.server import Exchange, Reply, json_reply

from . import ids, soap, writes
from .auth import PASSWORD, SECURITY_TOKEN, USERNAME, Auth
from .calls import Call, error_reply
from .errors import ApiError, for_status, not_found
from .rest import API_LIMIT, VERSIONS, Rest
from .routing import Target, target
from .store import Store

_XML = "text/xml;charset=UTF-8"
_OAUTH_KINDS = frozenset({"token", "authorize", "revoke", "userinfo"})


#: The URI and headers of one request together, in bytes.
MAX_REQUEST_BYTES = 16_384


def _request_size(exchange: Exchange) -> int:
    uri = len(exchange.path) + len(urlencode(exchange.params))
    return uri + sum(len(name) + len(value) + 4 for name, value in exchange.headers.items())


class SalesforceEmulator(Emulator):
    """A threaded HTTP/1.1 server speaking the Salesforce platform's login, OAuth and REST protocols.

    Use as a context manager (or `start` / `stop`). `records` is the number of records of each main object
    (Account, Contact, Opportunity, sales invoices, projects, timecards, …); they are generated deterministically
    from `seed` the first time an object is touched.
    """

    #: "scan" names every page of a query: the first (query, queryAll) and the rest (queryMore).
    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {"scan": frozenset({"query", "queryAll", "queryMore"})}
    #: The org's API request limit counts data-API calls; logins and OAuth calls are outside it.
    unmetered_kinds: ClassVar[frozenset[str]] = frozenset({"login", "versions", "unknown"}) | _OAUTH_KINDS

    def __init__(
        self,
        profile: str = "certinia",
        records: int = 1000,
        *,
        port: int = 0,
        seed: int = 0,
        session_seconds: int = 7200,
        latency: float = 0.0,
        max_cursors: int = 100,
        clock: Clock | None = None,
        quotas: Iterable[Quota] = (),
    ) -> None:
        super().__init__(port=port, latency=latency, clock=clock, quotas=quotas)
        self.store = Store(profile, records, seed)
        self.profile = profile
        self._auth = Auth(ids.make_id("00D", 1), self.store.context.user_id(0), session_seconds, self.clock)
        self.oauth = self._auth
        self._rest = Rest(self.store, self.clock, max_cursors)
        #: The Bulk API 2.0 jobs (`bulk`): `bulk.processing_polls` keeps jobs InProgress for that many polls, and
        #: `bulk.chunk_records` caps the records of one results chunk.
        self.bulk = self._rest.bulk

    @property
    def credentials(self) -> dict[str, str]:
        """Connection properties (as the connectors spell them) that log in to this emulator."""
        return {"User": USERNAME, "Password": PASSWORD, "SecurityToken": SECURITY_TOKEN}

    def empty_recycle_bin(self) -> None:
        """Purge the delete log up to now, as an administrator emptying the recycle bin does (`deleted`)."""
        self._rest.delete_log.purge()

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        """Delete `delete` live records of `table` spread evenly over its Ids, then create `create` new ones.

        New records are what the generator would make next (valid lookups included), so any object with
        generated data can churn; the platform gives them the next Ids, after every existing one.
        """
        spec = self.store.spec(table)
        if spec is None:
            raise KeyError(f"no object {table!r} in the {self.profile} profile")
        user_id = self._auth.user_id
        with self.store.transaction() as tx:
            live = self.store.records(spec.name)
            if delete > len(live):
                raise ValueError(f"{spec.name} has {len(live)} records, fewer than {delete} to delete")
            doomed = [str(live[int((at + 0.5) * len(live) / delete)]["Id"]) for at in range(delete)]
            for record_id in doomed:
                writes.delete(tx, self.store, spec, record_id, user_id)
            created = []
            for _ in range(create):
                template = self.store.generated(spec.name, tx.next_serial(spec.name) - 1)
                body = {
                    field.name: template[field.name]
                    for field in spec.definition.fields
                    if field.createable and template.get(field.name) is not None
                }
                created.append(writes.create(tx, self.store, spec, body, user_id))
        return Mutation(tuple(created), tuple(doomed))

    # -- the kit's hooks ------------------------------------------------------------------------------------

    def kind_of(self, exchange: Exchange) -> str:
        return target(exchange.method, exchange.path).kind

    def serve(self, exchange: Exchange) -> Reply | None:
        """Count data-API calls against the org's limit, and report the usage on every REST response."""
        where = target(exchange.method, exchange.path)
        if where.is_data:
            self._rest.count_api_call()
        reply = super().serve(exchange)
        if reply is None or not (where.is_data or where.kind == "versions"):
            return reply
        return reply.with_headers({"Sforce-Limit-Info": f"api-usage={self._rest.api_calls}/{API_LIMIT}"})

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        error = for_status(fault.status)
        if kind == "login":
            api = target(exchange.method, exchange.path).soap_api
            return Reply(fault.status, soap.fault(api, error.error_code, error.message), _XML)
        if kind in _OAUTH_KINDS:
            return json_reply(fault.status, {"error": "unknown_error", "error_description": "retry your request"})
        return error_reply(error)

    def quota_reply(self, rejection: Rejection, kind: str, exchange: Exchange) -> Reply:
        # The platform's 429 (concurrent-request limit): a quota is a short-term limit a client waits out.
        return error_reply(for_status(429))

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        where = target(exchange.method, exchange.path)
        if _request_size(exchange) > MAX_REQUEST_BYTES:
            # The platform caps a request's URI and headers together (help.salesforce.com article 000386264).
            return Reply(414, b"URI Too Long", "text/plain")
        try:
            if where.is_data:
                return self._data(where, exchange)
            if kind == "versions":
                versions = [
                    {"label": label, "url": f"/services/data/v{version}", "version": version}
                    for version, label in VERSIONS.items()
                ]
                return json_reply(200, versions)
            if kind == "login" and exchange.method == "POST":
                status, envelope = soap.login(
                    self._auth, exchange.body, where.soap_api, where.parts[0], exchange.base_url
                )
                return Reply(status, envelope, _XML)
            if kind == "token":
                return self._auth.token(exchange)
            if kind == "authorize":
                return self._auth.authorize(exchange)
            if kind == "userinfo":
                return self._userinfo(exchange)
            if kind == "revoke":
                if not self._auth.revoke({**exchange.params, **exchange.form()}.get("token", "")):
                    return json_reply(400, {"error": "invalid_token", "error_description": "invalid token"})
                return Reply(200, b"", "text/html")
            raise not_found()
        except ApiError as error:
            return error_reply(error)

    # -- serving --------------------------------------------------------------------------------------------

    def _session(self, exchange: Exchange) -> str | None:
        scheme, _, token = exchange.headers.get("authorization", "").partition(" ")
        return self._auth.session_user(token.strip()) if scheme.lower() in ("bearer", "oauth") else None

    def _data(self, where: Target, exchange: Exchange) -> Reply:
        user_id = self._session(exchange)
        if user_id is None:
            reply = error_reply(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
            return reply.with_headers({"WWW-Authenticate": "Token"})
        if where.allowed is not None:
            return error_reply(
                ApiError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{exchange.method}' not allowed. Allowed are {where.allowed}",
                )
            )
        call = Call(
            exchange.method,
            where.parts,
            exchange.params,
            exchange.headers,
            exchange.body,
            f"/services/data/v{where.version}",
            user_id,
        )
        return self._rest.handle(where.kind, call)

    def _userinfo(self, exchange: Exchange) -> Reply:
        user_id = self._session(exchange)
        if user_id is None:
            return Reply(403, b"Bad_OAuth_Token", "text/plain")
        user = self.store.get(user_id) or {}
        identity = f"{exchange.base_url}/id/{self._auth.org_id}/{user_id}"
        return json_reply(
            200,
            {
                "sub": identity,
                "user_id": user_id,
                "organization_id": self._auth.org_id,
                "preferred_username": user.get("Username"),
                "nickname": user.get("Alias"),
                "name": user.get("Name"),
                "email": user.get("Email"),
                "email_verified": True,
                "given_name": user.get("FirstName"),
                "family_name": user.get("LastName"),
                "zoneinfo": user.get("TimeZoneSidKey"),
                "active": True,
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "utcOffset": -28800000,
                "urls": {
                    "rest": f"{exchange.base_url}/services/data/v{{version}}/",
                    "query": f"{exchange.base_url}/services/data/v{{version}}/query/",
                },
            },
        )
