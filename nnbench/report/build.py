"""The one place the report writes files: index.html (self-contained), report.md,
tables/*.csv and figures/*.png + *.svg."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from nnbench.report.figures import FIGURES, Missing
from nnbench.report.reproduction import CRITERIA
from nnbench.report.tables import all_tables, history_table
from nnbench.results import Results

TITLES = {
    "verdict": "Verdict: each group's best at matched accuracy; time ratio = its time / the "
    "best classical method's time (median over problems, measured in the same run)",
    "time_to_accuracy_lu": "LU: least time to an accuracy (the budget that did it)",
    "time_to_accuracy_qr": "QR: least time to an accuracy (the budget that did it)",
    "time_to_accuracy_svd": "SVD: least time to an accuracy (the budget that did it)",
    "time_to_accuracy_rank-k": "Rank-k: least time to an accuracy (the budget that did it)",
    "reproduction": "Reproduction: the studies' numbers beside ours (2-norm relative errors)",
    "reproduction_configs": "Reproduction: which re-run is the study configuration (evidence)",
    "study002_photo": "Study 002's failed rank-10 photo: each hypothesis re-run",
    "study002_funnel": "Study 002's funnel architectures: rank collapse over seeds",
    "amortized_generalization": "Amortized methods: trained once, applied to held-out matrices "
    "of their training family and of others",
    "amortized_break_even": "Amortized methods: throughput and break-even against the best "
    "classical method at matched accuracy",
    "reproduction_not_run": "Reproduction rows this run did not measure, and the studies that "
    "fill them",
    "image_spectra": "Singular values of the image matrices (study 001: the alphabet)",
    "image_effective_rank": "Effective rank of the image matrices (study 001: alphabet ~5)",
    "errors_lu": "LU factorizations",
    "errors_qr": "QR factorizations",
    "errors_svd": "SVD",
    "errors_rank-k": "Rank-k approximations (ratio = achieved / Eckart-Young optimum)",
    "evaluation_cost": "What evaluating a cell costs: evaluation time / the method's time",
    "statuses": "Cells not ok (skipped, failed, diverged, timeout) with reasons",
    "asv_history": "asv history: value per commit (asv run; lower is better)",
}
NAV = {
    "verdict": "Verdict",
    "time_to_accuracy_lu": "LU time-to-accuracy",
    "time_to_accuracy_qr": "QR time-to-accuracy",
    "time_to_accuracy_svd": "SVD time-to-accuracy",
    "time_to_accuracy_rank-k": "Rank-k time-to-accuracy",
    "reproduction": "Reproduction",
    "reproduction_configs": "Study configs",
    "study002_photo": "Photo hypotheses",
    "reproduction_not_run": "Not run",
    "study000_sensitivity": "Sensitivity",
    "study002_funnel": "Funnels",
    "amortized_generalization": "Amortized",
    "amortized_break_even": "Break-even",
    "errors_lu": "LU",
    "errors_qr": "QR",
    "errors_svd": "SVD",
    "errors_rank-k": "Rank-k",
    "evaluation_cost": "Evaluation cost",
    "statuses": "Statuses",
    "image_spectra": "Spectra",
    "image_effective_rank": "Effective rank",
    "asv_history": "asv history",
}
LEADING = (  # the report opens with these (those the run measured), then the figures
    "verdict",
    "reproduction",
    "reproduction_configs",
    "study002_photo",
    "study002_funnel",
    "amortized_generalization",
    "amortized_break_even",
)
NOTES = {
    "reproduction": "Verdicts: reproduced / not reproduced / different matrix (the study's "
    "matrix is not ours: not scored) / not run. Thresholds, by the row's criterion: "
    + "; ".join(f"{name}: {c.rule}" for name, c in CRITERIA.items())
    + ". study_config is the chosen re-run of the study's configuration (next table); ours is "
    "our best method on the same matrix and metric (blank where none is like for like: the "
    "note says why).",
    "reproduction_configs": "Where the study's configuration is ambiguous, each candidate was "
    "run; the one closest to the study's numbers (smallest median |log10(re-run / reported)| "
    "over the rows it answers) is the table's study_config.",
    "study002_photo": "The study's network gave 'a very large error and an unrecognizable "
    "image'; a change reproduces that failure if its error is at least twice the SVD's.",
    "study002_funnel": "Collapse: the learned A_k has numerical rank below k (rank_one: rank 1, "
    "the study's 'most commonly'). The study ran its funnel on unnamed 'larger matrices'; "
    "these are random U[0,1) matrices.",
    "image_effective_rank": "Whose measure is which: study 001's 'effective rank close to 5' is "
    "a visual judgement (the letter B is recognisable at r = 5; figure 'Study 001: the letter B "
    "at rank r'). The columns are ours: entropy_effective_rank is Roy & Vetterli's (2007), "
    "rank_for_90/99pct_energy count the singular values holding that share of ||A||_F^2, rank is "
    "the numerical rank (numpy's tolerance).",
    "amortized_generalization": "Each model is trained once (train_time_s, untimed in the "
    "cells) on held-out-seed matrices of trained_on, then factorizes stacks of unseen matrices "
    "in one forward pass (time_per_matrix_s); refine=R adds R gradient steps per matrix to "
    "the inference. in_distribution: the test family is one it was trained on.",
    "amortized_break_even": "best_classical: the fastest classical method whose solve "
    "backward error is at most the amortized one's, on the same stacks. break_even_matrices = "
    "train_time_s / (classical time per matrix - amortized time per matrix): how many "
    "matrices must be factorized before training plus inference costs less; inf: never "
    "(inference alone is slower). For preconditioners the accuracy is CG iterations and the "
    "time is the build only; nnbench's IC(0) is a dense left-looking numpy loop (O(n^3)), not "
    "a sparse library code, so build-time comparisons with it flatter the learned "
    "preconditioner: compare iterations.",
    "evaluation_cost": "Median over cells of eval_time_s / time_s: every metric of the "
    "cell's factors (float64, on the method's device for CUDA cells) against the method's "
    "timed call. Left out (shared_time_s): what the instance alone determines, its singular "
    "values, log-determinant and Doolittle reference, computed once and shared by every cell "
    "on it. Goal: at most 1x for classical methods from n = 1024. An exact LU residual alone "
    "needs the product L U (2n^3 flops against the factorization's 2n^3/3); a sketch costs "
    "O(n^2 k), less than an exact 2-norm of its residual; a preconditioner's method time is "
    "its build, and its evaluation runs conjugate gradients.",
    "errors_lu": "final_loss is each method's own training loss (the loss column says which); "
    "compare it only between rows with the same loss.",
    "errors_rank-k": "final_loss is each method's own training loss (the loss column says "
    "which); compare it only between rows with the same loss.",
}
COLLAPSED = {
    "errors_lu",
    "errors_qr",
    "errors_svd",
    "errors_rank-k",
    "image_spectra",
    "asv_history",
}
STAND_INS = (
    "The studies' own images are not available. Stand-ins: scikit-image `camera` for study "
    "002's 400x400 portrait photo, scikit-image `logo` for its 256x256 Apple logo, a generated "
    "hue wheel (grayscale) for its 10x10 colour wheel, and capitals rendered in DejaVu Sans "
    "(matplotlib) for study 001's handwritten alphabet matrix."
)
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:1360px;
padding:1rem 1.2rem;color:#222;line-height:1.4}
h1{border-bottom:2px solid #357;padding-bottom:.3rem}h2{margin-top:2rem;color:#235}
table{border-collapse:collapse;font-size:11.5px;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
td{max-width:16rem}
th{background:#eef2f7;position:sticky;top:0;white-space:normal;vertical-align:bottom;min-width:3.2rem}
td:first-child,th:first-child{text-align:left}
.scroll{max-height:480px;overflow:auto;border:1px solid #ddd}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555}.missing{color:#955;font-style:italic}
nav a{margin-right:1rem}code{background:#f4f4f4;padding:0 3px}
.note{font-size:13px;color:#444;max-width:75rem}
table.wrap-last td:last-child{min-width:16rem;max-width:30rem;text-align:left}
"""


def combine(runs: list[Results]) -> Results:
    """Several results folders as one Results (provenance keeps each run's entry). A cell in
    several folders (the same cell_id) counts once: the last folder's row."""
    results = pd.concat([r.results for r in runs], ignore_index=True)
    curves = pd.concat([r.curves for r in runs], ignore_index=True)
    return Results(
        results=results.drop_duplicates("cell_id", keep="last", ignore_index=True),
        curves=curves.drop_duplicates(["cell_id", "step"], keep="last", ignore_index=True),
        provenance={"runs": [r.provenance for r in runs]},
        artifacts={k: v for r in runs for k, v in r.artifacts.items()},
    )


def _figure_bytes(fig: Figure) -> tuple[bytes, bytes]:
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
    fig.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(fig)
    return png.getvalue(), svg.getvalue()


DIGITS = {"reproduction": 6}  # significant digits of floats, by table (default 4): the
# reproduction table's re-runs sit beside numbers printed with up to 6 (2.59375, 1.00146)


def _table_markdown(table: pd.DataFrame, digits: int = 4) -> str:
    """Floats to `digits` significant digits (NaN blank); strings as they are. tabulate would
    parse a number-like string such as the study's "1.00146" and round it, hence
    disable_numparse."""
    shown = table.map(
        lambda v: ("" if v != v else f"{v:.{digits}g}") if isinstance(v, float) else v
    )
    return str(shown.to_markdown(index=False, disable_numparse=True))


WRAPPED = ("note", "reason", "command")  # long text: a last column of these wraps
WIDE = 12  # a table with more columns shows those that hold one value as a line above it


COMPACTED = ("errors_lu", "errors_qr", "errors_svd", "errors_rank-k", "errors_precond")
CSV_ONLY = ("time_iqr_s", "rel_err_fro_max")  # in a compacted table's CSV, not its page


def _compact(name: str, table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """A wide error table without its constant columns, and the line that states them (the
    CSV keeps every column). Other tables keep every column: a verdict stays a column."""
    if name not in COMPACTED or len(table.columns) <= WIDE or len(table) < 2:
        return table, ""
    constant = [c for c in table.columns[1:] if table[c].nunique(dropna=False) == 1]
    hidden = [c for c in CSV_ONLY if c in table.columns and c not in constant]
    lines = []
    if constant:
        shown = ", ".join(f"{c} {_plain(table[c].iloc[0])}" for c in constant)
        lines.append(f"Every row: {shown}.")
    if hidden:
        lines.append(f"The CSV adds {', '.join(hidden)}.")
    return table.drop(columns=constant + hidden), " ".join(lines)


def _plain(value: object) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.4g}"
    return str(value)


def _table_html(table: pd.DataFrame, digits: int = 4) -> str:
    wrap = len(table.columns) and table.columns[-1] in WRAPPED
    page = table.to_html(
        index=False,
        na_rep="",
        border=0,
        escape=True,
        float_format=lambda x: f"{x:.{digits}g}",
        classes="wrap-last" if wrap else None,
    )
    # headers such as solve_backward_err may break after an underscore, and long method names
    # such as neural-lu-study-final[optimizer=adagrad,lr=0.1] after a bracket or a comma
    page = re.sub(r"<th>([^<]*)</th>", lambda m: f"<th>{m[1].replace('_', '_<wbr>')}</th>", page)
    return re.sub(
        r"<td>([^<]*)</td>",
        lambda m: f"<td>{m[1].replace(',', ',<wbr>').replace('[', '[<wbr>')}</td>",
        page,
    )


def _provenance_html(provenance: dict) -> str:
    items = []
    for run in provenance.get("runs", []):
        versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
        devices = "; ".join(f"{k}: {v}" for k, v in run.get("devices", {}).items())
        items.append(
            "<li><code>{}</code><br>started {} finished {}; commit <code>{}</code>; "
            "{} thread(s); CPU {}; devices: {}; Python {} on {}<br>{}</li>".format(
                *(
                    html.escape(str(run.get(k, "?")))
                    for k in ("command", "started", "finished", "git_commit", "threads", "cpu")
                ),
                html.escape(devices),
                html.escape(str(run.get("python", "?"))),
                html.escape(str(run.get("platform", "?"))),
                html.escape(versions),
            )
        )
    return "<ul>" + "".join(items) + "</ul>"


def build_report(
    runs: list[Results], out: str | Path, *, history: pd.DataFrame | None = None
) -> Path:
    """Write the report for the combined results of `runs` into `out`; an asv history section
    is added when `history` (from `load_asv_results`) is given."""
    out = Path(out)
    res = combine(runs)
    tables = all_tables(res)
    if history is not None and not history.empty:
        tables["asv_history"] = history_table(history)
    for sub in ("tables", "figures"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    counts = res.results["status"].value_counts().to_dict()
    summary = f"{len(res.results)} cells: " + ", ".join(f"{v} {k}" for k, v in counts.items())
    md = ["# nnbench report", "", summary, "", STAND_INS, ""]
    body = [
        f"<h1>nnbench report</h1><p>{html.escape(summary)}</p>",
        f"<p>{html.escape(STAND_INS)}</p>",
    ]
    nav = []

    def table_section(name: str) -> None:
        table = tables[name]
        table.to_csv(out / "tables" / f"{name}.csv", index=False)
        title = TITLES.get(name, name)
        shown, constant = _compact(name, table)
        note = " ".join(filter(None, [NOTES.get(name, ""), constant]))
        digits = DIGITS.get(name, 4)
        md.extend(
            ["## " + title, "", *([note, ""] if note else []), _table_markdown(shown, digits)]
        )
        md.append("")
        inner = f'<div class="scroll">{_table_html(shown, digits)}</div>'
        if note:
            inner = f'<p class="note">{html.escape(note)}</p>{inner}'
        if name in COLLAPSED:
            inner = f"<details><summary>{len(table)} rows</summary>{inner}</details>"
        nav.append(f'<a href="#{name}">{html.escape(NAV.get(name, name))}</a>')
        body.append(
            f'<h2 id="{name}">{html.escape(title)}</h2>{inner}'
            f'<p><a href="tables/{name}.csv">CSV</a></p>'
        )

    for name in LEADING:
        if name in tables:
            table_section(name)
    body.append('<h2 id="figures">Figures</h2>')
    nav.append('<a href="#figures">Figures</a>')
    md.extend(["## Figures", ""])
    for spec in FIGURES:
        made = spec.make(res)
        if isinstance(made, Missing):
            body.append(
                f"<h3>{html.escape(spec.title)}</h3>"
                f'<p class="missing">Not shown: {html.escape(made.reason)}.</p>'
            )
            md.extend([f"### {spec.title}", "", f"*Not shown: {made.reason}.*", ""])
            continue
        parts = made if isinstance(made, list) else [(spec.name, made)]
        body.append(f"<h3>{html.escape(spec.title)}</h3>")
        md.extend([f"### {spec.title}", ""])
        for name, fig in parts:
            png, svg = _figure_bytes(fig)
            (out / "figures" / f"{name}.png").write_bytes(png)
            (out / "figures" / f"{name}.svg").write_bytes(svg)
            data = base64.b64encode(png).decode()
            body.append(
                f'<figure><img alt="{html.escape(name)}" '
                f'src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(spec.caption)} "
                f'(<a href="figures/{name}.svg">SVG</a>)</figcaption></figure>'
            )
            md.extend([f"![{name}](figures/{name}.png)", ""])
    for name in tables:
        if name not in LEADING:
            table_section(name)
    body.append(f'<h2 id="provenance">Provenance</h2>{_provenance_html(res.provenance)}')
    nav.append('<a href="#provenance">Provenance</a>')
    md.extend(["## Provenance", ""])
    for run in res.provenance["runs"]:
        md.append(
            f"- `{run.get('command', '?')}` at {run.get('started', '?')}, commit "
            f"`{str(run.get('git_commit', '?'))[:12]}`, {run.get('threads', '?')} "
            f"thread(s), CPU {run.get('cpu', '?')}, "
            f"torch {run.get('versions', {}).get('torch', '?')}"
        )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<title>nnbench report</title><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
        f"<nav>{''.join(nav)}</nav>{''.join(body)}</body></html>"
    )
    (out / "index.html").write_text(page)
    (out / "report.md").write_text("\n".join(md) + "\n")
    return out
