"""The one place the report writes files: index.html (self-contained), report.md,
tables/*.csv and figures/*.png (and *.svg on request)."""

from __future__ import annotations

import base64
import html
import io
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from nnbench.errors import NNBenchError
from nnbench.report.fairness import MACHINE, PAGE_HIDES, RATIO_NUMBERS, SOURCE, headline
from nnbench.report.figures import FIGURES
from nnbench.report.spec import FigureSpec, HeadlineSpec, Missing, NoteSpec, TableSpec
from nnbench.report.tables import HISTORY, TABLES, history_table
from nnbench.results import Results
from nnbench.results.table import umask

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
.headline{font-size:15px;max-width:75rem;border-left:4px solid #357;padding-left:.6rem}
table.wrap-last td:last-child{min-width:16rem;max-width:30rem;text-align:left}
"""


def combine(runs: list[Results]) -> Results:
    """Several results folders as one Results (provenance keeps each run's entry). A cell in
    several folders (the same cell_id) counts once: the last folder's row. Each row's `source`
    is its folder's place in `runs` (the verdict judges a problem within one run), its
    `machine` the machine that folder ran on (`machine`)."""
    results = _short_file_names(
        pd.concat(
            [
                r.results.assign(**{SOURCE: i, MACHINE: machine(r.provenance)})
                for i, r in enumerate(runs)
            ],
            ignore_index=True,
        )
    )
    # a folder without curves has an untyped empty table: concatenated, it would make the
    # loss column `object` (quantiles fail), so only non-empty curve tables are joined
    curves = pd.concat([r.curves for r in runs if len(r.curves)] or [runs[0].curves])
    curves = curves.reset_index(drop=True)
    return Results(
        results=results.drop_duplicates("cell_id", keep="last", ignore_index=True),
        curves=curves.drop_duplicates(["cell_id", "step"], keep="last", ignore_index=True),
        provenance={"runs": [r.provenance for r in runs]},
        artifacts={k: v for r in runs for k, v in r.artifacts.items()},
    )


def machine(provenance: dict) -> str:
    """The machine a run's times were measured on, from its provenance: CPU, threads, GPUs."""
    threads = provenance.get("threads", "?")
    gpus = [str(v) for k, v in provenance.get("devices", {}).items() if k != "cpu"]
    return ", ".join([f"CPU {provenance.get('cpu', '?')}", f"{threads} thread(s)", *gpus])


def _short_file_names(results: pd.DataFrame) -> pd.DataFrame:
    """A user's matrix `file:/long/path/coins.png` as `file:coins.png` (the figure titles and
    tables show it; the results folders keep the path), unless two paths share a name."""
    paths = results.matrix[results.matrix.str.startswith("file:")].unique()
    short = {p: "file:" + Path(p.removeprefix("file:")).name for p in paths}
    if len(set(short.values())) < len(short):
        return results
    return results.assign(matrix=results.matrix.replace(short)) if short else results


def _figure_bytes(fig: Figure, svg: bool) -> tuple[bytes, bytes | None]:
    """The figure as the page's PNG, and as SVG where asked for (encoding both doubled a
    report's figure time)."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
    vector = None
    if svg:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")
        vector = buffer.getvalue()
    plt.close(fig)
    return _palette_png(png.getvalue()), vector


Timings = MutableMapping[str, float]  # seconds per report section, filled as it is built


@contextmanager
def _timed(timings: Timings | None, name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def _palette_png(png: bytes) -> bytes:
    """The PNG with at most 256 colours (a figure's lines, text and grayscale pictures need
    no more): about a third of the bytes, so that the pages that embed them stay small; the
    SVG beside it keeps every colour. A figure all in greys (the image panels) is stored as
    8-bit grey, exactly and in about half the bytes of its palette."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    pixels = np.asarray(rgb)
    grey = bool(
        (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
    )
    small = rgb.convert("L") if grey else rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _blank_missing(table: pd.DataFrame) -> pd.DataFrame:
    """Every missing value (NaN, None, pd.NA, in any column) as a blank cell: a page shows
    no `nan`, `None` or `<NA>`. Float columns stay numbers (their formatter blanks NaN)."""
    shown = table.copy()
    for column in shown.columns:
        plain_float = isinstance(shown[column].dtype, np.dtype) and shown[column].dtype.kind == "f"
        if not plain_float and shown[column].isna().any():  # nullable Float64 too: <NA>
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
    return shown


def _table_markdown(table: pd.DataFrame, digits: int = 4) -> str:
    """Floats to `digits` significant digits (missing values blank); strings as they are.
    tabulate would parse a number-like string such as the study's "1.00146" and round it,
    hence disable_numparse."""
    shown = _blank_missing(table).map(
        lambda v: ("" if v != v else f"{v:.{digits}g}") if isinstance(v, float) else v
    )
    return str(shown.to_markdown(index=False, disable_numparse=True))


PAGE_ROWS = 200  # rows of a table on the page and in report.md (the CSV has them all)
WRAPPED = ("note", "reason", "command", "headline")  # long text: a last column of these wraps
WIDE = 12  # a table with more columns shows those that hold one value as a line above it

# a compact table's CSV, not its page
CSV_ONLY = ("time_iqr_s", "rel_err_fro_max", *PAGE_HIDES, *RATIO_NUMBERS)


def _compact(spec: TableSpec, table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """A compact table without its CSV_ONLY columns and, where it is wide, its constant
    columns, and the line that states them (the CSV keeps every column). Other tables keep
    every column: a reproduction verdict stays a column."""
    if not spec.compact:
        return table, ""
    wide = len(table.columns) > WIDE and len(table) >= 2
    constant = [c for c in table.columns[1:] if wide and table[c].nunique(dropna=False) == 1]
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
    page = _blank_missing(table).to_html(
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


def _plugins_text(run: dict) -> str:
    """A run's plug-ins: each file with its sha256, or module with its distribution."""
    shown = [
        f"{p.get('label', '?')} (sha256 {str(p.get('sha256', ''))[:12]})"
        for p in run.get("plugins", [])
    ]
    return f"plug-ins: {'; '.join(shown)}" if shown else ""


def _provenance_html(provenance: dict) -> str:
    """Each results folder, numbered as the tables' "results folder" column numbers them."""
    items = []
    for run in provenance.get("runs", []):
        versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
        devices = "; ".join(f"{k}: {v}" for k, v in run.get("devices", {}).items())
        folder = f"<code>{html.escape(run['folder'])}</code>: " if run.get("folder") else ""
        plugins = f"<br>{html.escape(_plugins_text(run))}" if run.get("plugins") else ""
        items.append(
            "<li>{}<code>{}</code><br>started {} finished {}; commit <code>{}</code>; "
            "{} thread(s); CPU {}; devices: {}; Python {} on {}<br>{}{}</li>".format(
                folder,
                *(
                    html.escape(str(run.get(k, "?")))
                    for k in ("command", "started", "finished", "git_commit", "threads", "cpu")
                ),
                html.escape(devices),
                html.escape(str(run.get("python", "?"))),
                html.escape(str(run.get("platform", "?"))),
                html.escape(versions),
                plugins,
            )
        )
    return "<ol>" + "".join(items) + "</ol>"


def build_report(
    runs: list[Results],
    out: str | Path,
    *,
    sections: Sequence[TableSpec | FigureSpec | NoteSpec | HeadlineSpec] = (),
    history: pd.DataFrame | None = None,
    svg: bool = False,
    timings: Timings | None = None,
) -> Path:
    """Write the report for the combined results of `runs` into `out`: the report's own
    tables and figures and the given `sections` (the studies': see
    `nnbench.studies.report_sections`), laid out as the headline (one sentence per task, from
    the verdict: `fairness.headline`), the cell count and the notes, leading tables, figures,
    other tables.
    An asv history section is added when `history` (from `load_asv_results`) is given.
    `svg` writes each figure as SVG too; `timings`, where given, gets the seconds each
    section took (its table or figure made, encoded and written) and "headline".

    The page is written to a temporary folder beside `out` and moved into place whole, so a
    failure leaves no half report and no file of an earlier build survives in `out`."""
    out = Path(out)
    check_report_folder(out)
    res = combine(runs)
    tables: list[TableSpec] = [
        *TABLES[:2],
        *(s for s in sections if isinstance(s, TableSpec)),
        *TABLES[2:],
    ]
    if history is not None and not history.empty:
        tables.append(replace(HISTORY, make=lambda _: history_table(history)))
    figures: list[FigureSpec] = [*FIGURES, *(s for s in sections if isinstance(s, FigureSpec))]
    notes = [s.text for s in sections if isinstance(s, NoteSpec) and s.applies(res)]
    with _timed(timings, "headline"):
        sentences = [  # first after the title: the verdict in words, then the studies' answers
            *headline(res.results),
            *(line for s in sections if isinstance(s, HeadlineSpec) for line in s.make(res)),
        ]
    names = [spec.name for spec in tables] + [spec.name for spec in figures]
    if len(set(names)) != len(names):
        shared = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"report sections share a name: {shared}")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o777 & ~umask())  # mkdtemp's folder is owner-only; a report is not
    try:
        _write(res, staging, tables, figures, notes, sentences, svg, timings)
        _replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def check_report_folder(out: Path) -> None:
    """Refuse, before any work, a report folder that cannot be one: an existing file, a path
    under a file, or a place this user cannot write."""
    parent = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if parent.is_file() or (out.exists() and not out.is_dir()):
        raise NNBenchError(
            f"report folder {str(out)!r} is a file or lies under one", "pass --out a folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NNBenchError(
            f"cannot write in {str(parent)!r}", "pass --out a folder you can write to"
        )


def _replace(staging: Path, out: Path) -> None:
    """`out` becomes `staging`: what the build wrote, and of an earlier `out` only what the
    report does not write (a results folder kept beside it, say)."""
    if out.exists():
        for name in (*WRITTEN, *(p.name for p in staging.iterdir())):
            old = out / name
            if old.is_dir():
                shutil.rmtree(old)
            elif old.exists():
                old.unlink()
        for item in out.iterdir():
            item.rename(staging / item.name)
        out.rmdir()
    staging.rename(out)


WRITTEN = ("tables", "figures", "index.html", "report.md")  # what a build owns in `out`


def _write(
    res: Results,
    out: Path,
    table_specs: list[TableSpec],
    figure_specs: list[FigureSpec],
    notes: list[str],
    sentences: list[str],
    svg: bool,
    timings: Timings | None,
) -> None:
    def made(spec: TableSpec) -> pd.DataFrame:
        with _timed(timings, spec.name):
            return spec.make(res)

    tables = {spec.name: (spec, made(spec)) for spec in table_specs}
    tables = {name: made for name, made in tables.items() if not made[1].empty}
    for sub in ("tables", "figures"):
        (out / sub).mkdir()

    counts = res.results["status"].value_counts().to_dict()
    runs = res.results.run.nunique() if "run" in res.results else 1
    repeated = f" ({runs} runs of each)" if runs > 1 else ""
    summary = f"{len(res.results)} cells{repeated}: " + ", ".join(
        f"{v} {k}" for k, v in counts.items()
    )
    md = [
        "# nnbench report",
        "",
        *(line for sentence in sentences for line in (sentence, "")),
        summary,
        "",
        *(line for note in notes for line in (note, "")),
    ]
    body = [
        "<h1>nnbench report</h1>",
        *(f'<p class="headline">{html.escape(sentence)}</p>' for sentence in sentences),
        f"<p>{html.escape(summary)}</p>",
        *(f"<p>{html.escape(note)}</p>" for note in notes),
    ]
    nav = []

    def table_section(spec: TableSpec, table: pd.DataFrame) -> None:
        name = spec.name
        table.to_csv(out / "tables" / f"{safe_name(name)}.csv", index=False)
        shown, constant = _compact(spec, table)
        cut = ""
        if len(shown) > PAGE_ROWS:  # a page a person reads; the CSV keeps every row
            shown = shown.head(PAGE_ROWS)
            cut = f"The page shows the first {PAGE_ROWS} of {len(table)} rows; the CSV has all."
        note = " ".join(filter(None, [spec.note, constant, cut]))
        md.extend(
            [
                "## " + spec.title,
                "",
                *([note, ""] if note else []),
                _table_markdown(shown, spec.digits),
                "",
            ]
        )
        inner = f'<div class="scroll">{_table_html(shown, spec.digits)}</div>'
        if note:
            inner = f'<p class="note">{html.escape(note)}</p>{inner}'
        if spec.collapsed:
            inner = f"<details><summary>{len(table)} rows</summary>{inner}</details>"
        nav.append(f'<a href="#{safe_name(name)}">{html.escape(spec.nav or name)}</a>')
        body.append(
            f'<h2 id="{safe_name(name)}">{html.escape(spec.title)}</h2>{inner}'
            f'<p><a href="tables/{safe_name(name)}.csv">CSV</a></p>'
        )

    for spec, table in tables.values():
        if spec.leading:
            table_section(spec, table)
    body.append('<h2 id="figures">Figures</h2>')
    nav.append('<a href="#figures">Figures</a>')
    md.extend(["## Figures", ""])
    missing: list[tuple[str, str]] = []
    for figure in figure_specs:
        with _timed(timings, figure.name):
            drawn = figure.make(res)
            if isinstance(drawn, Missing):
                if not figure.optional:
                    missing.append((figure.title, drawn.reason))
                continue
            parts = drawn if isinstance(drawn, list) else [(figure.name, drawn)]
            body.append(f"<h3>{html.escape(figure.title)}</h3>")
            md.extend([f"### {figure.title}", ""])
            for name, fig in parts:
                stem = safe_name(name)
                png, vector = _figure_bytes(fig, svg)
                (out / "figures" / f"{stem}.png").write_bytes(png)
                link = ""
                if vector is not None:
                    (out / "figures" / f"{stem}.svg").write_bytes(vector)
                    link = f' (<a href="figures/{stem}.svg">SVG</a>)'
                data = base64.b64encode(png).decode()
                body.append(
                    f'<figure><img alt="{html.escape(name)}" '
                    f'src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(figure.caption)}{link}</figcaption></figure>"
                )
                md.extend([f"![{name}](figures/{stem}.png)", ""])
    if missing:  # one line each, after the figures the run could draw
        items = "".join(
            f"<li>{html.escape(title)}: {html.escape(reason)}</li>" for title, reason in missing
        )
        body.append(
            f'<details class="missing"><summary>{len(missing)} figures need data this run '
            f"does not have</summary><ul>{items}</ul></details>"
        )
        md.extend(["Not drawn (no data in this run):", ""])
        md.extend([f"- {title}: {reason}." for title, reason in missing] + [""])
    for spec, table in tables.values():
        if not spec.leading:
            table_section(spec, table)
    body.append(f'<h2 id="provenance">Provenance</h2>{_provenance_html(res.provenance)}')
    nav.append('<a href="#provenance">Provenance</a>')
    md.extend(["## Provenance", ""])
    for number, run in enumerate(res.provenance["runs"], start=1):
        folder = f"`{run['folder']}`: " if run.get("folder") else ""
        plugins = f", {_plugins_text(run)}" if run.get("plugins") else ""
        md.append(
            f"{number}. {folder}`{run.get('command', '?')}` at {run.get('started', '?')}, commit "
            f"`{str(run.get('git_commit', '?'))[:12]}`, {run.get('threads', '?')} "
            f"thread(s), CPU {run.get('cpu', '?')}, "
            f"torch {run.get('versions', {}).get('torch', '?')}{plugins}"
        )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<title>nnbench report</title><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
        f"<nav>{''.join(nav)}</nav>{''.join(body)}</body></html>"
    )
    (out / "index.html").write_text(page)
    (out / "report.md").write_text("\n".join(md) + "\n")


def safe_name(name: str) -> str:
    """`name` as a file name and an HTML anchor: characters other than letters, digits,
    '.', '_' and '-' become '_' (a file: matrix's path has '/' and ':')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
