"""A Salesforce-platform emulator for the sandbox: a real HTTP server on loopback serving the FinancialForce
(standard + ``c2g__`` Accounting objects) or Certinia (that + ``pse__`` PSA objects) profile.

```python
with SalesforceEmulator("certinia", records=10_000) as sf:
    sf.url                      # "http://127.0.0.1:54321"
    sf.inject(503, retry_after=2, kinds={"query"})
    sf.calls, sf.calls_by_kind  # requests served, by kind
```

It speaks SOAP login, the OAuth 2.0 token/authorize endpoints and the REST data API (versions 50.0-62.0:
describe, query/queryMore/queryAll, record CRUD, sObject Collections) with the platform's paths, envelopes,
status codes and error bodies. The credentials are the vendors' documented placeholders below. Counting,
latency, faults, quotas, the clock and the OAuth server come from the kit (`federation.emulation`). Clients that
hard-code the vendor's hosts (simple-salesforce) reach it through
`federation.emulation.loopback.loopback_session(sf.url)`.
"""

from .auth import CLIENT_ID, CLIENT_SECRET, PASSWORD, SECURITY_TOKEN, USERNAME
from .emulator import SalesforceEmulator

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "PASSWORD", "SECURITY_TOKEN", "USERNAME", "SalesforceEmulator"]
