"""The sandbox specs for the Salesforce-platform sources (entry points in `duckfed.sandbox`).

The credentials are the placeholders of the vendors' own connection-string examples, which the emulator accepts.
"""

from __future__ import annotations

from connectors.salesforce.emulator import PASSWORD, SECURITY_TOKEN, USERNAME, SalesforceEmulator
from federation.sandbox import SandboxSpec

CREDENTIALS = {"User": USERNAME, "Password": PASSWORD, "SecurityToken": SECURITY_TOKEN}

financialforce = SandboxSpec(lambda records: SalesforceEmulator("financialforce", records), CREDENTIALS)
certinia = SandboxSpec(lambda records: SalesforceEmulator("certinia", records), CREDENTIALS)
