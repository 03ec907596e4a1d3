"""`IntacctEmulator`: Sage Intacct's XML gateway (DTD 3.0) on loopback.

Every call is `POST …/xmlgw.phtml` with a `<request>`: a `<control>` block with the sender's credentials, then an
`<operation>` whose `<authentication>` is a `<login>` or a `<sessionid>` and whose `<content>` holds one or more
`<function>`s, each answered by its own `<result>` (api-protocols.md §1.2-1.4). Failures come back with HTTP 200
at the level they happened: control (bad sender, a repeated `controlid` under `uniqueid`), authentication (bad
login, unknown or expired session) or result (each function on its own; with `transaction="true"` one failure
rolls the others back and they report `aborted`). `getAPISession` answers a session id and the endpoint later
calls go to (this emulator's own `/p1/` path); sessions slide forward on every call and end on
`expire_sessions()`.

Functions: query, readByQuery, readMore, read, readByName, lookup, inspect, create, update, delete,
getAPISession. Kinds (for counting and faults) are the first function's name; `writes` groups the writes.
"""

from __future__ import annotations

import copy
import datetime
import re
import secrets
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from xml.sax.saxutils import escape

from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.faults import Fault
from federation.emulation.quotas import Rejection
from federation.emulation.server import Exchange, Reply

from .data import Company
from .envelope import ApiError, Failed, Result, control_failure, control_xml, document, errors_xml
from .reads import Reads
from .schema import OBJECTS
from .writes import Writes

# The placeholders of the vendor's connection-string example, which this gateway accepts (sql-models.md §1.1).
SENDER_ID = "Test"
SENDER_PASSWORD = "abcde123"
USER = "myusername"
COMPANY = "TestCompany"
PASSWORD = "mypassword"
#: A session lives this long past its last call (a company setting; the fixtures show 24 h, §1.3).
SESSION_SECONDS = 3600.0
ENDPOINT_PATH = "/p1/ia/xml/xmlgw.phtml"

_FUNCTION = re.compile(rb"<function\b[^>]*>\s*<(\w+)")
_SIGN_IN = "XL03000006"  # "Sign-in information is incorrect" (§1.3)
_ABORTED = ApiError("XL03000009", "The entire transaction in this operation has been rolled back due to an error.")


@dataclass
class _Session:
    user: str
    company: str
    location: str
    expires: float


class IntacctEmulator(Emulator):
    """The gateway over a generated company with `records` customers and related data."""

    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {
        "writes": frozenset({"create", "update", "delete"}),
        "reads": frozenset({"query", "readByQuery", "readMore", "read", "readByName"}),
    }

    def __init__(self, records: int = 1000, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self.company = Company(records)
        self.reads = Reads(self.company, self.clock)
        self.writes = Writes(self.company, self._wall)
        self.sessions: dict[str, _Session] = {}
        self.control_ids: set[str] = set()
        self.logins = 0
        self._sessions_lock = threading.Lock()

    def _wall(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock.wall(), datetime.UTC).replace(tzinfo=None)

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "User": USER,
            "CompanyId": COMPANY,
            "Password": PASSWORD,
            "SenderId": SENDER_ID,
            "SenderPassword": SENDER_PASSWORD,
        }

    # -- the kit's hooks ----------------------------------------------------------------------------------

    def kind_of(self, exchange: Exchange) -> str:
        if exchange.method != "POST" or not exchange.path.endswith("xmlgw.phtml"):
            return "unknown"
        match = _FUNCTION.search(exchange.body)
        return match.group(1).decode() if match else "unknown"

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        if fault.status == 429:
            return control_failure([ApiError("XL03000020", "API rate limit exceeded")], status=429)
        return control_failure([ApiError("PL04000001", "The Service is Temporarily Off-line")], status=fault.status)

    def quota_reply(self, rejection: Rejection, kind: str, exchange: Exchange) -> Reply:
        # Rate limits arrive with HTTP 200 and this text, which the vendor's Python SDK matches (§1.4, §1.11).
        quota = rejection.state.quota
        text = f"API rate limit exceeded: more than {quota.limit} calls in {quota.period_seconds:g} s"
        return control_failure([ApiError("XL03000020", text)])

    def expire_sessions(self) -> None:
        with self._sessions_lock:
            self.sessions.clear()

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        obj = OBJECTS[table.upper()]
        with self.company.lock:
            rows = self.company.tables[obj.name]
            keys = sorted(rows)
            step = max(len(keys) // (delete + 1), 1)
            doomed = [keys[(i + 1) * step - 1] for i in range(delete) if (i + 1) * step - 1 < len(keys)]
            for key in doomed:
                del rows[key]
            created = []
            for _ in range(create):
                serial = self.company.next_key[obj.name]
                values = {
                    f.id: (f.valid_values[0] if f.valid_values else f"mid-scan {serial}")
                    for f in obj.fields
                    if f.required
                }
                created.append(self.company.add(obj.name, values, self._wall()))
        return Mutation(tuple(str(r["RECORDNO"]) for r in created), tuple(str(k) for k in doomed))

    # -- serving ------------------------------------------------------------------------------------------

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        if kind == "unknown" and not exchange.path.endswith("xmlgw.phtml"):
            return Reply(404, b"<html><body>Not Found</body></html>", "text/html")
        try:
            root = ElementTree.fromstring(exchange.body)
        except ElementTree.ParseError as error:
            return control_failure([ApiError("XL03000000", f"XML parse error: {error}")])
        control = root.find("control")
        if root.tag != "request" or control is None:
            return control_failure([ApiError("XL03000000", "the request has no <control> block")])
        sender, control_id = control.findtext("senderid") or "", control.findtext("controlid") or ""
        unique = (control.findtext("uniqueid") or "false").strip().lower() == "true"
        if sender != SENDER_ID or control.findtext("password") != SENDER_PASSWORD:
            return control_failure([ApiError("XL03000005", "Incorrect Intacct XML Partner ID or password.")], sender)
        if (control.findtext("dtdversion") or "").strip() not in ("3.0", "3"):
            return control_failure([ApiError("XL03000000", "this gateway speaks dtdversion 3.0")], sender)
        if unique:
            with self._sessions_lock:
                repeated = control_id in self.control_ids
            if repeated:
                # UNCONFIRMED number: the documents say a repeated controlid is refused when uniqueid is true.
                repeat = ApiError("XL03000003", f"The controlid {control_id} was already used with uniqueid true.")
                return control_failure([repeat], sender, control_id)
        head = control_xml("success", sender, control_id, "true" if unique else "false")
        operation = root.find("operation")
        if operation is None:
            return document(head)
        return document(head + self._operation(operation, exchange, control_id if unique else None))

    def _operation(self, operation: ElementTree.Element, exchange: Exchange, unique_id: str | None) -> str:
        auth = operation.find("authentication")
        session = self._authenticate(auth)
        if isinstance(session, str):
            return f"<operation>{session}</operation>"
        if unique_id is not None:
            # A request refused before its functions ran may be sent again under the same controlid.
            with self._sessions_lock:
                self.control_ids.add(unique_id)
        token, current = session
        stamp = self._wall()
        timeout = stamp + datetime.timedelta(seconds=SESSION_SECONDS)
        auth_xml = (
            f"<authentication><status>success</status><userid>{escape(current.user)}</userid>"
            f"<companyid>{escape(current.company)}</companyid><locationid>{escape(current.location)}</locationid>"
            f"<sessiontimestamp>{stamp.isoformat()}+00:00</sessiontimestamp>"
            f"<sessiontimeout>{timeout.isoformat()}+00:00</sessiontimeout></authentication>"
        )
        functions = operation.findall("content/function")
        transaction = (operation.get("transaction") or "false").lower() == "true"
        snapshot = copy.deepcopy(self.company.tables) if transaction else None
        results = [self._function(f, token, current, exchange) for f in functions]
        if transaction and any(r.status == "failure" for r in results):
            assert snapshot is not None
            with self.company.lock:
                self.company.tables = snapshot
            for result in results:
                if result.status == "success":
                    result.status, result.data, result.errors = "aborted", "", [_ABORTED]
        return f"<operation>{auth_xml}{''.join(r.xml() for r in results)}</operation>"

    def _authenticate(self, auth: ElementTree.Element | None) -> tuple[str | None, _Session] | str:
        """(session id or None for a login, the session), or the authentication failure's XML."""
        login = auth.find("login") if auth is not None else None
        if login is not None:
            user, company = login.findtext("userid") or "", login.findtext("companyid") or ""
            location = login.findtext("locationid") or ""
            if user != USER or company != COMPANY or login.findtext("password") != PASSWORD:
                return self._auth_failure(user, company, ApiError(_SIGN_IN, "Sign-in information is incorrect"))
            return None, _Session(user, company, location, self.clock.now() + SESSION_SECONDS)
        token = (auth.findtext("sessionid") if auth is not None else None) or ""
        with self._sessions_lock:
            found = self.sessions.get(token)
            if found is not None and found.expires > self.clock.now():
                found.expires = self.clock.now() + SESSION_SECONDS  # the timeout slides with every call (§1.3)
                return token, found
            self.sessions.pop(token, None)
        # UNCONFIRMED: the number for an unknown or expired session; an authentication-level failure (§1.4).
        return self._auth_failure("", "", ApiError(_SIGN_IN, "Invalid session. Please log in again."))

    @staticmethod
    def _auth_failure(user: str, company: str, error: ApiError) -> str:
        return (
            f"<authentication><status>failure</status><userid>{escape(user)}</userid>"
            f"<companyid>{escape(company)}</companyid><locationid></locationid></authentication>{errors_xml([error])}"
        )

    def _function(
        self, function: ElementTree.Element, token: str | None, session: _Session, exchange: Exchange
    ) -> Result:
        control_id = function.get("controlid") or ""
        if len(function) != 1:
            return Result(
                "unknown", control_id, "failure", errors=[ApiError("XL03000000", "a function holds one call")]
            )
        call = function[0]
        result = Result(call.tag, control_id)
        try:
            result.data = self._call(call, token, session, exchange)
        except Failed as failed:
            result.status, result.errors = "failure", list(failed.errors)
        return result

    def _call(self, call: ElementTree.Element, token: str | None, session: _Session, exchange: Exchange) -> str:
        name = call.tag
        if name == "getAPISession":
            if token is not None:
                raise Failed(ApiError("XL03000000", "getAPISession needs a login, not a session"))
            return self._new_session(call, session, exchange)
        if name == "query":
            return self.reads.query(call)
        if name == "readByQuery":
            return self.reads.read_by_query(call)
        if name == "readMore":
            return self.reads.read_more(call)
        if name in ("read", "readByName"):
            return self.reads.read(call, by_name=name == "readByName")
        if name == "lookup":
            return self.reads.lookup(call)
        if name == "inspect":
            return self.reads.inspect(call)
        if name == "create":
            return self.writes.create(call)
        if name == "update":
            return self.writes.update(call)
        if name == "delete":
            return self.writes.delete(call)
        raise Failed(ApiError("XL03000000", f"Unknown function {name}"))

    def _new_session(self, call: ElementTree.Element, session: _Session, exchange: Exchange) -> str:
        location = call.findtext("locationid")
        if location is not None:
            session.location = location
        token = secrets.token_urlsafe(24) + ".."
        with self._sessions_lock:
            self.sessions[token] = session
            self.logins += 1
        endpoint = f"{exchange.base_url}{ENDPOINT_PATH}"
        return (
            f"<data><api><sessionid>{token}</sessionid><endpoint>{escape(endpoint)}</endpoint>"
            f"<locationid>{escape(session.location)}</locationid></api></data>"
        )
