"""Records as Exact Online renders them: JSON (`/Date(ms)/` dates, `__metadata`) or, for a client that sends no
`Accept: application/json`, an Atom/XML feed (`feed/entry/content/m:properties/d:Field` with `m:type`).

The Atom form follows OData v2's (the `d:`/`m:` data-services namespaces, `m:null="true"` for nulls, a
`<link rel="next">` for the next page), which is what hotgluexyz/tap-exact parses.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from connectors.exactonline.entities import Entity

ATOM = "application/atom+xml;type=feed;charset=utf-8"
_D = "http://schemas.microsoft.com/ado/2007/08/dataservices"
_M = f"{_D}/metadata"


def entity_uri(base: str, division: int, entity: Entity, key: object) -> str:
    literal = f"guid'{key}'" if isinstance(key, str) else str(key)
    return f"{base}/api/v1/{division}/{entity.path}({literal})"


def json_record(record: Mapping[str, Any], entity: Entity, fields: Sequence[str], uri: str) -> dict[str, Any]:
    """One record as the JSON API returns it: `__metadata`, then the chosen properties."""
    out: dict[str, Any] = {"__metadata": {"uri": uri, "type": entity.model}}
    for name in fields:
        prop = entity.property(name)
        value = record.get(name)
        if prop is not None and prop.edm == "Edm.DateTime" and value is not None:
            value = f"/Date({int(value)})/"
        out[name] = value
    return out


def _xml_value(edm: str, value: Any) -> str:
    if edm == "Edm.DateTime":
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=int(value))
        return moment.isoformat(timespec="milliseconds")
    if edm == "Edm.Boolean":
        return "true" if value else "false"
    return escape(str(value))


def atom_feed(
    title: str,
    self_url: str,
    records: Sequence[tuple[str, Mapping[str, Any]]],
    entity: Entity,
    fields: Sequence[str],
    next_url: str | None,
    count: int | None,
) -> bytes:
    """An Atom feed of (uri, record) pairs with the chosen properties."""
    updated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xml:base={quoteattr(self_url)} xmlns="http://www.w3.org/2005/Atom" xmlns:d="{_D}" xmlns:m="{_M}">',
        f'<title type="text">{escape(title)}</title><id>{escape(self_url)}</id><updated>{updated}</updated>',
        f'<link rel="self" title={quoteattr(title)} href={quoteattr(title)} />',
    ]
    if count is not None:
        parts.append(f"<m:count>{count}</m:count>")
    for uri, record in records:
        properties = []
        for name in fields:
            prop = entity.property(name)
            edm = prop.edm if prop is not None else "Edm.String"
            value = record.get(name)
            typed = "" if edm == "Edm.String" else f' m:type="{edm}"'
            if value is None:
                properties.append(f'<d:{name}{typed} m:null="true" />')
            else:
                properties.append(f"<d:{name}{typed}>{_xml_value(edm, value)}</d:{name}>")
        parts.append(
            f'<entry><id>{escape(uri)}</id><title type="text" /><updated>{updated}</updated>'
            f'<category term="{entity.model}" scheme="{_D}/scheme" />'
            f'<content type="application/xml"><m:properties>{"".join(properties)}</m:properties></content></entry>'
        )
    if next_url is not None:
        parts.append(f'<link rel="next" href={quoteattr(next_url)} />')
    parts.append("</feed>")
    return "".join(parts).encode()
