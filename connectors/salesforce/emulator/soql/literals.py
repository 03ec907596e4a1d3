"""SOQL literal values that need more than the lexer: dates, datetimes, record Ids and relative date literals.

Values are kept in the *wire* form records use (see model.py): ``YYYY-MM-DD`` for dates and fixed-width UTC
``YYYY-MM-DDThh:mm:ss.sss+0000`` for datetimes, so a comparison is a plain string comparison.

Relative date literals (TODAY, LAST_N_DAYS:n, …) stand for a range of days ``[start, end)``; the platform resolves
them in the user's time zone and locale, the emulator in UTC with Sunday as the first day of the week (en_US) and
a fiscal year that starts in January (the org default), so FISCAL literals equal their calendar twins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The docs give ±hh:mm; the platform also takes its own wire form ±hhmm (a client echoing a value back).
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})")
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def normalize_date(text: str) -> str | None:
    """`text` (``YYYY-MM-DD``) if it names a real day, else None."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def normalize_datetime(text: str) -> str | None:
    """The UTC wire form of a SOQL datetime literal, or None if it is malformed or impossible."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    day, hour, minute, second, fraction, zone = match.groups()
    try:
        offset = UTC
        if zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        year, month, mday = (int(part) for part in day.split("-"))
        millis = int((fraction or "0")[:3].ljust(3, "0"))
        moment = datetime(year, month, mday, int(hour), int(minute), int(second), millis * 1000, tzinfo=offset)
    except ValueError:
        return None
    return datetime_wire(moment)


def datetime_wire(moment: datetime) -> str:
    """`moment` in the wire form (UTC, milliseconds, ``+0000``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}+0000"


def canonical_id(text: str) -> str | None:
    """The 15-character form of a record Id given in 15 or 18 characters, or None if `text` is not an Id.

    The 18-character form only appends a case checksum, so the first 15 characters identify the record. The
    platform does not repair a wrongly-cased 18-character Id (observed: a lower-cased Account Id matches nothing),
    so neither do we.
    """
    return text[:15] if _ID.fullmatch(text) else None


@dataclass(frozen=True)
class DateRange:
    """The days a relative date literal stands for: `start` inclusive, `end` exclusive."""

    start: date
    end: date

    def bounds(self, field_type: str) -> tuple[str, str]:
        """The range as wire strings comparable with a ``date`` or ``datetime`` field's values."""
        if field_type == "date":
            return self.start.isoformat(), self.end.isoformat()
        return f"{self.start.isoformat()}T00:00:00.000+0000", f"{self.end.isoformat()}T00:00:00.000+0000"


_UNIT_OF = {
    "WEEK": "week",
    "MONTH": "month",
    "QUARTER": "quarter",
    "YEAR": "year",
    "FISCAL_QUARTER": "quarter",
    "FISCAL_YEAR": "year",
}
# name -> (unit, offset of the first period from the current one, number of periods)
_FIXED: dict[str, tuple[str, int, int]] = {
    "YESTERDAY": ("day", -1, 1),
    "TODAY": ("day", 0, 1),
    "TOMORROW": ("day", 1, 1),
    # Documented: LAST_90_DAYS includes today, 91 days in all; NEXT_90_DAYS starts tomorrow.
    "LAST_90_DAYS": ("day", -90, 91),
    "NEXT_90_DAYS": ("day", 1, 90),
}
for _name, _unit in _UNIT_OF.items():
    _FIXED[f"THIS_{_name}"] = (_unit, 0, 1)
    _FIXED[f"LAST_{_name}"] = (_unit, -1, 1)
    _FIXED[f"NEXT_{_name}"] = (_unit, 1, 1)

#: Literals taking ``:n``; the ``n`` forms count whole periods before or after the current one.
WITH_N = frozenset(
    {"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO"}
    | {f"{form}_{name}S" for name in _UNIT_OF for form in ("LAST_N", "NEXT_N")}
    | {f"N_{name}S_AGO" for name in _UNIT_OF}
)
#: Literals used bare.
FIXED = frozenset(_FIXED)


def _span(name: str, n: int) -> tuple[str, int, int]:
    """(unit, offset, periods) of a ``:n`` literal."""
    if name == "LAST_N_DAYS":
        return "day", -n, n + 1  # documented: LAST_N_DAYS:1 covers yesterday and today
    if name == "NEXT_N_DAYS":
        return "day", 1, n  # documented: starts tomorrow, today excluded
    if name == "N_DAYS_AGO":
        return "day", -n, 1
    if name.startswith("N_"):
        return _UNIT_OF[name[2:-5]], -n, 1  # N_MONTHS_AGO -> MONTH
    unit = _UNIT_OF[name[7:-1]]  # LAST_N_MONTHS / NEXT_N_MONTHS -> MONTH
    return (unit, -n, n) if name.startswith("LAST") else (unit, 1, n)


def date_literal_range(name: str, n: int | None, today: date) -> DateRange:
    """The range of `name` (upper case, one of FIXED or WITH_N with its `n`) as seen on `today`."""
    unit, offset, periods = _FIXED[name] if n is None else _span(name, n)
    start = _period_start(unit, today)
    return DateRange(_shift(unit, start, offset), _shift(unit, start, offset + periods))


def _period_start(unit: str, today: date) -> date:
    if unit == "day":
        return today
    if unit == "week":
        return today - timedelta(days=(today.weekday() + 1) % 7)  # back to Sunday
    if unit == "month":
        return today.replace(day=1)
    if unit == "quarter":
        return date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return date(today.year, 1, 1)


def _shift(unit: str, start: date, periods: int) -> date:
    """`start` (a period start) moved by whole periods."""
    if unit == "day":
        return start + timedelta(days=periods)
    if unit == "week":
        return start + timedelta(weeks=periods)
    months = periods * {"month": 1, "quarter": 3, "year": 12}[unit]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
