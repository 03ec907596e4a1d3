"""`duckfed demo`: the product end to end on the built-in sandbox, each source showing its part.

Every sandbox spec (entry point `duckfed.sandbox`) may contribute a `demo(sandbox, workdir)` step; this runs them
in turn against one sandbox with every source, so a new connector's demo appears without an edit here.
"""

from __future__ import annotations

from pathlib import Path

from federation.sandbox import Sandbox


def run(records: int = 1000, workdir: Path = Path(".")) -> int:
    with Sandbox(records=records) as sandbox:
        print(f"The sandbox is running {', '.join(sandbox.names)} emulators on 127.0.0.1, {records} records each.")
        workdir.mkdir(parents=True, exist_ok=True)
        for name in sandbox.names:
            step = sandbox.specs[name].demo
            if step is not None:
                step(sandbox, workdir)
    print('\nDone. Try: duckfed query "SELECT Industry, count(*) FROM financialforce.Account GROUP BY ALL" --sandbox')
    return 0
