"""The one place the report writes files: Markdown, CSV (and later HTML and figures)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nnbench.report.tables import all_tables, history_table
from nnbench.results import Results

TITLES = {
    "reproduction": "Reproduction: the studies' numbers beside ours (2-norm relative errors)",
    "alphabet_spectrum": "Study 001: singular values of the alphabet matrix (900x26)",
    "alphabet_effective_rank": "Study 001: effective rank of the alphabet matrix (study: ~5)",
    "errors_lu": "LU factorizations",
    "errors_qr": "QR factorizations",
    "errors_svd": "SVD",
    "errors_rank-k": "Rank-k approximations (ratio = achieved / Eckart-Young optimum)",
    "statuses": "Cells not ok (skipped, failed, diverged, timeout) with reasons",
    "asv_history": "asv history: value per commit (asv run; lower is better)",
}


def _markdown(table: pd.DataFrame) -> str:
    return table.to_markdown(index=False, floatfmt=".3g")


def build_report(
    runs: list[Results], out: str | Path, *, history: pd.DataFrame | None = None
) -> Path:
    """Write `report.md` and `tables/*.csv` for the combined results of `runs`, with an asv
    history section when `history` (from `load_asv_results`) is given."""
    out = Path(out)
    results = pd.concat([r.results for r in runs], ignore_index=True)
    tables = all_tables(results)
    if history is not None and not history.empty:
        tables["asv_history"] = history_table(history)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    lines = ["# nnbench report", ""]
    for run in runs:
        info = run.provenance
        lines.append(
            f"- `{info.get('command', '?')}` at {info.get('started', '?')}, commit "
            f"`{info.get('git_commit', '?')[:12]}`, {info.get('threads', '?')} thread(s), "
            f"CPU {info.get('cpu', '?')}, torch {info.get('versions', {}).get('torch', '?')}"
        )
    counts = results["status"].value_counts().to_dict()
    lines += ["", f"{len(results)} cells: " + ", ".join(f"{v} {k}" for k, v in counts.items()), ""]
    for name, table in tables.items():
        table.to_csv(out / "tables" / f"{name}.csv", index=False)
        lines += [f"## {TITLES.get(name, name)}", "", _markdown(table), ""]
    (out / "report.md").write_text("\n".join(lines))
    return out
