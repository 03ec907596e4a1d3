"""Act-On's call-count matrix (`federation.sandbox.CallCase`), on the sandbox's Newsletter list of 2,500 records
(and the Webinar Attendees list). A page holds up to 1,000 records, so a scan of the list costs 3. The API
filters by nothing but a record's id or e-mail (one call each, up to 25 per scan) and a modification or creation
window, sorts nothing and computes no aggregate but the `totalCount` every page carries."""

from __future__ import annotations

from federation.sandbox import CallCase

_NEWSLETTER = "src.List_Newsletter"
_JOIN = (
    f'SELECT n.ContactId, w.ContactId FROM {_NEWSLETTER} n JOIN src.List_Webinar_Attendees w ON w."E-mail Address" = '
    'n."E-mail Address" WHERE '
)
#: 30 ids: more than the 25 single-record lookups a scan makes, so the list is read whole instead (3 pages).
_IDS = ", ".join(f"'l-0001:{n}'" for n in range(100, 130))
_SCAN = "Act-On {} nothing: DuckDB does it over a scan of the list"

CALLS = (
    # Without the date columns, one record is one call by id (the record call returns no dates).
    CallCase(
        "point lookup", f"SELECT ContactId, \"E-mail Address\" FROM {_NEWSLETTER} WHERE ContactId = 'l-0001:42'", 1, 1
    ),
    CallCase(
        "range",
        f"SELECT ContactId FROM {_NEWSLETTER} WHERE Modified BETWEEN TIMESTAMPTZ '2024-09-01 10:00:00+00' "
        "AND TIMESTAMPTZ '2024-09-01 12:00:00+00'",
        1,
        1,
    ),
    CallCase("IN list longer than one chunk", f"SELECT ContactId FROM {_NEWSLETTER} WHERE ContactId IN ({_IDS})", 3, 3),
    CallCase("LIMIT", f"SELECT * FROM {_NEWSLETTER} LIMIT 10", 1, 1),
    CallCase(
        "top-N",
        f"SELECT ContactId, Modified FROM {_NEWSLETTER} ORDER BY Modified DESC LIMIT 5",
        3,
        1,
        _SCAN.format("sorts"),
    ),
    CallCase("count", f"SELECT count(*) FROM {_NEWSLETTER}", 1, 1),
    CallCase(
        "GROUP BY text", f'SELECT "Lead Source", count(*) FROM {_NEWSLETTER} GROUP BY 1', 3, 1, _SCAN.format("groups")
    ),
    CallCase("GROUP BY number", "SELECT SourceSize, count(*) FROM src.Lists GROUP BY 1", 1, 1),
    # One record by id, then the other list's records with its e-mail (one lookup).
    CallCase("selective join", _JOIN + "n.ContactId = 'l-0001:42'", 2, 2),
    # The Newsletter list read whole (3 pages), then more e-mails than 25 lookups: the other list's one page.
    CallCase("join on a non-pushable filter", _JOIN + "lower(n.\"First Name\") = 'james'", 4, 4),
    CallCase(
        "LIKE prefix",
        f"SELECT ContactId FROM {_NEWSLETTER} WHERE \"First Name\" LIKE 'Ja%'",
        3,
        1,
        "Act-On filters by no pattern: DuckDB filters a scan of the list",
    ),
)
