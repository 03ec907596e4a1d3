"""The two profiles the emulator serves and where each object's records come from.

``financialforce`` is a Salesforce org with the Accounting package: the standard objects plus the ``c2g__``
objects. ``certinia`` adds the PSA package's ``pse__`` objects. The main objects get `records` records each;
dimension-like objects a fixed handful; line items a fixed number per parent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import data_accounting, data_psa, data_standard
from .datagen import Generator
from .schema import ObjectSpec
from .schema_accounting import COMPANY, GL_ACCOUNT, INVOICE, INVOICE_LINE, TRANSACTION, TRANSACTION_LINE
from .schema_psa import ASSIGNMENT, MILESTONE, PROJECT, TIMECARD
from .schema_standard import ACCOUNT, ACCOUNT_CHANGE_EVENT, CONTACT, OPPORTUNITY, USER


@dataclass(frozen=True)
class ObjectSource:
    """An object of a profile, the generator of its records, and how many it has for a given `records`."""

    spec: ObjectSpec
    generator: Generator | None
    count: Callable[[int], int]


def _main(records: int) -> int:
    return records


def _fixed(count: int) -> Callable[[int], int]:
    return lambda _records: count


def _per_parent(lines: int) -> Callable[[int], int]:
    return lambda records: records * lines


_STANDARD = (
    ObjectSource(USER, data_standard.user, _fixed(data_standard.USER_COUNT)),
    ObjectSource(ACCOUNT, data_standard.account, _main),
    ObjectSource(CONTACT, data_standard.contact, _main),
    ObjectSource(OPPORTUNITY, data_standard.opportunity, _main),
    ObjectSource(ACCOUNT_CHANGE_EVENT, None, _fixed(0)),
)
_ACCOUNTING = (
    ObjectSource(COMPANY, data_accounting.company, _fixed(len(data_accounting.COMPANIES))),
    ObjectSource(GL_ACCOUNT, data_accounting.gl_account, _fixed(len(data_accounting.GL_ACCOUNTS))),
    ObjectSource(INVOICE, data_accounting.invoice, _main),
    ObjectSource(INVOICE_LINE, data_accounting.invoice_line, _per_parent(data_accounting.LINES_PER_INVOICE)),
    ObjectSource(TRANSACTION, data_accounting.transaction, _main),
    ObjectSource(TRANSACTION_LINE, data_accounting.transaction_line, _per_parent(2)),
)
_PSA = (
    ObjectSource(PROJECT, data_psa.project, _main),
    ObjectSource(MILESTONE, data_psa.milestone, _main),
    ObjectSource(ASSIGNMENT, data_psa.assignment, _main),
    ObjectSource(TIMECARD, data_psa.timecard, _main),
)

PROFILES: dict[str, tuple[ObjectSource, ...]] = {
    "financialforce": _STANDARD + _ACCOUNTING,
    "certinia": _STANDARD + _ACCOUNTING + _PSA,
}
