"""API calls and quota on Exact Online, measured on the sandbox's emulator with Exact's own quotas enforced.

    python benchmarks/exactonline_calls.py [--records 10000] [--queries 200]

1. A full scan of the accounts through the bulk endpoint (1,000 a call) against the 60-record endpoint, counting
   every call from a cold start (consent and token included).
2. `--queries` short queries in a loop under the published 60 calls a minute and 5,000 a day: the connector's
   limiter, fed by the `X-RateLimit-*` headers, waits at each minute's end instead of drawing a 429. (At 60 calls
   a minute, 200 queries take a little over three minutes.)
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter

import federation
from connectors.exactonline.emulator import EXACT_QUOTAS
from federation.sandbox import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with Sandbox(records=args.records, sources=["exactonline"]) as sandbox:
        emulator = sandbox.server("exactonline")
        vendor = {k: v for k, v in sandbox.properties("exactonline").items() if k != "RateLimit"}

        def connect(cache: str, tokens: str, **extra: str) -> federation.Connection:
            props = {**vendor, "MetadataCacheDir": cache, "OAuthSettingsLocation": tokens, **extra}
            return federation.connect({"exact": {**props, "scheme": "exactonline"}})

        print(f"Full scan of {args.records:,} accounts, from a cold start (no stored token):")
        print(f"{'endpoint':<28}{'calls':>7}  by kind")
        for title, extra in [("bulk (1,000 a page)", {}), ("crm/Accounts (60 a page)", {"UseBulkEndpoints": "false"})]:
            with tempfile.TemporaryDirectory() as cache:
                before = Counter(emulator.calls_by_kind)
                con = connect(cache, f"{cache}/tokens.json", RateLimit="100000/minute aligned", **extra)
                (count,) = con.execute("SELECT count(*) FROM exact.Accounts").fetchone() or (0,)
                con.close()
                spent = Counter(emulator.calls_by_kind) - before
                kinds = ", ".join(f"{k} {v}" for k, v in sorted(spent.items()))
                print(f"{title:<28}{sum(spent.values()):>7}  {kinds}  ({count:,} rows)")
        print(f"(theory: {math.ceil(args.records / 1000)} or {math.ceil(args.records / 60)} pages, plus 2 auth calls)")

        emulator.set_quotas(EXACT_QUOTAS)
        with tempfile.TemporaryDirectory() as cache:
            con = connect(cache, f"{cache}/tokens.json")
            rejected, started = emulator.rejected, time.monotonic()
            for n in range(args.queries):
                con.execute("SELECT ID, Name FROM exact.Accounts WHERE Code = ? LIMIT 1", [f"{n + 1:18d}"]).fetchall()
            elapsed = time.monotonic() - started
            con.close()
        print(f"\n{args.queries} queries under 60 calls/minute and 5,000/day:")
        print(f"{'429s from the emulator':<28}{emulator.rejected - rejected:>7}")
        print(f"{'seconds':<28}{elapsed:>7.0f}")


if __name__ == "__main__":
    main()
