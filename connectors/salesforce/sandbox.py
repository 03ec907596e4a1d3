"""The sandbox factories for the Salesforce-platform sources (entry points in `duckfed.sandbox`)."""

from __future__ import annotations

from connectors.salesforce.emulator import SalesforceEmulator


def financialforce(records: int) -> SalesforceEmulator:
    return SalesforceEmulator(profile="financialforce", records=records)


def certinia(records: int) -> SalesforceEmulator:
    return SalesforceEmulator(profile="certinia", records=records)
