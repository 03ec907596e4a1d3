"""Act-On's 5 calls a second, measured on the sandbox's emulator with Act-On's quotas enforced.

    python benchmarks/acton_rate.py [--records 20000] [--seconds 10] [--threads 4]

1. Full scans of the "Newsletter" contact list (1,000 records a call) and the cost of each narrowed query: calls
   counted against the theoretical minimum.
2. `--threads` threads running short queries for `--seconds`: calls served, the most the emulator saw in any
   second, 429s, and the time callers spent waiting in the limiter (what the limit costs).
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from collections import Counter

import federation
from connectors.acton.emulator import VENDOR_QUOTAS, ActOnEmulator
from federation.sandbox import Sandbox

QUERIES = {
    "full scan": "SELECT count(*) FROM a.List_Newsletter",
    "modified in one hour": "SELECT count(*) FROM a.List_Newsletter "
    "WHERE Modified >= TIMESTAMPTZ '2024-09-01 10:00:00+00' AND Modified < TIMESTAMPTZ '2024-09-01 11:00:00+00'",
    "one e-mail": "SELECT ContactId FROM a.List_Newsletter WHERE \"E-mail Address\" = 'mary.1@example.com'",
    "images in a folder": "SELECT Id FROM a.Images WHERE FolderName = 'New Folder'",
    "sent messages": "SELECT count(*) FROM a.Messages WHERE MsgType = 'SENT'",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with Sandbox(records=args.records, sources=["acton"]) as sandbox:
        emulator = sandbox.server("acton")
        assert isinstance(emulator, ActOnEmulator)
        emulator.set_quotas(VENDOR_QUOTAS)
        given = {**sandbox.properties("acton"), "scheme": "acton"}
        with federation.connect({"a": given}) as con:
            con.execute("SELECT count(*) FROM a.List_Newsletter WHERE Created IS NULL").fetchall()  # log in, describe
            print(f"{'query':<24}{'calls':>7}{'seconds':>9}  by kind")
            for title, sql in QUERIES.items():
                before, started = Counter(emulator.calls_by_kind), time.monotonic()
                con.execute(sql).fetchall()
                spent = Counter(emulator.calls_by_kind) - before
                kinds = ", ".join(f"{k} {v}" for k, v in sorted(spent.items()))
                print(f"{title:<24}{sum(spent.values()):>7}{time.monotonic() - started:>9.2f}  {kinds}")
        print(f"(theory for the full scan: {math.ceil(args.records / 999)} pages of 1,000 overlapping by one)")

        served, rejected = emulator.calls, emulator.rejected
        deadline = time.monotonic() + args.seconds
        statements = [0] * args.threads
        waited: list[float] = []

        def work(n: int) -> None:
            with federation.connect({"a": given}) as con:
                while time.monotonic() < deadline:
                    con.execute(list(QUERIES.values())[1 + (n + statements[n]) % 4]).fetchall()
                    statements[n] += 1
                limiter = con.federation.sources["a"].http.limiter  # type: ignore[union-attr]
                waited.append(limiter.waited if limiter is not None else 0.0)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"\n{args.threads} threads for {args.seconds:g} s under 5 calls a second:")
        print(f"{'statements':<28}{sum(statements):>8}")
        print(f"{'calls served':<28}{emulator.calls - served:>8}")
        print(f"{'most calls in any second':<28}{emulator.quotas.max_in_any_window('second'):>8}")
        print(f"{'429s from the emulator':<28}{emulator.rejected - rejected:>8}")
        print(f"{'seconds waited in limiter':<28}{max(waited, default=0.0):>8.1f}  (shared by all threads)")


if __name__ == "__main__":
    main()
