"""The example notebook, executed as a user would run it (nbclient, a kernel of this environment's Python), so it
can't rot: its join, plot, Parquet export and progress bar are checked in its outputs.

The kernel gets a private home for jupysql's ploomber-core and IPython, and both of ploomber-core's calls out
(usage statistics, the PyPI version check) are turned off: nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pyarrow.parquet as pq
import pytest
from nbclient import NotebookClient

import federation
from federation.sandbox import Sandbox

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "duckfed.ipynb"
KERNEL = "duckfed-example"
WIDGET = "application/vnd.jupyter.widget-view+json"
#: The sandbox's size in the notebook (its data is generated deterministically from it).
RECORDS = 2000


def tagged(notebook: Any, tag: str) -> Any:
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", ())]
    return cell


def text_of(cell: Any) -> str:
    """The text a cell printed and displayed."""
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.extend(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.fixture()
def executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    """The notebook after running it in `tmp_path/work`, with this environment's Python as its kernel."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PLOOMBER_HOME_DIR", str(tmp_path / "ploomber"))
    monkeypatch.setenv("PLOOMBER_STATS_ENABLED", "false")
    monkeypatch.setenv("PLOOMBER_VERSION_CHECK_DISABLED", "true")
    monkeypatch.delenv("DUCKFED_PROGRESS", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, kernel_name=KERNEL, timeout=120, resources={"metadata": {"path": str(work)}}, allow_errors=False
    )
    client.execute()
    return notebook, work


def table_rows(text: str) -> list[tuple[str, ...]]:
    """The body rows of a table as jupysql prints it (`| a | b |` lines after the heading)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in lines[1:]]


def test_the_example_notebook_runs_and_shows_what_it_says(executed: tuple[Any, Path]) -> None:
    notebook, work = executed
    # The first cell turns ploomber-core's calls out off, before jupysql is loaded.
    assert "PLOOMBER_STATS_ENABLED" in notebook.cells[1].source
    assert "PLOOMBER_VERSION_CHECK_DISABLED" in notebook.cells[1].source
    # What the notebook shows is what the same queries give on a sandbox of the same size, through connect().
    join = tagged(notebook, "join").source.split("\n", 1)[1]
    with Sandbox(records=RECORDS, sources=["financialforce", "template"]) as sandbox:
        urls = {"fin": sandbox.url("financialforce"), "tpl": sandbox.url("template")}
        with federation.connect(urls) as con:
            expected = con.sql(join).fetchall()
            energy = con.sql("SELECT count(*) FROM fin.Account WHERE Industry = 'Energy'").fetchall()[0][0]
    shown = table_rows(tagged(notebook, "join-result").outputs[0]["data"]["text/plain"])
    assert len(expected) > 10 and shown == [tuple(str(v) for v in row) for row in expected[:10]]
    assert any("image/png" in o.get("data", {}) for o in tagged(notebook, "plot").outputs)
    exported = pq.read_table(work / "energy_accounts.parquet")
    assert exported.num_rows == energy > 0
    assert exported.column_names == ["Id", "Name", "Industry", "BillingCity", "AnnualRevenue"]
    assert set(exported.column("Industry").to_pylist()) == {"Energy"}
    said = f"energy_accounts.parquet: {energy} rows, columns Id, Name, Industry, BillingCity, AnnualRevenue"
    assert said in text_of(tagged(notebook, "export"))
    # The scan that ran for seconds drew its bar (a widget) in its own cell, and only there; every account arrived.
    progress = tagged(notebook, "progress")
    assert any(WIDGET in o.get("data", {}) for o in progress.outputs), progress.outputs
    assert progress.outputs[-1]["data"]["text/plain"] == str(RECORDS)
    widgets = [o for c in notebook.cells for o in c.get("outputs", ()) if WIDGET in o.get("data", {})]
    assert len(widgets) == 1
