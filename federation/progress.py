"""Progress bars for statements, syncs and writes that run longer than a second: tqdm, in a terminal or a notebook.

A bar shows what the work has cost so far: the records its scans read from the API (out of the total the API
reported, where it reports one: `federation.table.ScanProgress`), the pages they came in, the API calls the
connection's sources sent (retries and logins included) and the seconds spent waiting for a rate limit; for a
write, the records written.

Threads. Scans run on DuckDB's threads and read-ahead workers: they only add to counters, under a lock. The
statement's own thread sits inside DuckDB until the statement ends, so it can't redraw anything meanwhile; one
daemon thread for the whole process (`_Ticker`) draws every bar instead. It creates an activity's bar once the
activity has run `DELAY` seconds and redraws it every `REFRESH` seconds, holding the activity's lock; when the
activity ends, its own thread takes that lock, marks it ended and draws and closes the bar itself, so one thread
at a time ever touches a bar. In a notebook the ticker draws inside a copy of the `contextvars` context of the
thread that began the activity: ipykernel keeps the running cell's parent header in a context variable, so the
bar is displayed in the cell that ran the statement, and the widget's updates are comm messages, which ipykernel
sends through its IOPub thread, safe from any thread.

Shown only when someone watches: on an interactive terminal (stderr is a tty) or in a Jupyter kernel (tqdm's
notebook widget, which needs ipywidgets; without it, text). Never with `Progress=false` on a source of the
connection or the environment variable `DUCKFED_PROGRESS=0`. tqdm is imported when a bar is first drawn, so
`import federation` does not pay for it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from federation.table import ScanProgress

if TYPE_CHECKING:
    from federation.connector import Connector

log = logging.getLogger("duckfed.progress")

#: Seconds an activity runs before its bar appears.
DELAY = 1.0
#: Seconds between redraws of a bar.
REFRESH = 0.2
#: The environment variable that turns every bar off (`0`, `false`, `no` or `off`).
ENVIRONMENT = "DUCKFED_PROGRESS"
_OFF = ("0", "false", "no", "off")


def watched() -> str | None:
    """Where a bar would be seen: "notebook" in a Jupyter kernel, "terminal" when stderr is one, else None."""
    if os.environ.get(ENVIRONMENT, "").strip().lower() in _OFF:
        return None
    # Looked up, never imported: a program that has not imported IPython is not in a notebook.
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if type(shell).__name__ == "ZMQInteractiveShell":
        return "notebook"
    stream = sys.stderr
    try:
        return "terminal" if stream is not None and stream.isatty() else None
    except ValueError:  # a closed stream
        return None


class ScanMeter(ScanProgress):
    """One scan's counts: the records and pages read from the API, and the totals it reported (by part). Whatever
    activity of its connection runs when it counts counts it too."""

    def __init__(self, label: str, progress: Progress, calls: int, waited: float) -> None:
        self.label = label
        self._progress = progress
        #: The sources' calls and rate-limit waits when the scan began (an activity counts from there).
        self.calls_before = calls
        self.waited_before = waited
        self._lock = threading.Lock()
        self.rows = 0
        self.pages = 0
        self._totals: dict[Hashable, int] = {}

    def total(self, rows: int, part: Hashable = None) -> None:
        with self._lock:
            self._totals[part] = rows
        self._progress.touched(self)

    def page(self, rows: int) -> None:
        """A page of `rows` records came from the API."""
        with self._lock:
            self.rows += rows
            self.pages += 1
        self._progress.touched(self)

    @property
    def expected(self) -> int | None:
        """The records the API said the scan returns, or None while it has not said."""
        with self._lock:
            return sum(self._totals.values()) if self._totals else None


@dataclass(frozen=True)
class Counts:
    """What an activity has done so far."""

    rows: int
    #: The records the scans will read in all, when every scan's API reported its total.
    total: int | None
    pages: int
    calls: int
    waited: float
    written: int


class Activity:
    """One statement, sync or write, counted from any thread, with the bar the ticker draws for it."""

    def __init__(self, label: str | None, sources: Iterable[Connector], where: str) -> None:
        self.label = label
        self.where = where
        self.began = time.monotonic()
        self._sources = list(sources)
        self._calls = _calls(self._sources)
        self._waited = _waited(self._sources)
        #: The scans counted, in the order they first counted (a dict: each once).
        self._scans: dict[ScanMeter, None] = {}
        self._written = 0
        self._counting = threading.Lock()
        #: The ticker draws in this context (see the module docstring).
        self.context = contextvars.copy_context()
        #: Held while the bar is drawn; `ended` says the activity's own thread has taken the bar back.
        self.drawing = threading.Lock()
        self.ended = False
        self.bar: _Bar | None = None

    def add(self, scan: ScanMeter) -> None:
        """Count `scan`, and the calls and waits since it began, which may be before this activity did."""
        with self._counting:
            self._scans.setdefault(scan)
            self._calls = min(self._calls, scan.calls_before)
            self._waited = min(self._waited, scan.waited_before)

    def wrote(self, records: int) -> None:
        with self._counting:
            self._written += records

    def counts(self) -> Counts:
        with self._counting:
            scans, written, calls, waited = list(self._scans), self._written, self._calls, self._waited
        expected = [s.expected for s in scans]
        total = sum(e for e in expected if e is not None) if scans and None not in expected else None
        return Counts(
            rows=sum(s.rows for s in scans),
            total=total,
            pages=sum(s.pages for s in scans),
            calls=_calls(self._sources) - calls,
            waited=_waited(self._sources) - waited,
            written=written,
        )

    def describe(self) -> str:
        if self.label:
            return self.label
        with self._counting:
            names = dict.fromkeys(s.label for s in self._scans)
        return ", ".join(names) or "query"


def _calls(sources: Iterable[Connector]) -> int:
    return sum(c.http.calls for c in sources if c.http is not None)


def _waited(sources: Iterable[Connector]) -> float:
    limiters = {id(c.http.limiter): c.http.limiter for c in sources if c.http is not None and c.http.limiter}
    return sum(limiter.waited for limiter in limiters.values() if limiter is not None)


class Progress:
    """The progress of one connection's statements, and of the syncs and writes made of them.

    An activity begun while another runs on the connection is part of it (a sync's statements are one bar), and a
    scan counts toward every activity that runs while it reads: a statement's rows may be read by a later call
    (`execute`, then `fetchall`)."""

    def __init__(self, sources: Mapping[str, Connector]) -> None:
        self._sources = sources
        self._lock = threading.Lock()
        self._current: Activity | None = None

    def scan(self, label: str) -> ScanMeter:
        """A meter for a scan of the table `label` that begins now."""
        sources = self._sources.values()
        meter = ScanMeter(label, self, _calls(sources), _waited(sources))
        self.touched(meter)
        return meter

    def touched(self, meter: ScanMeter) -> None:
        """`meter` counted: the activity running counts it too."""
        current = self._current
        if current is not None:
            current.add(meter)

    def wrote(self, records: int) -> None:
        """Records a write changed, for the bar of the activity running."""
        current = self._current
        if current is not None:
            current.wrote(records)

    @contextlib.contextmanager
    def activity(self, label: str | None = None) -> Iterator[None]:
        """Count what runs in the block (named `label`; by default by the tables it scans) and show a bar for it
        if it runs longer than `DELAY` and someone watches; within another activity, the block is part of it."""
        with self._lock:
            nested = self._current is not None
        where = None if nested else watched()
        if where is None or not all(c.config.progress for c in self._sources.values()):
            yield
            return
        with self._lock:
            activity = self._current = Activity(label, self._sources.values(), where)
        _TICKER.add(activity)
        failed = True
        try:
            yield
            failed = False
        finally:
            with self._lock:
                self._current = None
            _TICKER.remove(activity)
            _end(activity, failed=failed)

    def printing(self, say: Callable[[str], None]) -> Callable[[str], None]:
        """`say`, clearing the running activity's bar from the terminal while it prints, so lines don't mix."""

        def said(text: str) -> None:
            current = self._current
            if current is None:
                say(text)
                return
            with current.drawing:
                shown = current.bar if not current.ended else None
                if shown is not None:
                    shown.clear()
                say(text)
                if shown is not None:
                    shown.draw(current.counts())

        return said


def _end(activity: Activity, *, failed: bool) -> None:
    """Take the bar back from the ticker, draw the final counts and close it, on the activity's own thread."""
    with activity.drawing:
        activity.ended = True
        bar = activity.bar
    if bar is None:
        return
    try:
        bar.draw(activity.counts())
        bar.close(failed=failed)
    except Exception:  # a display that fails must never fail the statement
        log.debug("closing a progress bar failed", exc_info=True)


class _Bar:
    """A tqdm bar: the notebook's widget in a Jupyter kernel (text if ipywidgets is missing), else text on stderr."""

    def __init__(self, desc: str, where: str, counts: Counts, began: float) -> None:
        self.notebook = False
        kwargs: dict[str, Any] = {
            "desc": desc,
            "total": counts.total,
            "bar_format": _format(counts.total),
            "unit": " rows",
            "mininterval": 0,
            "delay": DELAY,  # only keeps tqdm from drawing as it is made: `draw` draws it, with the counts
            "smoothing": 0,  # the rate is rows over the whole time: pages arrive in bursts
        }
        bar: Any = None
        if where == "notebook":
            try:
                from tqdm.notebook import tqdm as widget

                bar = widget(**kwargs, leave=True)
                self.notebook = True
            except ImportError:  # no ipywidgets: tqdm's text bar, on the cell's stderr
                bar = None
        if bar is None:
            from tqdm import tqdm as text

            bar = text(**kwargs, file=sys.stderr, leave=False, dynamic_ncols=True)
        # The bar appears a while after the work began: its clock starts when the work did.
        bar.start_t -= time.monotonic() - began
        self._bar = bar
        self._total = counts.total

    def draw(self, counts: Counts) -> None:
        total = counts.total if counts.total is None else max(counts.total, counts.rows)
        if total != self._total:
            self._retotal(total)
        self._bar.n = counts.rows
        parts = [_plural(counts.pages, "page"), _plural(counts.calls, "call")]
        if counts.written:
            parts.append(f"{counts.written:,} written")
        if counts.waited >= 0.05:
            parts.append(f"{counts.waited:.1f} s waiting for the rate limit")
        self._bar.set_postfix_str(", ".join(parts), refresh=False)
        self._bar.refresh()

    def _retotal(self, total: int | None) -> None:
        self._total = total
        self._bar.total = total
        self._bar.bar_format = _format(total)
        if self.notebook and total is not None:
            # What tqdm's notebook `reset(total)` does to the widget, without resetting the count.
            _, widget, _ = self._bar.container.children
            widget.max = total
            widget.bar_style = ""
            widget.layout.width = None

    def clear(self) -> None:
        self._bar.clear()

    def close(self, *, failed: bool) -> None:
        if not failed and self._total is not None and self._bar.n < self._total:
            # A LIMIT stops a scan early: that is a finished statement, not a failed one (the widget turns red).
            self._retotal(self._bar.n)
        self._bar.close()


def _format(total: int | None) -> str:
    if total is None:
        return "{desc}: {n_fmt} rows [{elapsed}, {rate_fmt}{postfix}]"
    return "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} rows [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


class _Ticker:
    """The one thread of the process that draws the bars of running activities (started when first needed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[Activity] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, activity: Activity) -> None:
        with self._lock:
            self._active.append(activity)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="duckfed-progress", daemon=True)
                self._thread.start()
        self._wake.set()

    def remove(self, activity: Activity) -> None:
        with self._lock:
            if activity in self._active:
                self._active.remove(activity)

    def _run(self) -> None:
        while True:
            with self._lock:
                active = list(self._active)
            if not active:
                self._wake.wait()
                self._wake.clear()
                continue
            now = time.monotonic()
            for activity in active:
                if now - activity.began >= DELAY:
                    activity.context.run(self._draw, activity)
            waits = [DELAY - (now - a.began) for a in active if a.bar is None and now - a.began < DELAY]
            time.sleep(min([REFRESH, *waits]))

    @staticmethod
    def _draw(activity: Activity) -> None:
        with activity.drawing:
            if activity.ended:
                return
            try:
                counts = activity.counts()
                if activity.bar is None:
                    activity.bar = _Bar(activity.describe(), activity.where, counts, activity.began)
                activity.bar.draw(counts)
            except Exception:  # a display that fails must never fail the statement: stop drawing this one
                log.debug("drawing a progress bar failed", exc_info=True)
                activity.ended = True


_TICKER = _Ticker()
