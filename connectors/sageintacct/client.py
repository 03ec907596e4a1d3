"""The XML gateway's HTTP side: request envelopes, the three-level response check, and the login.

Every call is a POST of a `<request>` (api-protocols.md §1.2). Requests are built with an empty `<sessionid/>`
that `BodySession.sign` fills with the current session id, sending the call to the endpoint the login named, so
a call re-sent after a re-login carries the new session. `check` reads every response, HTTP 200 included: a
control-level failure is the API's error (a rate limit or an outage is retried), an authentication failure on a
session call means the session is gone (`SessionExpired`: renew once and resend), and result-level failures are
left to the caller, which knows whether it sent a read (raise) or a batch of writes (report per row).
"""

from __future__ import annotations

import datetime
import html
import re
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from federation.auth import Session, SessionAuth, with_body
from federation.errors import (
    AuthenticationError,
    DatabaseError,
    Error,
    OperationalError,
    QueryRejected,
    RateLimited,
    SessionExpired,
    StaleMetadata,
    TransientError,
    UnknownTableError,
)
from federation.http import HttpClient, Operation, retry_after_seconds, transient_by_status
from federation.ratelimit import RateLimit
from federation.tokens import StoredLogin, TokenStore, token_key

#: No per-second limit is published: calls are billed per transaction, not blocked (§1.11). The per-company
#: concurrency cap is answered with an error that `check` turns into `RateLimited`.
LIMIT = RateLimit()
GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
PRODUCTION = "https://api.intacct.com" + GATEWAY_PATH

LOGIN = Operation("getAPISession", idempotent=True, authenticated=False)
INSPECT = Operation("inspect", idempotent=True)
QUERY = Operation("query", idempotent=True)
#: A create re-sent blindly could create twice; `writes.py` re-sends it under the same controlid instead.
CREATE = Operation("create", idempotent=False)
#: Setting the same values twice, or deleting a deleted record, changes nothing more.
UPDATE = Operation("update", idempotent=True)
DELETE = Operation("delete", idempotent=True)

_ROOT = "duckfed.intacct.root"
_DATA = "duckfed.intacct.data"
#: Data larger than this is read by `rows_of` or `columns_of` rather than parsed into the tree.
_LARGE = 32_768
#: An opening (or self-closing) tag and the text after it, up to the next tag.
_OPENING = re.compile(rb"<([^<>/\s]+)/?>([^<]*)")
_SESSION_SLOT = b"<authentication><sessionid/></authentication>"
#: Texts the vendor's own SDK matches for errors that pass (§1.4); the gateway has no numbers for them.
_RATE_LIMITED = ("api rate limit exceeded", "concurrent", "too many requests")
_OFFLINE = ("temporarily off-line", "temporarily offline")


@dataclass(frozen=True)
class ApiError:
    errorno: str
    message: str


def errors_of(parent: ElementTree.Element | None) -> list[ApiError]:
    """The `<error>`s under `parent`'s `<errormessage>`, most specific first; Support IDs URL-decoded."""
    if parent is None:
        return []
    found = []
    for error in parent.iterfind("errormessage/error"):
        texts = [(error.findtext(tag) or "").strip() for tag in ("description", "description2", "correction")]
        message = (
            unquote(" ".join(t for t in texts[:2] if t))
            if "Support ID" in texts[1]
            else " ".join(t for t in texts[:2] if t)
        )
        if texts[2]:
            message += f" ({texts[2]})"
        found.append(ApiError((error.findtext("errorno") or "").strip(), message or "failed"))
    return found


def _summary(errors: Sequence[ApiError]) -> tuple[str | None, str]:
    if not errors:
        return None, "the gateway reported a failure without an error"
    return errors[0].errorno or None, "; ".join(dict.fromkeys(e.message for e in errors))


def _passing(errors: Sequence[ApiError], response: httpx.Response) -> Error | None:
    code, message = _summary(errors)
    lowered = message.lower()
    if any(text in lowered for text in _RATE_LIMITED):
        return RateLimited(message, api_code=code, retry_after=retry_after_seconds(response))
    if any(text in lowered for text in _OFFLINE):
        return TransientError(message, api_code=code, retry_after=retry_after_seconds(response))
    return None


def root_of(response: httpx.Response) -> ElementTree.Element:
    """The parsed `<response>` (parsed once, by `check`).

    A query page is one result whose `<data>` holds thousands of rows; the envelope is parsed without them
    (`rows_of` reads them far faster than a tree could), so a page is parsed once, not twice."""
    root = response.extensions.get(_ROOT)
    if root is None:
        body = response.content
        start, end = body.find(b"<data"), body.rfind(b"</data>")
        if end - start > _LARGE and start >= 0 and body.count(b"<result>") == 1:
            opening = body.index(b">", start) + 1
            response.extensions[_DATA] = body[opening:end]
            body = body[:opening] + body[end:]
        root = ElementTree.fromstring(body)
        response.extensions[_ROOT] = root
    assert isinstance(root, ElementTree.Element)
    return root


def rows_of(response: httpx.Response, tag: str) -> list[dict[str, str | None]]:
    """The `<tag>` rows of a one-result response's `<data>`, each field → text (None when empty).

    A query page is flat: `<CUSTOMER><RECORDNO>1</RECORDNO><NAME>x &amp; y</NAME><TERMNAME/>…</CUSTOMER>`, so each
    opening tag and the text after it are all there is to read (the gateway sends no attributes, comments or
    CDATA inside rows)."""
    root_of(response)
    data = response.extensions.get(_DATA)
    if data is None:
        found = root_of(response).find("operation/result/data")
        return [] if found is None else [{c.tag: c.text for c in row} for row in found.iter(tag)]
    rows: list[dict[str, str | None]] = []
    row: dict[str, str | None] = {}
    name = tag.encode()
    for element, text in _OPENING.findall(data):
        if element == name:
            row = {}
            rows.append(row)
        elif text:
            row[element.decode()] = html.unescape(text.decode()) if b"&" in text else text.decode()
    return rows


def columns_of(response: httpx.Response, tag: str, fields: Sequence[str]) -> dict[str, pa.Array]:
    """The `<tag>` rows of a one-result response's `<data>` as one string array per field of `fields`, aligned by
    row: exactly what `rows_of` reads (None where a row lacks the field or it is empty).

    A full page is read by Arrow kernels rather than row by row in Python: they release the GIL, so one page is
    decoded while the next downloads (`federation.paging`). The data is cut at each `<`, which leaves pieces such
    as `NAME>x &amp; y`, `/NAME>` and `TERMNAME/>`; closing tags are dropped and the rest split at their first
    `>` into a tag and its text, as `_OPENING` reads them."""
    root_of(response)
    data = response.extensions.get(_DATA)
    if data is None:
        rows = rows_of(response, tag)
        return {field: pa.array([row.get(field) or None for row in rows], pa.string()) for field in fields}
    pieces = pc.list_flatten(pc.split_pattern(pa.array([data], pa.large_binary()), "<"))
    opening = pieces.filter(pc.invert(pc.starts_with(pieces, "/")))
    halves = pc.split_pattern(opening, ">", max_splits=1)
    starts = halves.offsets.slice(0, len(halves))
    tags = halves.values.take(starts)
    # Tag i's code is 2i, its self-closing form's 2i + 1; an unwanted field's is null.
    names = list(dict.fromkeys([tag, *fields]))
    spellings = pa.array([spelling.encode() for name in names for spelling in (name, name + "/")], pa.large_binary())
    kinds = pc.shift_right(pc.index_in(tags, value_set=spellings), 1)
    # 0: the piece has no `>`, so it is no tag (its "tag" is all of it); 1: an empty text, which sets nothing
    # (`<X/>`, `<X></X>`): a field keeps the row's last non-empty text.
    after_tag = pc.subtract(pc.binary_length(opening), pc.binary_length(tags))
    starts_row = pc.fill_null(pc.and_(pc.equal(kinds, 0), pc.greater(after_tag, 0)), False)
    # Each row is numbered from its own tag on; fields before the first row's tag belong to no row (-1).
    row_of = pc.subtract(pc.cumulative_sum(pc.cast(starts_row, pa.int32())), 1)
    count = row_of[-1].as_py() + 1  # the split leaves one piece at least
    kept = pc.and_(pc.and_(pc.greater(after_tag, 1), pc.greater(kinds, 0)), pc.greater_equal(row_of, 0))
    # The texts field by field, each field's in row order (the sort is stable), the last of a row's only.
    found = pa.record_batch({"kind": kinds, "row": row_of, "at": pc.add(starts, 1)}).filter(kept).sort_by("kind")
    key = pc.add(pc.multiply(pc.cast(found["kind"], pa.int64()), count), found["row"])
    found = found.filter(pc.fill_null(pc.not_equal(pc.pairwise_diff(key, period=-1), 0), True))
    texts = pc.cast(halves.values.take(found["at"]), pa.string())
    # Entities and character references are replaced by `html.unescape`, as `rows_of` does, in the few texts with
    # an `&`, of the fields that have them.
    escaped = pc.match_substring(texts, "&")
    with_entities = set(found["kind"].filter(escaped).unique().to_pylist())
    runs = pc.value_counts(found["kind"])
    lengths = dict(zip(runs.field("values").to_pylist(), runs.field("counts").to_pylist(), strict=True))
    every_row = row_of.filter(starts_row)
    columns, start = {}, 0
    for kind, name in enumerate(names[1:], 1):
        length = lengths.get(kind, 0)
        rows, column = found["row"][start : start + length], texts[start : start + length]
        if kind in with_entities:
            replaced = escaped[start : start + length]
            plain = [html.unescape(text) for text in column.filter(replaced).to_pylist()]
            column = pc.replace_with_mask(column, replaced, pa.array(plain, pa.string()))
        start += length
        # A field in every row is in row order already; one in some rows only is placed, null elsewhere.
        columns[name] = column if length == count else column.take(pc.index_in(every_row, value_set=rows))
    # `rows_of` starts a row at each `<tag>`, so no row has a field of that name.
    return {field: columns[field] if field in columns else pa.nulls(count, pa.string()) for field in fields}


def first_and_last(response: httpx.Response, field: str) -> tuple[str | None, str | None]:
    """The texts of the first and the last `<field>` in a one-result response's `<data>`, read without decoding
    the rows (what the next page's request needs)."""
    root_of(response)
    data = response.extensions.get(_DATA)
    if data is None:
        found = root_of(response).find("operation/result/data")
        texts = [] if found is None else [e.text for e in found.iter(field)]
        return (texts[0], texts[-1]) if texts else (None, None)
    opening = f"<{field}>".encode()

    def text_at(start: int) -> str | None:
        if start < 0:
            return None
        start += len(opening)
        return html.unescape(data[start : data.index(b"<", start)].decode())

    return text_at(data.find(opening)), text_at(data.rfind(opening))


def _envelope(response: httpx.Response, *, login: bool) -> Error | None:
    if not response.is_success:
        try:
            code, message = _summary(errors_of(root_of(response)))
        except ElementTree.ParseError:
            code, message = None, response.text.strip()[:300] or f"HTTP {response.status_code}"
        return transient_by_status(response, message, code) or DatabaseError(message, api_code=code)
    try:
        root = root_of(response)
    except ElementTree.ParseError:
        return TransientError(f"the gateway answered something that is not XML: {response.text[:120]!r}")
    if root.findtext("control/status") != "success":
        errors = errors_of(root)
        code, message = _summary(errors)
        if login and code == "XL03000005":
            return AuthenticationError(message, api_code=code)
        return _passing(errors, response) or OperationalError(message, api_code=code)
    operation = root.find("operation")
    if operation is not None and operation.findtext("authentication/status") != "success":
        code, message = _summary(errors_of(operation))
        # UNCONFIRMED: the gateway's number for an expired session; any authentication failure of a call that
        # carried a session is taken as one (a login's own failure is the credentials').
        return AuthenticationError(message, api_code=code) if login else SessionExpired(message, api_code=code)
    for result in root.iterfind("operation/result"):
        if result.findtext("status") == "failure":
            passing = _passing(errors_of(result), response)
            if passing is not None:
                return passing
    return None


def check(response: httpx.Response) -> Error | None:
    return _envelope(response, login=False)


def check_login(response: httpx.Response) -> Error | None:
    return _envelope(response, login=True)


def read_error(result: ElementTree.Element, table: str) -> Error:
    """A failed read's result as a typed error."""
    code, message = _summary(errors_of(result))
    if "Invalid field" in message:
        # A field the cached lookup lists was refused: the object changed since (schema drift).
        return StaleMetadata(message, api_code=code)
    if "Object definition" in message and "not found" in message:
        return UnknownTableError(f"no object {table}: {message}", api_code=code)
    return QueryRejected(message, api_code=code)


@dataclass(frozen=True)
class Sender:
    """The control block's credentials (the Web Services developer license)."""

    sender_id: str
    password: str = ""

    def request(self, functions: Sequence[str], *, unique: bool = False, control_id: str | None = None) -> bytes:
        """A request carrying `functions` (each a `<function>` element), signed later with the session."""
        control = control_id or str(uuid.uuid4())
        return (
            '<?xml version="1.0" encoding="UTF-8"?><request><control>'
            f"<senderid>{escape(self.sender_id)}</senderid><password>{escape(self.password)}</password>"
            f"<controlid>{control}</controlid><uniqueid>{'true' if unique else 'false'}</uniqueid>"
            "<dtdversion>3.0</dtdversion><includewhitespace>false</includewhitespace></control>"
            f'<operation transaction="false">{_SESSION_SLOT.decode()}<content>{"".join(functions)}</content>'
            "</operation></request>"
        ).encode()


def function(body: str, control_id: str = "f") -> str:
    return f'<function controlid="{escape(control_id)}">{body}</function>'


def results(response: httpx.Response) -> list[ElementTree.Element]:
    return list(root_of(response).iterfind("operation/result"))


class GatewayLogin(StoredLogin):
    """Sessions from `getAPISession` with the user's login (§1.3).

    With a `store` (`OAuthSettingsLocation`) the session is kept there under the gateway, company and user, so a
    new process reuses it until it expires instead of logging in again; without one it lives with the connection.
    """

    def __init__(
        self,
        http: HttpClient,
        url: str,
        sender: Sender,
        login: Mapping[str, str],
        *,
        scheme: str,
        store: TokenStore | None = None,
    ) -> None:
        # The entity is part of the principal: a session signed in to one entity can't read another's records.
        principal = f"{login.get('companyid', '')}/{login.get('userid', '')}"
        if login.get("locationid"):
            principal += f"/{login['locationid']}"
        super().__init__(store, token_key(scheme, url, principal), skew=60.0)
        self._http, self._url, self._sender, self._login = http, url, sender, dict(login)

    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self._login.items())
        body = self._sender.request([function("<getAPISession/>", "login")]).replace(
            _SESSION_SLOT, f"<authentication><login>{fields}</login></authentication>".encode()
        )
        response = self._http.request(
            "POST",
            self._url,
            operation=LOGIN,
            check=check_login,
            content=body,
            headers={"Content-Type": "application/xml"},
        )
        (result,) = results(response)
        if result.findtext("status") != "success":
            code, message = _summary(errors_of(result))
            raise AuthenticationError(message, api_code=code, operation="getAPISession")
        token, endpoint = result.findtext("data/api/sessionid"), result.findtext("data/api/endpoint")
        if not token or not endpoint:
            raise AuthenticationError("getAPISession returned no session", operation="getAPISession")
        issued: dict[str, Any] = {"access_token": token, "endpoint": endpoint}
        timeout = root_of(response).findtext("operation/authentication/sessiontimeout")
        if timeout:
            try:
                ends = datetime.datetime.fromisoformat(timeout.strip())
                issued["expires_in"] = max((ends - datetime.datetime.now(datetime.UTC)).total_seconds(), 0.0)
            except ValueError:
                pass  # no usable timeout: the session is renewed when the gateway refuses it
        return issued

    def session(self, token: Mapping[str, Any]) -> Session:
        expires_at = token.get("expires_at")
        return Session(str(token["access_token"]), str(token["endpoint"]), float(expires_at) if expires_at else None)


class BodySession(SessionAuth):
    """Writes the session id into the request body (not a header) and sends the call to the session's endpoint."""

    def sign(self, request: httpx.Request) -> httpx.Request:
        session = self.session()
        slot = f"<authentication><sessionid>{escape(session.token)}</sessionid></authentication>".encode()
        signed = with_body(request, request.content.replace(_SESSION_SLOT, slot, 1))
        assert session.endpoint is not None
        signed.url = httpx.URL(session.endpoint)
        return signed
